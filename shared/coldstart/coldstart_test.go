package coldstart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
)

func getenvOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// read is what a loadConfig reads in the tests below.
type read struct {
	Table, Queue, Addr string
	Private            bool
}

func readAll(e *Env) read {
	return read{
		Table:   e.Required("TABLE"),
		Queue:   e.Required("QUEUE"),
		Addr:    e.String("ADDR", "127.0.0.1:3000"),
		Private: e.Bool("PRIVATE"),
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    read
		wantErr string // the whole error text; "" for none
	}{
		{
			name: "defaults",
			env:  map[string]string{"TABLE": "t", "QUEUE": "q"},
			want: read{Table: "t", Queue: "q", Addr: "127.0.0.1:3000"},
		},
		{
			name: "everything set",
			env:  map[string]string{"TABLE": "t", "QUEUE": "q", "ADDR": ":9", "PRIVATE": "true"},
			want: read{Table: "t", Queue: "q", Addr: ":9", Private: true},
		},
		{
			name: "booleans as strconv reads them",
			env:  map[string]string{"TABLE": "t", "QUEUE": "q", "PRIVATE": "1"},
			want: read{Table: "t", Queue: "q", Addr: "127.0.0.1:3000", Private: true},
		},
		{
			name:    "every problem at once, missing ones in read order",
			env:     map[string]string{"QUEUE": " \t", "PRIVATE": "yes please"},
			want:    read{Queue: " \t", Addr: "127.0.0.1:3000"},
			wantErr: "config: missing environment variables: TABLE, QUEUE\nPRIVATE: \"yes please\" is not a boolean",
		},
		{
			name:    "only invalid",
			env:     map[string]string{"TABLE": "t", "QUEUE": "q", "PRIVATE": "maybe"},
			want:    read{Table: "t", Queue: "q", Addr: "127.0.0.1:3000"},
			wantErr: "config: PRIVATE: \"maybe\" is not a boolean",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEnv(getenvOf(tt.env))
			got := readAll(e)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("values (-got +want):\n%s", diff)
			}
			err := e.Err()
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Err() = %q, want %q", gotErr, tt.wantErr)
			}
		})
	}
}

func TestEnvInvalidWraps(t *testing.T) {
	sentinel := errors.New("out of range")
	e := NewEnv(getenvOf(nil))
	e.Invalid("TIMEOUT", sentinel)
	err := e.Err()
	if !errors.Is(err, sentinel) {
		t.Fatalf("Err() = %v, want it to wrap the recorded error", err)
	}
	if got, want := err.Error(), "config: TIMEOUT: out of range"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
}

func TestNewLoggerLocal(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(getenvOf(nil), &buf)
	log.Info("listening", "addr", "127.0.0.1:3000")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q is not JSON: %v", buf.String(), err)
	}
	// Lambda's key names, so local and Lambda logs read the same.
	for _, k := range []string{"timestamp", "level", "message", "addr"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log line %s lacks %q", buf.String(), k)
		}
	}
	if line["message"] != "listening" {
		t.Errorf("message = %v, want listening", line["message"])
	}
}

func TestNewLoggerLambdaJSON(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(getenvOf(map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON"}), &buf)
	log.Info("ignored by w")
	if buf.Len() != 0 {
		t.Errorf("Lambda logger wrote to w: %q (it must use lambdacontext's stdout logger)", buf.String())
	}
}

// awsEndpoint is an HTTP server standing in for an AWS endpoint: it counts
// requests and new connections, and answers every request with an empty
// JSON object (a valid answer to DynamoDB's ListTables and SQS's ListQueues).
type awsEndpoint struct {
	*httptest.Server
	requests, conns atomic.Int64
	// hold, when set, makes every request wait for it to be closed.
	hold chan struct{}
}

func newAWSEndpoint(t *testing.T) *awsEndpoint {
	t.Helper()
	e := &awsEndpoint{}
	e.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		if e.hold != nil {
			<-e.hold
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte("{}"))), 10)) // DynamoDB checks it
		io.WriteString(w, "{}")
	}))
	e.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.conns.Add(1)
		}
	}
	e.Start()
	t.Cleanup(e.Close)
	return e
}

