package mail

import (
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
)

// The hook health emails: a hook disabled for failing, and a hook the
// service enabled again after a probe was answered 2xx. They are written in
// plain Go (every value escaped), with the same links as the alerts.

// Subject prefixes of the health emails; the hook URL, query redacted,
// follows.
const (
	SubjectDisabled  = "Post-load hook disabled: "
	SubjectReenabled = "Post-load hook re-enabled: "
)

// HookDisabled is what the disable email says.
type HookDisabled struct {
	ClientID, HookID int64
	HookURL          string
	FailingSince     time.Time // first exhausted delivery since the last success
	Exhausted        int       // exhausted deliveries since
	DisabledAt       time.Time
	// Probes is the probe schedule the email names (the alerter reads the
	// dispatcher's HOOKS_PROBE_DELAYS and HOOKS_PROBE_FOR); without delays
	// it is hook.DefaultProbeSchedule.
	Probes hook.ProbeSchedule
}

// HookReenabled is what the re-enable email says.
type HookReenabled struct {
	ClientID, HookID int64
	HookURL          string
	DisabledAt       time.Time
	ReenabledAt      time.Time
	Replayed         int // deliveries sent again (queued oldest first, paced)
}

// RenderHookDisabled renders the disable email.
func RenderHookDisabled(d HookDisabled, links Links) Email {
	u := clip(clean(hookurl.Redact(d.HookURL)), maxURLRunes)
	lines := []string{
		"Post-load hook " + strconv.FormatInt(d.HookID, 10) + " of client " + strconv.FormatInt(d.ClientID, 10) + " was disabled for failing deliveries.",
		"",
		"Hook URL: " + u,
		"Every delivery since " + formatTime(d.FailingSince) + " failed its last retry (" + strconv.Itoa(d.Exhausted) + " deliveries).",
		"Disabled at: " + formatTime(d.DisabledAt),
		"",
		"What happens now: new loads are kept in the hook's history as skipped and not sent. The service sends the hook a signed ping " +
			"(webhook-event: ping) on a schedule (" + probeScheduleWords(d.Probes) + "). " +
			"On the first 2xx answer it enables the hook again, emails you, and sends the failed and skipped deliveries again, paced (the oldest in the first second, and so on), " +
			"with their original webhook-id.",
		"What to do: fix the endpoint. You can also re-enable the hook yourself (PUT " + reenablePath(d.HookID) + ` with {"enable": true}) ` +
			"and replay its failed deliveries.",
	}
	return healthEmail(SubjectDisabled+u, lines, links)
}

// RenderHookReenabled renders the re-enable email.
func RenderHookReenabled(d HookReenabled, links Links) Email {
	u := clip(clean(hookurl.Redact(d.HookURL)), maxURLRunes)
	lines := []string{
		"Post-load hook " + strconv.FormatInt(d.HookID, 10) + " of client " + strconv.FormatInt(d.ClientID, 10) + " answered a ping and was enabled again.",
		"",
		"Hook URL: " + u,
		"Disabled for failing at: " + formatTime(d.DisabledAt),
		"Enabled again at: " + formatTime(d.ReenabledAt),
		"Sent again: " + strconv.Itoa(d.Replayed) + " deliveries that failed or were skipped while it was down, paced (the oldest in the first second, and so on), " +
			"with their original webhook-id (so a receiver that already has one can drop it).",
	}
	return healthEmail(SubjectReenabled+u, lines, links)
}

func healthEmail(subject string, lines []string, links Links) Email {
	if links.AppURL != "" {
		lines = append(lines, "", "Web app: "+links.AppURL)
	}
	if links.UnsubscribeURL != "" {
		lines = append(lines, "Stop these emails for this address: "+links.UnsubscribeURL)
	}
	var h strings.Builder
	h.WriteString("<!DOCTYPE html><html><body>")
	for _, l := range lines {
		if l == "" {
			continue
		}
		h.WriteString("<p>" + html.EscapeString(l) + "</p>")
	}
	h.WriteString("</body></html>")
	return Email{Subject: clip(subject, MaxSubjectRunes), UnsubscribeURL: links.UnsubscribeURL,
		Text: strings.Join(lines, "\n") + "\n", HTML: h.String()}
}

// probeScheduleWords says when probes are sent, in words: "1 minute after,
// then 5 minutes and 30 minutes after the one before, then every 2 hours,
// for 3 days" (the default schedule, said "by default ..."), "10 seconds
// after, then every 10 seconds, for 3 days" for the delays 10s. Each delay
// counts from the probe before (hook.ProbeSchedule.At) and the last one
// repeats, so it is the "every"; the ones before it are listed (a single
// delay is both).
func probeScheduleWords(p hook.ProbeSchedule) string {
	def := hook.DefaultProbeSchedule()
	if len(p.Delays) == 0 {
		p = def
	}
	first := p.Delays[:max(len(p.Delays)-1, 1)]
	listed := make([]string, len(first))
	for i, d := range first {
		listed[i] = DurationWords(d)
	}
	s := listed[0] + " after"
	if then := listed[1:]; len(then) > 0 {
		last := then[len(then)-1]
		if len(then) > 1 {
			last = strings.Join(then[:len(then)-1], ", ") + " and " + last
		}
		s += ", then " + last + " after the one before"
	}
	every := DurationWords(p.Delays[len(p.Delays)-1])
	if strings.Count(every, " ") == 1 {
		every = strings.TrimPrefix(every, "1 ") // "every hour", not "every 1 hour"
	}
	s += ", then every " + every + ", for " + DurationWords(p.For)
	if slices.Equal(p.Delays, def.Delays) && p.For == def.For {
		s = "by default " + s
	}
	return s
}

// DurationWords says d in whole days, hours, minutes, seconds and
// milliseconds ("3 days", "1 hour 30 minutes"); a duration with a finer
// part is said as Go writes it ("1.5µs").
func DurationWords(d time.Duration) string {
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}, {time.Millisecond, "millisecond"}}
	if d <= 0 || d%time.Millisecond != 0 {
		return d.String()
	}
	var parts []string
	for _, u := range units {
		n := d / u.size
		d -= n * u.size
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, strconv.FormatInt(int64(n), 10)+" "+u.name+"s")
		}
	}
	return strings.Join(parts, " ")
}
