package main

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/postloadhooks/hooks/shared/coldstart"
)

// config is the alerter's configuration, read from the environment.
type config struct {
	// table is the DynamoDB table (HOOKS_TABLE).
	table string
	// from is the sender of every alert (ALERT_FROM_ADDRESS), an address
	// or "Name <address>" of an SES-verified identity.
	from string
	// alertQueueARN is the event source ARN of the alerts queue
	// (HOOKS_ALERT_QUEUE_ARN): records of any other source are refused.
	alertQueueARN string
	// deadLetterURL is the alerts queue's dead-letter queue
	// (HOOKS_ALERTS_DLQ_URL), where malformed records go with their reason.
	deadLetterURL string
}

// loadConfig reads the configuration, reporting every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	env := coldstart.NewEnv(getenv)
	c := config{
		table: env.Required("HOOKS_TABLE"),
		from:  strings.TrimSpace(env.Required("ALERT_FROM_ADDRESS")),

		alertQueueARN: env.Required("HOOKS_ALERT_QUEUE_ARN"),
		deadLetterURL: env.Required("HOOKS_ALERTS_DLQ_URL"),
	}
	if c.from != "" {
		if _, err := mail.ParseAddress(c.from); err != nil {
			env.Invalid("ALERT_FROM_ADDRESS", errors.New("not an email address"))
		}
	}
	if err := env.Err(); err != nil {
		return config{}, err
	}
	return c, nil
}
