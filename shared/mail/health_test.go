package mail

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

func disabledSample(p hook.ProbeSchedule) HookDisabled {
	return HookDisabled{ClientID: 116078, HookID: 8, HookURL: "https://hooks.example.com/catch?token=s3cret",
		FailingSince: t0, Exhausted: 11, DisabledAt: t0.Add(120 * time.Hour), Probes: p}
}

// TestRenderHookDisabledDefaultText: with the default probe schedule (set,
// or left zero) the disable email reads exactly as it always has.
func TestRenderHookDisabledDefaultText(t *testing.T) {
	want := "Post-load hook 8 of client 116078 was disabled for failing deliveries.\n" +
		"\n" +
		"Hook URL: https://hooks.example.com/catch?[redacted]\n" +
		"Every delivery since " + formatTime(t0) + " failed its last retry (11 deliveries).\n" +
		"Disabled at: " + formatTime(t0.Add(120*time.Hour)) + "\n" +
		"\n" +
		"What happens now: new loads are kept in the hook's history as skipped and not sent. The service sends the hook a signed ping " +
		"(webhook-event: ping) on a schedule (by default 1 minute after, then 5 minutes and 30 minutes after the one before, then every 2 hours, for 3 days). " +
		"On the first 2xx answer it enables the hook again, emails you, and sends the failed and skipped deliveries again, paced (the oldest in the first second, and so on), " +
		"with their original webhook-id.\n" +
		"What to do: fix the endpoint. You can also re-enable the hook yourself (PUT " + reenablePath(8) + ` with {"enable": true}) ` +
		"and replay its failed deliveries.\n" +
		"\n" +
		"Web app: https://app.example.com\n"
	for name, p := range map[string]hook.ProbeSchedule{"default": hook.DefaultProbeSchedule(), "zero": {}} {
		e := RenderHookDisabled(disabledSample(p), Links{AppURL: "https://app.example.com"})
		if diff := cmp.Diff(e.Text, want); diff != "" {
			t.Errorf("%s: text (-got +want):\n%s", name, diff)
		}
		if e.Subject != SubjectDisabled+"https://hooks.example.com/catch?[redacted]" {
			t.Errorf("%s: subject %q", name, e.Subject)
		}
	}
}

// TestRenderHookDisabledNamesSchedule: a configured schedule is the one
// the email names, in the text and the HTML body.
func TestRenderHookDisabledNamesSchedule(t *testing.T) {
	p := hook.ProbeSchedule{Delays: []time.Duration{10 * time.Second}, For: 10 * time.Minute}
	e := RenderHookDisabled(disabledSample(p), Links{})
	want := "on a schedule (10 seconds after, then every 10 seconds, for 10 minutes)."
	if !strings.Contains(e.Text, want) {
		t.Errorf("text does not say %q:\n%s", want, e.Text)
	}
	if !strings.Contains(e.HTML, html.EscapeString(want)) {
		t.Errorf("HTML does not say %q:\n%s", want, e.HTML)
	}
	if strings.Contains(e.Text, "by default") || strings.Contains(e.Text, "2 hours") {
		t.Errorf("text names the default schedule:\n%s", e.Text)
	}
}

func TestProbeScheduleWords(t *testing.T) {
	tests := []struct {
		delays []time.Duration
		probe  time.Duration
		want   string
	}{
		{[]time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}, 72 * time.Hour,
			"by default 1 minute after, then 5 minutes and 30 minutes after the one before, then every 2 hours, for 3 days"},
		{[]time.Duration{10 * time.Second}, 72 * time.Hour, "10 seconds after, then every 10 seconds, for 3 days"},
		{[]time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}, 48 * time.Hour,
			"1 minute after, then 5 minutes and 30 minutes after the one before, then every 2 hours, for 2 days"},
		{[]time.Duration{time.Minute, 5 * time.Minute, 2 * time.Hour}, 48 * time.Hour,
			"1 minute after, then 5 minutes after the one before, then every 2 hours, for 2 days"},
		{[]time.Duration{time.Second, 2 * time.Second}, time.Minute, "1 second after, then every 2 seconds, for 1 minute"},
		{[]time.Duration{30 * time.Second, time.Hour}, 36 * time.Hour, "30 seconds after, then every hour, for 1 day 12 hours"},
		{[]time.Duration{90 * time.Minute}, 24 * time.Hour, "1 hour 30 minutes after, then every 1 hour 30 minutes, for 1 day"},
		{[]time.Duration{500 * time.Millisecond, 1500 * time.Nanosecond}, time.Hour, "500 milliseconds after, then every 1.5µs, for 1 hour"},
	}
	for _, tt := range tests {
		if got := probeScheduleWords(hook.ProbeSchedule{Delays: tt.delays, For: tt.probe}); got != tt.want {
			t.Errorf("probeScheduleWords(%v, %v) = %q, want %q", tt.delays, tt.probe, got, tt.want)
		}
	}
}
