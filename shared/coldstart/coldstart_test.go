package coldstart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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

func TestAWSConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	cfg, err := AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-3" {
		t.Errorf("Region = %q, want eu-west-3", cfg.Region)
	}

	t.Setenv("AWS_PROFILE", "no-such-profile")
	_, err = AWSConfig(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "load AWS config: ") {
		t.Errorf("AWSConfig with an unknown profile = %v, want a load AWS config error", err)
	}
}
