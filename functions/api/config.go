package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// config is the api function's configuration, read from the environment.
type config struct {
	// table is the DynamoDB table (HOOKS_TABLE).
	table string
	// allowPrivate accepts loopback and private hook targets
	// (HOOKS_ALLOW_PRIVATE_TARGETS; local runs and tests only).
	allowPrivate bool
	// lambda is true when running inside Lambda (AWS_LAMBDA_RUNTIME_API set);
	// otherwise the function serves HTTP itself.
	lambda bool
	// addr is where the local HTTP server listens (HOOKS_API_ADDR).
	addr string
	// adminToken is the bearer token of the admin routes in local mode
	// (HOOKS_ADMIN_TOKEN). Empty refuses every admin request. Not read in
	// Lambda mode, where admin routes require IAM authorization instead.
	adminToken string
}

const defaultAPIAddr = "127.0.0.1:3000"

// loadConfig reads the configuration, reporting every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var (
		c        config
		problems []error
		missing  []string
	)
	c.table = getenv("HOOKS_TABLE")
	if c.table == "" {
		missing = append(missing, "HOOKS_TABLE")
	}
	if v := getenv("HOOKS_ALLOW_PRIVATE_TARGETS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("HOOKS_ALLOW_PRIVATE_TARGETS: %q is not a boolean", v))
		}
		c.allowPrivate = b
	}
	c.lambda = getenv("AWS_LAMBDA_RUNTIME_API") != ""
	if !c.lambda {
		c.addr = getenv("HOOKS_API_ADDR")
		if c.addr == "" {
			c.addr = defaultAPIAddr
		}
		c.adminToken = getenv("HOOKS_ADMIN_TOKEN")
	}
	if len(missing) > 0 {
		problems = append([]error{fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))}, problems...)
	}
	if err := errors.Join(problems...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
