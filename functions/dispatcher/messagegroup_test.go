package main

import (
	"testing"

	"github.com/postloadhooks/hooks/shared/notify"
)

// TestOwnMessagesCarryTheAccountsGroup: every message the dispatcher queues
// (a retry, a deferral, an alert) has the account's MessageGroupId, so SQS
// fair queues keep one busy account from delaying the others.
func TestOwnMessagesCarryTheAccountsGroup(t *testing.T) {
	e := newEnv(t)
	e.oneHookWithCap(1)
	e.failWith(503)
	e.mustRun(t, sqsEvent(loads("L", 2)...)) // one attempt (a retry follows), one deferral
	// Hand back every retry and deferral until both loads are exhausted
	// (one alert each).
	for fed := 0; fed < len(e.queue.all()); fed++ {
		if m := e.queue.all()[fed]; m.Queue == retryURL {
			e.mustRun(t, sqsEvent(m.Body))
		}
	}
	msgs := e.queue.all()
	if len(msgs) < 3 {
		t.Fatalf("queued %d messages, want a retry, a deferral and an alert at least", len(msgs))
	}
	for _, m := range msgs {
		if want := notify.MessageGroupID(testClient); m.Group != want {
			t.Errorf("message to %s has MessageGroupId %q, want %q", m.Queue, m.Group, want)
		}
	}
	if got := len(e.queue.on(alertURL)); got != 2 {
		t.Errorf("alerts = %d, want 2", got)
	}
}
