package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/signin"
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
	// secretOverlap is how long a rotated-out signing secret still signs
	// every request (HOOKS_SECRET_OVERLAP, default 24h; tests and local
	// runs shorten it).
	secretOverlap time.Duration
	// signInLinkTTL is how long a sign-in link can be used
	// (HOOKS_SIGNIN_LINK_TTL, default and at most 15m; tests and local runs
	// shorten it).
	signInLinkTTL time.Duration
	// freshnessMin is the shortest max_interval a freshness rule may have
	// (HOOKS_FRESHNESS_MIN_INTERVAL, default 5m; tests and local runs
	// shorten it).
	freshnessMin time.Duration
	// extraCAFile names a PEM file of roots a test notification trusts
	// besides the system's (HOOKS_EXTRA_CA_FILE; local runs and tests only).
	extraCAFile string
	// unsubscribeKey checks the unsubscribe links of alert emails with the
	// alerter's key (HOOKS_UNSUBSCRIBE_KEY, at least 32 bytes). Unset: every
	// link is refused.
	unsubscribeKey []byte
	// cursorKey seals the delivery history's cursors (HOOKS_CURSOR_KEY, at
	// least 32 bytes). Unset: a random key of this process, so a cursor
	// works only where it was made (local runs and tests).
	cursorKey []byte
	// retryQueueURL is the dispatcher's retry queue, where a resend queues
	// the message that starts the fresh sequence (HOOKS_RETRY_QUEUE_URL;
	// unset: every resend fails with a logged 500).
	retryQueueURL string
	// replayRate is how many replayed deliveries start each second
	// (HOOKS_REPLAY_RATE, default 10).
	replayRate int
}

const defaultAPIAddr = "127.0.0.1:3000"

// loadConfig reads the configuration, reporting every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	env := coldstart.NewEnv(getenv)
	c := config{
		table:         env.Required("HOOKS_TABLE"),
		allowPrivate:  env.Bool("HOOKS_ALLOW_PRIVATE_TARGETS"),
		lambda:        env.String("AWS_LAMBDA_RUNTIME_API", "") != "",
		appURL:        strings.TrimRight(env.String("HOOKS_APP_URL", ""), "/"),
		signInFrom:    env.String("ALERT_FROM_ADDRESS", ""),
		extraCAFile:   env.String("HOOKS_EXTRA_CA_FILE", ""),
		retryQueueURL: env.String("HOOKS_RETRY_QUEUE_URL", ""),
	}
	rate, err := strconv.Atoi(env.String("HOOKS_REPLAY_RATE", strconv.Itoa(defaultReplayRate)))
	if err != nil || rate < 1 {
		env.Invalid("HOOKS_REPLAY_RATE", fmt.Errorf("want a positive whole number of deliveries per second"))
	}
	c.replayRate = rate
	overlap, err := time.ParseDuration(env.String("HOOKS_SECRET_OVERLAP", hook.SecretOverlap.String()))
	if err != nil || overlap <= 0 {
		env.Invalid("HOOKS_SECRET_OVERLAP", fmt.Errorf("want a positive duration such as 24h"))
	}
	c.secretOverlap = overlap
	ttl, err := time.ParseDuration(env.String("HOOKS_SIGNIN_LINK_TTL", signin.LinkTTL.String()))
	if err != nil || ttl < time.Second || ttl > signin.LinkTTL {
		env.Invalid("HOOKS_SIGNIN_LINK_TTL", fmt.Errorf("want a duration from 1s up to 15m such as 2m"))
	}
	c.signInLinkTTL = ttl
	fmin, err := time.ParseDuration(env.String("HOOKS_FRESHNESS_MIN_INTERVAL", hook.FormatInterval(hook.FreshnessMinInterval)))
	if err != nil || fmin <= 0 || fmin > hook.MaxFreshnessInterval {
		env.Invalid("HOOKS_FRESHNESS_MIN_INTERVAL", fmt.Errorf("want a positive duration up to 168h such as 5m"))
	}
	c.freshnessMin = fmin
	if key := env.String("HOOKS_UNSUBSCRIBE_KEY", ""); key != "" {
		if _, err := optout.NewSigner([]byte(key)); err != nil {
			env.Invalid("HOOKS_UNSUBSCRIBE_KEY", err)
		}
		c.unsubscribeKey = []byte(key)
	}
	if key := env.String("HOOKS_CURSOR_KEY", ""); key != "" {
		if _, err := newCursorSeal([]byte(key)); err != nil {
			env.Invalid("HOOKS_CURSOR_KEY", err)
		}
		c.cursorKey = []byte(key)
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
