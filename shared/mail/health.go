package mail

import (
	"html"
	"strconv"
	"strings"
	"time"

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
			"(webhook-event: ping) on a schedule (by default 1 minute, 5 minutes and 30 minutes after, then every 2 hours, for 3 days). " +
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
