package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/notify"
)

// Every events/dispatcher-*.json sample (for sam local invoke) runs through
// the real handler here, with fakes behind it, so the samples never go stale.

func readEvent(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestEventSamples(t *testing.T) {
	tests := []struct {
		file         string
		seed         func(t *testing.T, e *env) // state before the invocation
		wantFailed   []string
		wantRequests int
		wantDead     int
	}{
		{file: "dispatcher-succeeded.json", wantRequests: 2},
		{file: "dispatcher-rejected.json", wantRequests: 2},
		{file: "dispatcher-failed.json"},
		{file: "dispatcher-malformed.json", wantRequests: 2, wantDead: 1},
		{file: "dispatcher-retry.json", wantRequests: 1, seed: func(t *testing.T, e *env) {
			// Attempt 1 of the sample's body failed and the record waits for attempt 2.
			k := key("b2f6c1d0-7a3e-4c51-9f7e-retry", 1)
			m, err := delivery.DecodeRetry([]byte(readEvent(t, "dispatcher-retry.json").Records[0].Body))
			if err != nil {
				t.Fatal(err)
			}
			e.waitingWith(t, k, m.Body, 1)
		}},
		{file: "dispatcher-retry.json", wantRequests: 0}, // no record waits: stale, acked
		{file: "dispatcher-run-timer.json", wantRequests: 0, seed: func(_ *testing.T, e *env) {
			e.clock.advance(2 * time.Hour) // the timer is due; its run was never counted: acked
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e := newEnv(t)
			if tt.seed != nil {
				tt.seed(t, e)
			}
			ev := readEvent(t, tt.file)
			e.mustRun(t, ev, tt.wantFailed...)
			calls := e.hooks.calls()
			if len(calls) != tt.wantRequests {
				t.Fatalf("requests = %d, want %d", len(calls), tt.wantRequests)
			}
			for _, c := range calls {
				// Samples carry canonical notifications, so the body sent is the sample's own.
				if _, err := notify.ParseBody(c.Body); err != nil {
					t.Errorf("sent body does not parse: %v", err)
				}
			}
			if n := len(e.queue.on(deadURL)); n != tt.wantDead {
				t.Errorf("dead letters = %d, want %d", n, tt.wantDead)
			}
		})
	}
}
