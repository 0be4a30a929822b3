package main

import (
	"fmt"
	"time"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Defaults of the optional settings.
const (
	defaultAttemptTimeout = 30 * time.Second
	maxAttemptTimeout     = 50 * time.Second // below the function's 60 s timeout
	defaultRunWait        = time.Hour
	maxRunWait            = 168 * time.Hour
)

// config is the dispatcher's environment.
type config struct {
	Table              string // HOOKS_TABLE
	RetryQueueURL      string // HOOKS_RETRY_QUEUE_URL
	AlertQueueURL      string // HOOKS_ALERT_QUEUE_URL
	DeadLetterQueueURL string // HOOKS_DEAD_LETTER_QUEUE_URL: where malformed messages go
	// The event source ARNs of the two queues the function consumes: load
	// messages are accepted only from the first, retry messages only from
	// the second.
	NotificationsQueueARN string            // HOOKS_NOTIFICATIONS_QUEUE_ARN
	RetryQueueARN         string            // HOOKS_RETRY_QUEUE_ARN
	Schedule              delivery.Schedule // HOOKS_RETRY_DELAYS
	AttemptTimeout        time.Duration     // HOOKS_ATTEMPT_TIMEOUT
	AllowPrivate          bool              // HOOKS_ALLOW_PRIVATE_TARGETS (local runs and tests only)
	ExtraCAFile           string            // HOOKS_EXTRA_CA_FILE (local runs and tests only)
	// Probes of hooks disabled for failing, and the pace of the replay
	// after a recovery (health.go).
	Probes     hook.ProbeSchedule // HOOKS_PROBE_DELAYS, HOOKS_PROBE_FOR
	ReplayRate int                // HOOKS_REPLAY_RATE
	// ReplaySettle is how long the replay waits after the re-enable
	// before it reads the index of deliveries (replaySettle).
	ReplaySettle time.Duration
	// RunWait is how long after its first table notification a run waits
	// for the missing ones before its summary is sent without them
	// (run.go).
	RunWait time.Duration // HOOKS_RUN_WAIT
}

// loadConfig reads the environment through getenv and reports every
// problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	env := coldstart.NewEnv(getenv)
	c := config{
		Table:                 env.Required("HOOKS_TABLE"),
		RetryQueueURL:         env.Required("HOOKS_RETRY_QUEUE_URL"),
		AlertQueueURL:         env.Required("HOOKS_ALERT_QUEUE_URL"),
		DeadLetterQueueURL:    env.Required("HOOKS_DEAD_LETTER_QUEUE_URL"),
		NotificationsQueueARN: env.Required("HOOKS_NOTIFICATIONS_QUEUE_ARN"),
		RetryQueueARN:         env.Required("HOOKS_RETRY_QUEUE_ARN"),
		AttemptTimeout:        defaultAttemptTimeout,
		AllowPrivate:          env.Bool("HOOKS_ALLOW_PRIVATE_TARGETS"),
		ExtraCAFile:           env.String("HOOKS_EXTRA_CA_FILE", ""),
		RunWait:               defaultRunWait,
	}
	s, err := delivery.ParseSchedule(env.String("HOOKS_RETRY_DELAYS", delivery.DefaultRetryDelays))
	if err != nil {
		env.Invalid("HOOKS_RETRY_DELAYS", err)
	}
	c.Schedule = s
	loadHealthConfig(env, &c)
	if v := env.String("HOOKS_ATTEMPT_TIMEOUT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxAttemptTimeout {
			env.Invalid("HOOKS_ATTEMPT_TIMEOUT", fmt.Errorf("%q is not a duration in (0, %v]", v, maxAttemptTimeout))
		} else {
			c.AttemptTimeout = d
		}
	}
	if v := env.String("HOOKS_RUN_WAIT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxRunWait {
			env.Invalid("HOOKS_RUN_WAIT", fmt.Errorf("%q is not a duration in (0, %v]", v, maxRunWait))
		} else {
			c.RunWait = d
		}
	}
	if err := env.Err(); err != nil {
		return config{}, err
	}
	return c, nil
}
