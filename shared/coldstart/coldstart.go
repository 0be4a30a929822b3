// Package coldstart is what every function of the service does once per
// cold start before it serves: read its environment, build its logger and
// load the AWS SDK configuration.
//
// Env reads variables through an injected getenv and collects every missing
// or invalid one, so a function's loadConfig reports all its problems at
// once. NewLogger gives the same JSON log shape in Lambda and in local runs.
// AWSConfig builds the SDK configuration from the environment alone, as
// Lambda provides it (region, credentials, the SDK's own AWS_ENDPOINT_URL_*
// endpoints), with an HTTP client that keeps enough connections alive for a
// function's concurrent calls.
//
// It does not decide which variables a function needs or what their values
// mean beyond "set", "a boolean" or "a default": each function's config.go
// does. It reads the environment only through the getenv it is given
// (lambdacontext's logger reads AWS_LAMBDA_LOG_LEVEL itself).
package coldstart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// Env reads configuration variables through getenv and remembers every
// problem, in the order met. It is not safe for concurrent use (loadConfig
// runs once).
type Env struct {
	getenv   func(string) string
	missing  []string
	problems []error
}

// NewEnv returns an Env reading through getenv (os.Getenv in production).
func NewEnv(getenv func(string) string) *Env {
	return &Env{getenv: getenv}
}

// Required returns the variable's value, recording it as missing when it
// is unset, empty or only white space.
func (e *Env) Required(name string) string {
	v := e.getenv(name)
	if strings.TrimSpace(v) == "" {
		e.missing = append(e.missing, name)
	}
	return v
}

// String returns the variable's value, or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// Bool returns the variable as a strconv.ParseBool boolean: false when it is
// unset or empty, and false with a recorded problem when it is not a
// boolean.
func (e *Env) Bool(name string) bool {
	v := e.getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.Invalid(name, fmt.Errorf("%q is not a boolean", v))
		return false
	}
	return b
}

// Invalid records that the variable's value is unusable, for checks only
// the function knows (a duration's bounds, an email address).
func (e *Env) Invalid(name string, err error) {
	e.problems = append(e.problems, fmt.Errorf("%s: %w", name, err))
}

// Err is nil when every variable read so far was fine. Otherwise it names
// every missing variable in one line, then each invalid one.
func (e *Env) Err() error {
	problems := e.problems
	if len(e.missing) > 0 {
		missing := fmt.Errorf("missing environment variables: %s", strings.Join(e.missing, ", "))
		problems = append([]error{missing}, problems...)
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// NewLogger returns the function's JSON logger. When Lambda's LoggingConfig
// asks for JSON (AWS_LAMBDA_LOG_FORMAT=JSON, also set by aws-lambda-rie runs
// and scripts/dev) it is lambdacontext's logger: stdout, the configured
// AWS_LAMBDA_LOG_LEVEL and requestId on every ...Context call. Otherwise
// (the api's local HTTP mode, tests) it writes JSON to w with the same keys
// (timestamp, level, message).
func NewLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	if getenv("AWS_LAMBDA_LOG_FORMAT") == "JSON" {
		return lambdacontext.NewLogger()
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
}

// sdkLoggerFor routes the AWS SDK's own log lines (retry notes, checksum
// warnings) to log, so they are JSON like every other line of the function
// and carry the invocation's requestId when the SDK passes its context.
func sdkLoggerFor(log *slog.Logger) logging.Logger {
	return sdkLogger{log: log, ctx: context.Background()}
}

type sdkLogger struct {
	log *slog.Logger
	ctx context.Context
}

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelInfo
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(l.ctx, level, "aws sdk", "detail", fmt.Sprintf(format, v...))
}

// WithContext implements logging.ContextLogger.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{log: l.log, ctx: ctx}
}

// MaxIdleConnsPerHost is how many connections to one AWS endpoint the SDK
// clients keep alive between calls: the most store calls a function makes at
// once (the dispatcher runs up to 100 deliveries in parallel, each claiming
// and recording against DynamoDB). The SDK's default, 10, makes a busy batch
// open a new TLS connection for most calls.
const MaxIdleConnsPerHost = 100

// ErrNoAWSEnv means the environment lacks the region or the credentials
// every function needs (Lambda always sets both).
var ErrNoAWSEnv = errors.New("AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")

// AWSConfig returns the SDK configuration of a function, built from the
// environment as the SDK's config.NewEnvConfig reads it (readAWSEnv): region,
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN:
// what Lambda gives a function), the SDK's retry and app id settings, and
// endpoints: AWS_ENDPOINT_URL and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS here,
// AWS_ENDPOINT_URL_<SERVICE> by each service client itself, from the
// endpointSource in ConfigSources (exactly as with config.LoadDefaultConfig).
//
// It deliberately does not use config.LoadDefaultConfig, nor the config
// package at all: that links the shared-config-file, SSO, STS web identity,
// container and EC2 metadata credential chains, about 2 MiB of every
// bootstrap and file reads at each cold start, none of which a Lambda
// function uses. So AWS_PROFILE and ~/.aws files are not read: set the
// variables (scripts/dev and the tests do). Missing region or credentials
// fail here, at the cold start, with ErrNoAWSEnv rather than at the first
// call: a function moved to where credentials come from a container
// endpoint (SnapStart, ECS) would say so at once and need
// config.LoadDefaultConfig back.
func AWSConfig(ctx context.Context, log *slog.Logger) (aws.Config, error) {
	env, err := readAWSEnv(os.Getenv)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if env.Region == "" || !env.Credentials.HasKeys() {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", ErrNoAWSEnv)
	}
	cfg := aws.Config{
		Region:      env.Region,
		Credentials: credentials.StaticCredentialsProvider{Value: env.Credentials, Source: []aws.CredentialSource{aws.CredentialSourceEnvVars}},
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
			t.MaxIdleConns = 2 * MaxIdleConnsPerHost // DynamoDB and SQS share the client
		}),
		Logger:           sdkLoggerFor(log),
		RetryMaxAttempts: env.RetryMaxAttempts,
		RetryMode:        env.RetryMode,
		AppID:            env.AppID,
		// The service clients resolve AWS_ENDPOINT_URL_<SERVICE> (and
		// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) from these sources.
		ConfigSources: []any{endpointSource{getenv: os.Getenv, ignore: env.IgnoreConfiguredEndpoints}},
	}
	if env.BaseEndpoint != "" && (env.IgnoreConfiguredEndpoints == nil || !*env.IgnoreConfiguredEndpoints) {
		cfg.BaseEndpoint = aws.String(env.BaseEndpoint)
	}
	return cfg, nil
}
