// Package coldstart is what every function of the service does once per
// cold start before it serves: read its environment, build its logger and
// load the AWS SDK configuration.
//
// Env reads variables through an injected getenv and collects every missing
// or invalid one, so a function's loadConfig reports all its problems at
// once. NewLogger gives the same JSON log shape in Lambda and in local runs.
// AWSConfig loads the SDK's default configuration, endpoints included (the
// SDK's own AWS_ENDPOINT_URL_* variables).
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
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
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

// AWSConfig loads the SDK's default configuration (region, credentials and
// AWS_ENDPOINT_URL_* endpoints from the environment), for the clients a
// function builds once per cold start.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
