package main

import (
	"errors"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/probeenv"
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
	// alertQueueURL is the alerts queue itself (HOOKS_ALERT_QUEUE_URL),
	// where the alerter puts its delayed digest messages.
	alertQueueURL string
	// digestWindow is how long the window opened by a hook's first
	// exhausted delivery lasts (HOOKS_DIGEST_WINDOW, 1h when unset). Zero
	// ("0", for tests that count one email per delivery, or no
	// HOOKS_ALERT_QUEUE_URL) turns digests off: every exhausted delivery
	// is mailed at once.
	digestWindow time.Duration
	// appURL is the web app's origin (HOOKS_APP_URL): the emails link to
	// the app and carry unsubscribe links to it.
	appURL string
	// unsubscribeKey signs the unsubscribe links (HOOKS_UNSUBSCRIBE_KEY, at
	// least 32 bytes; the API function holds the same key to check them).
	// The emails carry links only when both it and HOOKS_APP_URL are set.
	unsubscribeKey []byte
	// retryQueueURL is the dispatcher's retry queue
	// (HOOKS_RETRY_QUEUE_URL), where the alerter queues the first probe of
	// a hook it disabled for failing and the freshness check its
	// load_overdue event notifications. Unset turns both off.
	retryQueueURL string
	// autoDisable is when a failing hook is disabled
	// (HOOKS_AUTO_DISABLE_AFTER, default 120h;
	// HOOKS_AUTO_DISABLE_MIN_EXHAUSTED, default 10).
	autoDisable hook.AutoDisable
	// probes is the dispatcher's probe schedule (HOOKS_PROBE_DELAYS,
	// default 1m,5m,30m,2h; HOOKS_PROBE_FOR, default 72h), named in the
	// disable email: set both to the dispatcher's values.
	probes hook.ProbeSchedule
	// checkEvery is how often the schedule runs the freshness check
	// (HOOKS_FRESHNESS_CHECK_EVERY, default 1m): a check that has run
	// that long leaves the accounts it has not reached to the next one.
	checkEvery time.Duration
}

// loadConfig reads the configuration, reporting every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	env := coldstart.NewEnv(getenv)
	c := config{
		table: env.Required("HOOKS_TABLE"),
		from:  strings.TrimSpace(env.Required("ALERT_FROM_ADDRESS")),

		alertQueueARN: env.Required("HOOKS_ALERT_QUEUE_ARN"),
		deadLetterURL: env.Required("HOOKS_ALERTS_DLQ_URL"),
		alertQueueURL: env.String("HOOKS_ALERT_QUEUE_URL", ""),
		appURL:        strings.TrimRight(env.String("HOOKS_APP_URL", ""), "/"),
		retryQueueURL: env.String("HOOKS_RETRY_QUEUE_URL", ""),
		autoDisable:   hook.AutoDisable{After: hook.DefaultAutoDisableAfter, MinExhausted: hook.DefaultAutoDisableMinExhausted},
		checkEvery:    time.Minute,
	}
	if s := env.String("HOOKS_AUTO_DISABLE_AFTER", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			env.Invalid("HOOKS_AUTO_DISABLE_AFTER", errors.New("want a positive duration such as 120h"))
		}
		c.autoDisable.After = d
	}
	if s := env.String("HOOKS_AUTO_DISABLE_MIN_EXHAUSTED", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			env.Invalid("HOOKS_AUTO_DISABLE_MIN_EXHAUSTED", errors.New("want a positive integer such as 10"))
		}
		c.autoDisable.MinExhausted = n
	}
	c.probes = probeenv.Load(env)
	if s := env.String("HOOKS_FRESHNESS_CHECK_EVERY", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			env.Invalid("HOOKS_FRESHNESS_CHECK_EVERY", errors.New("want a duration of at least 1s such as 1m"))
		}
		c.checkEvery = d
	}
	key := env.String("HOOKS_UNSUBSCRIBE_KEY", "")
	if _, err := optout.NewSigner([]byte(key)); key != "" && err != nil {
		env.Invalid("HOOKS_UNSUBSCRIBE_KEY", err)
	}
	if key != "" {
		c.unsubscribeKey = []byte(key)
	}
	if c.appURL != "" {
		if u, err := url.Parse(c.appURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			env.Invalid("HOOKS_APP_URL", errors.New("want an origin such as https://hooks.example.com"))
		}
	}
	if w, err := time.ParseDuration(env.String("HOOKS_DIGEST_WINDOW", delivery.DefaultDigestWindow.String())); err != nil || w < 0 {
		env.Invalid("HOOKS_DIGEST_WINDOW", errors.New("want a duration such as 1h (0 turns digests off)"))
	} else if c.alertQueueURL != "" {
		// Without its own queue the alerter cannot wait for a window's
		// end: digests stay off.
		c.digestWindow = w
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
