package main

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// config is the alerter's configuration, read from the environment.
type config struct {
	// table is the DynamoDB table (HOOKS_TABLE).
	table string
	// from is the sender of every alert (ALERT_FROM_ADDRESS), an address
	// or "Name <address>" of an SES-verified identity.
	from string
}

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
	c.from = strings.TrimSpace(getenv("ALERT_FROM_ADDRESS"))
	if c.from == "" {
		missing = append(missing, "ALERT_FROM_ADDRESS")
	} else if _, err := mail.ParseAddress(c.from); err != nil {
		problems = append(problems, errors.New("ALERT_FROM_ADDRESS: not an email address"))
	}
	if len(missing) > 0 {
		problems = append([]error{fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))}, problems...)
	}
	if err := errors.Join(problems...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