// setAWSEnv clears every variable AWSConfig reads, then sets env.
func setAWSEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestAWSConfigEndpoints(t *testing.T) {
	ddb, sq, global := newAWSEndpoint(t), newAWSEndpoint(t), newAWSEndpoint(t)
	creds := map[string]string{"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
	with := func(more map[string]string) map[string]string {
		env := maps.Clone(creds)
		maps.Copy(env, more)
		return env
	}
	tests := []struct {
		name             string
		env              map[string]string
		wantDDB, wantSQS *awsEndpoint
	}{
		{"per service", with(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": ddb.URL, "AWS_ENDPOINT_URL_SQS": sq.URL}), ddb, sq},
		{"global, one service overridden", with(map[string]string{"AWS_ENDPOINT_URL": global.URL, "AWS_ENDPOINT_URL_SQS": sq.URL}), global, sq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setAWSEnv(t, tt.env)
			cfg, err := AWSConfig(context.Background(), discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != "eu-west-3" {
				t.Errorf("Region = %q, want eu-west-3", cfg.Region)
			}
			ours := []*awsEndpoint{ddb, sq, global}
			before := make([]int64, len(ours))
			for i, e := range ours {
				before[i] = e.requests.Load()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, ddbErr := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }).ListTables(ctx, &dynamodb.ListTablesInput{})
			_, sqsErr := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.RetryMaxAttempts = 1 }).ListQueues(ctx, &sqs.ListQueuesInput{})
			for name, c := range map[string]struct {
				want *awsEndpoint
				err  error
			}{"DynamoDB": {tt.wantDDB, ddbErr}, "SQS": {tt.wantSQS, sqsErr}} {
				if c.err != nil {
					t.Errorf("%s call: %v", name, c.err)
				}
			}
			got := make([]int64, len(ours))
			want := make([]int64, len(ours))
			for i, e := range ours {
				got[i] = e.requests.Load() - before[i]
				if e == tt.wantDDB {
					want[i]++
				}
				if e == tt.wantSQS {
					want[i]++
				}
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("requests per endpoint [dynamodb sqs global] (-got +want):\n%s", diff)
			}
		})
	}
}

// TestAWSConfigIgnoresEndpoints checks AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// on the URL a request would be sent to, stopping it there (loopback only).
func TestAWSConfigIgnoresEndpoints(t *testing.T) {
	setAWSEnv(t, map[string]string{"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
	cfg, err := AWSConfig(context.Background(), discard)
	if err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stopped before sending")
	var host string
	stop := func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("stop", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if r, ok := in.Request.(*smithyhttp.Request); ok {
				host = r.URL.Host
			}
			return middleware.FinalizeOutput{}, middleware.Metadata{}, errStop
		}), middleware.After)
	}
	_, err = dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, stop)
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("ListTables = %v, want it stopped by the test", err)
	}
	if want := "dynamodb.eu-west-3.amazonaws.com"; host != want {
		t.Errorf("request host = %q, want %q (configured endpoints ignored)", host, want)
	}
}

func TestAWSConfigNeedsRegionAndCredentials(t *testing.T) {
	for _, env := range []map[string]string{
		{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"},
		{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local"},
		{"AWS_REGION": "us-east-1", "AWS_PROFILE": "dev"}, // profiles are not read
	} {
		setAWSEnv(t, env)
		_, err := AWSConfig(context.Background(), discard)
		if !errors.Is(err, ErrNoAWSEnv) || !strings.HasPrefix(err.Error(), "load AWS config: ") {
			t.Errorf("AWSConfig with %v = %v, want a load AWS config error wrapping ErrNoAWSEnv", env, err)
		}
	}
	setAWSEnv(t, map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"})
	cfg, err := AWSConfig(context.Background(), discard)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "a" || got.SecretAccessKey != "s" || got.SessionToken != "t" || cfg.Region != "us-east-1" {
		t.Errorf("credentials %+v, region %q: want the environment's", got, cfg.Region)
	}
}

// TestAWSConfigKeepsConnections runs MaxIdleConnsPerHost calls at once to
// one endpoint, then again: the second round must reuse every connection
// (the SDK's default client keeps only 10 per host).
func TestAWSConfigKeepsConnections(t *testing.T) {
	e := newAWSEndpoint(t)
	setAWSEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_ENDPOINT_URL_DYNAMODB": e.URL})
	cfg, err := AWSConfig(context.Background(), discard)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	round := func(hold bool) {
		if hold {
			e.hold = make(chan struct{})
		}
		var wg sync.WaitGroup
		for range MaxIdleConnsPerHost {
			wg.Go(func() {
				if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
					t.Errorf("ListTables: %v", err)
				}
			})
		}
		if hold {
			// Every call holds its own connection before any is answered.
			for e.requests.Load() < MaxIdleConnsPerHost {
				time.Sleep(time.Millisecond)
			}
			close(e.hold)
		}
		wg.Wait()
		e.hold = nil
	}
	round(true)
	if got := e.conns.Load(); got != MaxIdleConnsPerHost {
		t.Fatalf("first round opened %d connections, want %d", got, MaxIdleConnsPerHost)
	}
	round(false)
	if got := e.conns.Load() - MaxIdleConnsPerHost; got != 0 {
		t.Errorf("second round opened %d new connections, want 0", got)
	}
}

var discard = slog.New(slog.DiscardHandler)

func TestSDKLogLinesAreJSON(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	tests := []struct {
		class logging.Classification
		level string
	}{
		{logging.Warn, "WARN"},
		{logging.Debug, "INFO"},
	}
	for _, tt := range tests {
		buf.Reset()
		logging.WithContext(context.Background(), sdkLoggerFor(log)).Logf(tt.class, "retrying %s", "PutItem")
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("SDK log line is not JSON: %q", buf.String())
		}
		if line["msg"] != "aws sdk" || line["detail"] != "retrying PutItem" || line["level"] != tt.level {
			t.Errorf("SDK log line = %v, want msg %q, detail %q, level %s", line, "aws sdk", "retrying PutItem", tt.level)
		}
	}
}
