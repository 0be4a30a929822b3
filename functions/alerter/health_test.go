package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// retriesURL is the dispatcher's retry queue in tests (probes go there).
const retriesURL = "http://sqs.example/123456789012/post-load-retries"

// withHealth turns auto-disable on (5 days, at least 10) and seeds hook 8.
func (f *fixture) withHealth() {
	f.h.health = f.store
	f.h.autoDisable = hook.AutoDisable{After: 120 * time.Hour, MinExhausted: 10}
	f.h.retryQueueURL = retriesURL
	f.store.PutHook(hook.Hook{ID: 8, ClientID: 116078, DestinationID: 12345, URL: "https://hooks.example.com/catch?token=s3cret",
		Secret: hook.NewSecret(), CreatedAt: f.clock.Now(), ModifiedAt: f.clock.Now()})
}

// probes returns the probe messages queued on the retry queue.
func (f *fixture) probes(t *testing.T) []delivery.ProbeMessage {
	t.Helper()
	f.queue.mu.Lock()
	defer f.queue.mu.Unlock()
	var out []delivery.ProbeMessage
	for _, in := range f.queue.sent {
		if aws.ToString(in.QueueUrl) != retriesURL {
			continue
		}
		m, err := delivery.DecodeProbe([]byte(aws.ToString(in.MessageBody)))
		if err != nil {
			t.Fatalf("probe message: %v", err)
		}
		out = append(out, m)
	}
	return out
}

const disabledSubject = "Post-load hook disabled: https://hooks.example.com/catch?[redacted]"

// TestAutoDisableAcrossTheWindow: exhausted deliveries every 12 hours (the
// injected clock); the hook stays enabled until 5 days have passed since the
// first one with at least 10 of them, then it is disabled for failing, its
// first probe is queued once and each address is emailed once, however
// often the last message is delivered.
func TestAutoDisableAcrossTheWindow(t *testing.T) {
	f := newFixture(t, "ops@example.com", "dev@example.com")
	f.withHealth()
	for i := 0; i <= 10; i++ {
		if i > 0 {
			f.clock.Advance(12 * time.Hour)
		}
		if got := f.handle(t, record(t, fmt.Sprintf("m%d", i), f.exhausted(fmt.Sprintf("load-%d", i), 503))); len(got) != 0 {
			t.Fatalf("message %d failed", i)
		}
		h, _ := f.store.Hook(116078, 8)
		if i < 10 && !h.Enabled() {
			t.Fatalf("disabled after %d exhausted deliveries over %v", i+1, time.Duration(i)*12*time.Hour)
		}
	}
	h, _ := f.store.Hook(116078, 8)
	if h.Enabled() || h.DisabledReason() != hook.DisabledForFailing {
		t.Fatalf("after 5 days and 11 exhausted: enabled %v reason %q", h.Enabled(), h.DisabledReason())
	}
	if last := h.Audit[len(h.Audit)-1]; last.By != hook.Service || last.Action != hook.ActionAutoDisabled {
		t.Errorf("audit: %+v", last)
	}
	// The same message again, and another exhausted delivery: no second
	// email, no second probe.
	f.handle(t, record(t, "m10", f.exhausted("load-10", 503)))
	f.handle(t, record(t, "m11", f.exhausted("load-11", 503)))
	if p := f.probes(t); len(p) != 1 || p[0].Step != 1 || p[0].HookID != 8 || !p[0].DisabledAt.Equal(*h.DisabledAt) {
		t.Errorf("probes queued: %+v", p)
	}
	if h, _ := f.store.Hook(116078, 8); h.Probe == nil || !h.Probe.Queued {
		t.Errorf("probe state: %+v", h.Probe)
	}
	n := 0
	for _, s := range f.subjects() {
		if s == disabledSubject {
			n++
		}
	}
	if n != 2 {
		t.Errorf("disable emails: %d, want one per address (2); subjects %q", n, f.subjects())
	}
	f.checkLogsSafe(t)
}

