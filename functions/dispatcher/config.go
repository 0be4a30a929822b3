package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Defaults of the optional settings.
const (
	defaultAttemptTimeout = 30 * time.Second
	maxAttemptTimeout     = 50 * time.Second // below the function's 60 s timeout
)

// config is the dispatcher's environment.
type config struct {
	Table              string            // HOOKS_TABLE
	RetryQueueURL      string            // HOOKS_RETRY_QUEUE_URL
	AlertQueueURL      string            // HOOKS_ALERT_QUEUE_URL
	DeadLetterQueueURL string            // HOOKS_DEAD_LETTER_QUEUE_URL: where malformed messages go
	Schedule           delivery.Schedule // HOOKS_RETRY_DELAYS
	AttemptTimeout     time.Duration     // HOOKS_ATTEMPT_TIMEOUT
	AllowPrivate       bool              // HOOKS_ALLOW_PRIVATE_TARGETS (local runs and tests only)
	ExtraCAFile        string            // HOOKS_EXTRA_CA_FILE (local runs and tests only)
}

// loadConfig reads the environment through getenv and reports every
// problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	required := func(name string) string {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
		return v
	}
	c := config{
		Table:              required("HOOKS_TABLE"),
		RetryQueueURL:      required("HOOKS_RETRY_QUEUE_URL"),
		AlertQueueURL:      required("HOOKS_ALERT_QUEUE_URL"),
		DeadLetterQueueURL: required("HOOKS_DEAD_LETTER_QUEUE_URL"),
		AttemptTimeout:     defaultAttemptTimeout,
		ExtraCAFile:        getenv("HOOKS_EXTRA_CA_FILE"),
	}
	delays := getenv("HOOKS_RETRY_DELAYS")
	if delays == "" {
		delays = delivery.DefaultRetryDelays
	}
	s, err := delivery.ParseSchedule(delays)
	if err != nil {
		errs = append(errs, fmt.Errorf("HOOKS_RETRY_DELAYS: %w", err))
	}
	c.Schedule = s
	if v := getenv("HOOKS_ATTEMPT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxAttemptTimeout {
			errs = append(errs, fmt.Errorf("HOOKS_ATTEMPT_TIMEOUT: %q is not a duration in (0, %v]", v, maxAttemptTimeout))
		} else {
			c.AttemptTimeout = d
		}
	}
	if v := getenv("HOOKS_ALLOW_PRIVATE_TARGETS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKS_ALLOW_PRIVATE_TARGETS: %q is not a boolean", v))
		}
		c.AllowPrivate = b
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("dispatcher configuration: %w", err)
	}
	return c, nil
}
