package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/scripts/devkit/funclog"
	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

func TestParseArgs(t *testing.T) {
	tests := map[string]struct {
		argv    []string
		want    args
		wantErr bool
	}{
		"positional only": {argv: []string{"api", "e.json"}, want: args{function: "api", eventFile: "e.json"}},
		"env vars after":  {argv: []string{"api", "e.json", "--env-vars", "env.json"}, want: args{function: "api", eventFile: "e.json", envFile: "env.json"}},
		"env vars before": {argv: []string{"-n", "env.json", "api", "e.json"}, want: args{function: "api", eventFile: "e.json", envFile: "env.json"}},
		"env vars =":      {argv: []string{"api", "--env-vars=env.json", "e.json"}, want: args{function: "api", eventFile: "e.json", envFile: "env.json"}},
		"verbose":         {argv: []string{"-v", "api", "e.json"}, want: args{function: "api", eventFile: "e.json", verbose: true}},
		"missing event":   {argv: []string{"api"}, wantErr: true},
		"extra argument":  {argv: []string{"api", "e.json", "more"}, wantErr: true},
		"dangling flag":   {argv: []string{"api", "e.json", "--env-vars"}, wantErr: true},
		"unknown flag":    {argv: []string{"api", "e.json", "--debug"}, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseArgs(tt.argv)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Errorf("parseArgs error %v, want usage", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseArgs = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// The events' env-vars file names no endpoint, so the caller's moved ports
// reach the function; the local environment file of scripts/dev wins over
// both, so an invocation reaches that stack's table and queues.
func TestLocalEnvironmentWinsOverEventsEnvJSON(t *testing.T) {
	tp, err := samtemplate.Load(filepath.Join("..", "..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tp.Function("dispatcher")
	if err != nil {
		t.Fatal(err)
	}
	envJSON := filepath.Join("..", "..", "..", "..", "events", "env.json")
	get := func(env []string, k string) string {
		for _, kv := range env {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v
			}
		}
		return ""
	}
	caller := []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:4999", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8999"}
	env, _, err := rie.Env(tp, fn, envJSON, caller, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(env, "AWS_ENDPOINT_URL_SQS"); got != "http://127.0.0.1:4999" {
		t.Errorf("with events/env.json, AWS_ENDPOINT_URL_SQS = %q, want the caller's", got)
	}
	local := localenv.Env{
		"AWS_ENDPOINT_URL_SQS":  "http://127.0.0.1:4150",
		"HOOKS_TABLE":           "dev-table",
		"HOOKS_RETRY_QUEUE_URL": "http://127.0.0.1:4150/000000000000/post-load-retries",
		"HOOKS_ADMIN_TOKEN":     "adm_not_for_functions",
	}
	env, _, err = rie.Env(tp, fn, envJSON, caller, stackOverrides(local))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"AWS_ENDPOINT_URL_SQS":      "http://127.0.0.1:4150",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8999",
		"HOOKS_TABLE":               "dev-table",
		"HOOKS_RETRY_QUEUE_URL":     "http://127.0.0.1:4150/000000000000/post-load-retries",
		"HOOKS_ADMIN_TOKEN":         "",
	} {
		if got := get(env, k); got != want {
			t.Errorf("with the local environment, %s = %q, want %q", k, got, want)
		}
	}
}

func TestFunctionErrorIsOneLine(t *testing.T) {
	if got := functionError([]byte(`{"errorMessage":"boom","errorType":"errorString"}`)); got != "boom (errorString)" {
		t.Errorf("functionError = %q", got)
	}
	if got := functionError([]byte(`{"batchItemFailures":[]}`)); got != "" {
		t.Errorf("functionError(a normal answer) = %q, want none", got)
	}
	lines := []string{`time="x" level=info msg="exec '/var/runtime/bootstrap'"`, `api: config: missing environment variables: HOOKS_TABLE`}
	if got := funclog.FirstError("api", lines); got != "config: missing environment variables: HOOKS_TABLE" {
		t.Errorf("FirstError = %q, want the function's own line", got)
	}
}