// TestDisableEmailNamesProbeSchedule: the disable email names the probe
// schedule the alerter was given (the dispatcher's HOOKS_PROBE_DELAYS and
// HOOKS_PROBE_FOR), in its text and HTML bodies.
func TestDisableEmailNamesProbeSchedule(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	f.withHealth()
	f.h.probes = hook.ProbeSchedule{Delays: []time.Duration{10 * time.Second}, For: 10 * time.Minute}
	for i := 0; i <= 10; i++ {
		f.handle(t, record(t, fmt.Sprintf("m%d", i), f.exhausted(fmt.Sprintf("load-%d", i), 503)))
		f.clock.Advance(12 * time.Hour)
	}
	const want = "on a schedule (10 seconds after, then every 10 seconds, for 10 minutes)."
	f.ses.mu.Lock()
	defer f.ses.mu.Unlock()
	n := 0
	for _, in := range f.ses.calls {
		if *in.Content.Simple.Subject.Data != disabledSubject {
			continue
		}
		n++
		text, body := *in.Content.Simple.Body.Text.Data, *in.Content.Simple.Body.Html.Data
		if !strings.Contains(text, want) || strings.Contains(text, "2 hours") {
			t.Errorf("text does not name the configured schedule:\n%s", text)
		}
		if !strings.Contains(body, want) {
			t.Errorf("HTML does not name the configured schedule:\n%s", body)
		}
	}
	if n != 1 {
		t.Errorf("disable emails: %d, want 1", n)
	}
}

// TestAutoDisableNeedsBothThresholds: 5 days of failures with only 9, or 20
// failures within a day, disable nothing; a success in between restarts the
// count; an account with auto_disable off is never disabled.
func TestAutoDisableNeedsBothThresholds(t *testing.T) {
	t.Run("too few", func(t *testing.T) {
		f := newFixture(t, "ops@example.com")
		f.withHealth()
		for i := range 9 {
			f.handle(t, record(t, fmt.Sprint(i), f.exhausted(fmt.Sprintf("l%d", i), 503)))
			f.clock.Advance(16 * time.Hour)
		}
		if h, _ := f.store.Hook(116078, 8); !h.Enabled() {
			t.Error("disabled with 9 exhausted deliveries")
		}
	})
	t.Run("too soon", func(t *testing.T) {
		f := newFixture(t, "ops@example.com")
		f.withHealth()
		for i := range 20 {
			f.handle(t, record(t, fmt.Sprint(i), f.exhausted(fmt.Sprintf("l%d", i), 503)))
			f.clock.Advance(time.Hour)
		}
		if h, _ := f.store.Hook(116078, 8); !h.Enabled() {
			t.Error("disabled within a day")
		}
	})
	t.Run("success restarts", func(t *testing.T) {
		f := newFixture(t, "ops@example.com")
		f.withHealth()
		for i := range 12 {
			if i == 6 {
				if err := f.store.NoteHookSuccess(t.Context(), 116078, 8, f.clock.Now()); err != nil {
					t.Fatal(err)
				}
				f.clock.Advance(time.Second)
			}
			f.handle(t, record(t, fmt.Sprint(i), f.exhausted(fmt.Sprintf("l%d", i), 503)))
			f.clock.Advance(12 * time.Hour)
		}
		if h, _ := f.store.Hook(116078, 8); !h.Enabled() || h.Health.Exhausted != 6 {
			t.Errorf("after a success: enabled %v, health %+v", h.Enabled(), h.Health)
		}
	})
	t.Run("switched off", func(t *testing.T) {
		f := newFixture(t, "ops@example.com")
		f.withHealth()
		f.store.PutAccount(hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: []string{"ops@example.com"}, NoAutoDisable: true})
		for i := range 12 {
			f.handle(t, record(t, fmt.Sprint(i), f.exhausted(fmt.Sprintf("l%d", i), 503)))
			f.clock.Advance(12 * time.Hour)
		}
		if h, _ := f.store.Hook(116078, 8); !h.Enabled() {
			t.Error("disabled with auto_disable off")
		}
		if slices.Contains(f.subjects(), disabledSubject) {
			t.Error("disable email sent")
		}
	})
}

