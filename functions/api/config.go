package main

import (
	"strings"

	"github.com/postloadhooks/hooks/shared/coldstart"
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
	// appURL is the web app's origin, where sign-in links point
	// (HOOKS_APP_URL). Unset: the API's own origin (in Lambda the domain
	// API Gateway served the request on; locally http://<addr>).
	appURL string
	// signInFrom is the From address of sign-in emails
	// (ALERT_FROM_ADDRESS, the alerter's sender). Unset: no sign-in email
	// is sent (each request is logged as not sent).
	signInFrom string
}

const defaultAPIAddr = "127.0.0.1:3000"

// loadConfig reads the configuration, reporting every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	env := coldstart.NewEnv(getenv)
	c := config{
		table:        env.Required("HOOKS_TABLE"),
		allowPrivate: env.Bool("HOOKS_ALLOW_PRIVATE_TARGETS"),
		lambda:       env.String("AWS_LAMBDA_RUNTIME_API", "") != "",
		appURL:       strings.TrimRight(env.String("HOOKS_APP_URL", ""), "/"),
		signInFrom:   env.String("ALERT_FROM_ADDRESS", ""),
	}
	if !c.lambda {
		c.addr = env.String("HOOKS_API_ADDR", defaultAPIAddr)
		c.adminToken = env.String("HOOKS_ADMIN_TOKEN", "")
		if c.appURL == "" {
			c.appURL = "http://" + c.addr
		}
	}
	if err := env.Err(); err != nil {
		return config{}, err
	}
	return c, nil
}
