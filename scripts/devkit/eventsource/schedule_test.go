package eventsource

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Schedule posts the scheduled event to the function, one invocation after
// the other, until its context ends; a failed invocation does not stop it.
func TestScheduleInvokesWithTheScheduledEvent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	var bad atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &ev); err != nil || ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" {
			bad.Store(string(body))
		}
		switch n.Add(1) {
		case 1:
			io.WriteString(w, `{"errorType":"errorString","errorMessage":"freshness check incomplete"}`)
		case 3:
			cancel()
			fallthrough
		default:
			io.WriteString(w, "null")
		}
	}))
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		Schedule(ctx, &Invoker{URL: srv.URL, Client: srv.Client()}, "FreshnessCheck", time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	<-done
	if got := n.Load(); got != 3 {
		t.Errorf("%d invocations, want 3 (the schedule goes on after a failed one and stops with its context)", got)
	}
	if b := bad.Load(); b != nil {
		t.Errorf("not a scheduled event: %s", b)
	}
}
