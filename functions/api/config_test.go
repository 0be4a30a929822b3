package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr []string
	}{
		{
			name: "local defaults",
			env:  map[string]string{"HOOKS_TABLE": "hooks"},
			want: config{table: "hooks", addr: "127.0.0.1:3000", appURL: "http://127.0.0.1:3000", secretOverlap: 24 * time.Hour, signInLinkTTL: 15 * time.Minute, freshnessMin: 5 * time.Minute, replayRate: 10},
		},
		{
			name: "local with everything",
			env: map[string]string{"HOOKS_TABLE": "hooks", "HOOKS_ALLOW_PRIVATE_TARGETS": "true",
				"HOOKS_API_ADDR": "127.0.0.1:9999", "HOOKS_ADMIN_TOKEN": "s3cret",
				"HOOKS_APP_URL": "https://hooks.example.com/", "ALERT_FROM_ADDRESS": "hooks@example.com",
				"HOOKS_SECRET_OVERLAP": "90s", "HOOKS_EXTRA_CA_FILE": "/tmp/ca.pem", "HOOKS_FRESHNESS_MIN_INTERVAL": "2s", "HOOKS_REPLAY_RATE": "3",
				"HOOKS_SIGNIN_LINK_TTL": "90s", "HOOKS_CURSOR_KEY": "0123456789abcdef0123456789abcdef"},
			want: config{table: "hooks", allowPrivate: true, addr: "127.0.0.1:9999", adminToken: "s3cret",
				appURL: "https://hooks.example.com", signInFrom: "hooks@example.com", secretOverlap: 90 * time.Second, signInLinkTTL: 90 * time.Second, freshnessMin: 2 * time.Second, extraCAFile: "/tmp/ca.pem", replayRate: 3,
				cursorKey: []byte("0123456789abcdef0123456789abcdef")},
		},
		{
			name: "lambda ignores the local settings",
			env: map[string]string{"HOOKS_TABLE": "hooks", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
				"HOOKS_API_ADDR": "127.0.0.1:9999", "HOOKS_ADMIN_TOKEN": "s3cret", "HOOKS_ALLOW_PRIVATE_TARGETS": "false"},
			want: config{table: "hooks", lambda: true, secretOverlap: 24 * time.Hour, signInLinkTTL: 15 * time.Minute, freshnessMin: 5 * time.Minute, replayRate: 10},
		},
		{
			name: "every problem at once",
			env: map[string]string{"HOOKS_ALLOW_PRIVATE_TARGETS": "yes please", "HOOKS_SECRET_OVERLAP": "a day", "HOOKS_FRESHNESS_MIN_INTERVAL": "8d", "HOOKS_REPLAY_RATE": "0", "HOOKS_SIGNIN_LINK_TTL": "soon",
				"HOOKS_CURSOR_KEY": "short"},
			wantErr: []string{"HOOKS_TABLE", "HOOKS_ALLOW_PRIVATE_TARGETS", "HOOKS_SECRET_OVERLAP", "HOOKS_FRESHNESS_MIN_INTERVAL", "HOOKS_REPLAY_RATE", "HOOKS_SIGNIN_LINK_TTL", "HOOKS_CURSOR_KEY"},
		},
		{
			name:    "overlap not positive",
			env:     map[string]string{"HOOKS_TABLE": "hooks", "HOOKS_SECRET_OVERLAP": "-1h"},
			wantErr: []string{"HOOKS_SECRET_OVERLAP"},
		},
		{
			name:    "a sign-in link may live shorter, not longer",
			env:     map[string]string{"HOOKS_TABLE": "hooks", "HOOKS_SIGNIN_LINK_TTL": "16m"},
			wantErr: []string{"HOOKS_SIGNIN_LINK_TTL"},
		},
		{
			name:    "a sign-in link lives at least a second",
			env:     map[string]string{"HOOKS_TABLE": "hooks", "HOOKS_SIGNIN_LINK_TTL": "0s"},
			wantErr: []string{"HOOKS_SIGNIN_LINK_TTL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(envFunc(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %s", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-got +want):\n%s", diff)
			}
		})
	}
}

// TestRunLocal starts the real binary's run in local mode, waits for
// /healthz, then cancels and expects a clean shutdown.
func TestRunLocal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	t.Setenv("AWS_REGION", "us-east-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	env := map[string]string{"HOOKS_TABLE": "unused", "HOOKS_API_ADDR": addr}
	go func() { done <- run(ctx, envFunc(env), io.Discard) }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			checkReceived(t, res, body)
			if res.StatusCode != 200 || string(body) != `{"status":"ok"}` {
				t.Fatalf("healthz: %d %q", res.StatusCode, body)
			}
			break
		}
		if time.Now().After(deadline) {
			select {
			case e := <-done:
				t.Fatalf("run: %v", e)
			default:
			}
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Admin routes are refused when HOOKS_ADMIN_TOKEN is unset.
	res, err := http.Get("http://" + addr + "/admin/v1/accounts/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	checkReceived(t, res, body)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin without token configured: %d, want 401", res.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunConfigError(t *testing.T) {
	err := run(context.Background(), envFunc(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOOKS_TABLE") {
		t.Errorf("run = %v, want a missing HOOKS_TABLE error", err)
	}
}
