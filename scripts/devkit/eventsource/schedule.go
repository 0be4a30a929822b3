package eventsource

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"time"
)

// The local stand-in for an EventBridge schedule (a SAM Schedule event with
// rate(...)): Schedule invokes the function with the scheduled event every
// period, as EventBridge does in AWS, so scripts/dev runs the same code path
// as Lambda. Unlike EventBridge it never starts an invocation while the
// previous one is still running (a slow one delays the next tick), and it
// does not retry a failed one (the template's RetryPolicy allows none).

// ScheduledEvent is the event EventBridge sends for a schedule rule named
// rule, at time at (the fields Lambda's events.EventBridgeEvent reads).
func ScheduledEvent(rule string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": rand.Text(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:events:us-east-1:000000000000:rule/" + rule}, "detail": map[string]any{},
	})
	return b
}

// scheduledInvoker is what Schedule calls (an *Invoker).
type scheduledInvoker interface {
	InvokeScheduled(ctx context.Context, payload []byte) error
}

// Schedule invokes fn with the scheduled event of rule every period until
// ctx ends, logging each invocation's outcome. The first invocation is one
// period after the start, as a new schedule's is.
func Schedule(ctx context.Context, fn scheduledInvoker, rule string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-t.C:
			start := time.Now()
			if err := fn.InvokeScheduled(ctx, ScheduledEvent(rule, at)); err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Warn("scheduled invocation failed", "rule", rule, "error", err.Error())
				continue
			}
			log.Info("scheduled invocation", "rule", rule, "durationMs", time.Since(start).Milliseconds())
		}
	}
}