// TestAutoDisableStepFailuresAreRetried: when queueing the probe or sending
// the email fails, the record is retried and the retry finishes the steps,
// each once.
func TestAutoDisableStepFailuresAreRetried(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	f.withHealth()
	f.h.autoDisable = hook.AutoDisable{After: time.Hour, MinExhausted: 2}
	f.handle(t, record(t, "a", f.exhausted("l1", 503)))
	f.clock.Advance(2 * time.Hour)
	f.queue.err = fmt.Errorf("sqs down")
	if got := f.handle(t, record(t, "b", f.exhausted("l2", 503))); len(got) != 1 {
		t.Fatalf("probe queue failure not retried: %v", got)
	}
	if slices.Contains(f.subjects(), disabledSubject) {
		t.Error("email sent before the probe was queued")
	}
	f.queue.err = nil
	if got := f.handle(t, record(t, "b", f.exhausted("l2", 503))); len(got) != 0 {
		t.Fatalf("retry failed: %v", got)
	}
	n := 0
	for _, s := range f.subjects() {
		if s == disabledSubject {
			n++
		}
	}
	// The failed send was recorded by the fake too: one accepted probe.
	accepted := 0
	for _, p := range f.probes(t) {
		if p.Step == 1 {
			accepted++
		}
	}
	if n != 1 || accepted != 2 {
		t.Errorf("emails %d (want 1), probe sends %d (want 2: the failed one and its retry)", n, accepted)
	}
}

// TestReenabledEmail: the dispatcher's re-enabled message sends one email
// per address, once, with the redacted URL.
func TestReenabledEmail(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	at := f.clock.Now()
	m := delivery.ReenabledMessage{Kind: delivery.KindReenabled, ClientID: 116078, HookID: 8,
		HookURL: "https://hooks.example.com/catch?[redacted]", DisabledAt: at.Add(-time.Hour), ReenabledAt: at, Replayed: 12}
	for range 2 {
		if got := f.handle(t, record(t, "r", m)); len(got) != 0 {
			t.Fatalf("failed: %v", got)
		}
	}
	if got := f.subjects(); len(got) != 1 || got[0] != "Post-load hook re-enabled: https://hooks.example.com/catch?[redacted]" {
		t.Errorf("subjects %q", got)
	}
	f.ses.mu.Lock()
	text := *f.ses.calls[0].Content.Simple.Body.Text.Data
	f.ses.mu.Unlock()
	if !strings.Contains(text, "Sent again: 12 deliveries") {
		t.Errorf("text: %s", text)
	}
}

// TestDisabledEmailBody: the disable email names the hook (query redacted),
// the streak and what happens next, in both bodies.
func TestDisabledEmailBody(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	f.withHealth()
	f.h.autoDisable = hook.AutoDisable{After: time.Hour, MinExhausted: 2}
	f.handle(t, record(t, "a", f.exhausted("l1", 503)))
	f.clock.Advance(2 * time.Hour)
	f.handle(t, record(t, "b", f.exhausted("l2", 503)))
	f.ses.mu.Lock()
	defer f.ses.mu.Unlock()
	for _, in := range f.ses.calls {
		if *in.Content.Simple.Subject.Data != disabledSubject {
			continue
		}
		text, html := *in.Content.Simple.Body.Text.Data, *in.Content.Simple.Body.Html.Data
		for _, want := range []string{"https://hooks.example.com/catch?[redacted]", "(2 deliveries)", "webhook-event: ping", "skipped"} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "s3cret") || strings.Contains(html, "s3cret") || !strings.Contains(html, "?[redacted]") {
			t.Errorf("bodies show the query or lack the URL:\n%s", html)
		}
		return
	}
	t.Fatalf("no disable email: %q", f.subjects())
}
