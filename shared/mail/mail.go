// Package mail renders the alert email sent when a post-load hook delivery
// has failed its last retry: a subject, a plain-text body and an HTML body,
// from a delivery.AlertMessage.
//
// Everything in an alert that came from a customer or a receiver (the hook
// URL, the integration and table names, error text, the response snippet) is
// treated as hostile: control characters are removed, lengths are bounded,
// the HTML body escapes it (as html/template would; see body.go) and the subject is a single line
// that cannot inject mail headers. The hook URL is shown as hookurl.Redact
// gives it, without its query string, fragment or user info, which may carry
// credentials (alert messages already carry it so).
//
// The receiver's response snippet is the endpoint's words, not the
// service's: it comes last, after the service's own facts and next steps,
// under a heading that says so, quoted line by line ("> ") in the text body
// and in a blockquote in the HTML body, with "://", dots inside names and
// "@" neutralised so that no link or address in it is clickable.
//
// It is pure: it does no I/O, does not send mail and does not log. Choosing
// the recipients and sending are the caller's business.
package mail

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
)

// Email is a rendered alert.
type Email struct {
	Subject string // one line, no control characters, at most MaxSubjectRunes runes
	// UnsubscribeURL is the recipient's one-click unsubscribe link, for the
	// List-Unsubscribe header ("" for none).
	UnsubscribeURL string
	Text           string
	HTML           string
}

// Bounds on what an email shows.
const (
	// MaxSubjectRunes bounds the subject line: room for the prefix and two
	// whole names of maxNameRunes.
	MaxSubjectRunes = len(subjectPrefix) + maxNameRunes + len(" / ") + maxNameRunes
	// maxNameRunes bounds an integration or table name.
	maxNameRunes = 128
	// maxSubjectNameRunes bounds a name inside the subject: as in the
	// bodies, so a subject holds the names whole up to that length (a
	// warehouse's identifiers are shorter).
	maxSubjectNameRunes = maxNameRunes
	// maxTables is how many tables the bodies list; more are counted.
	maxTables = 50
	// maxAttempts is how many attempts the bodies list; more are counted.
	maxAttempts = 20
	// maxErrorRunes bounds an attempt's error text.
	maxErrorRunes = 200
	// maxSnippetRunes bounds the last response snippet.
	maxSnippetRunes = 300
	// maxURLRunes bounds the shown hook URL.
	maxURLRunes = 300
	// maxIDRunes bounds load and webhook ids.
	maxIDRunes = 128
)

// subjectPrefix starts every alert subject: the original product's subject,
// followed by "<integration> / <root table>".
const subjectPrefix = "Unable to Deliver Post Load Notification: "

// view is what the bodies show. Every string in it is already cleaned.
type view struct {
	Links
	// Curl reproduces the request (see Curl).
	Curl         string
	ClientID     int64
	HookID       int64
	HookURL      string
	Integration  string
	Tables       []string
	MoreTables   int
	LoadID       string
	WebhookID    string
	Attempts     []attemptView
	MoreAttempts int
	AttemptCount int
	FirstAt      string
	LastAt       string
	// Snippet is the start of the newest response body the attempts kept,
	// from attempt SnippetAttempt, with its links neutralised (see quote);
	// SnippetLines is the same text wrapped for the text body.
	Snippet        string
	SnippetLines   []string
	SnippetAttempt int
	ReenablePath   string
	GeneratedAt    string
}

type attemptView struct {
	N       int
	At      string
	Outcome string
}

// Render renders the alert for msg, without links (see RenderFor). now is
// when the alert is sent (shown in the footer).
func Render(msg delivery.AlertMessage, now time.Time) Email {
	return RenderFor(msg, now, Links{})
}

func reenablePath(hookID int64) string { return hook.APIPath + "/" + strconv.FormatInt(hookID, 10) }

// Subject is the alert's subject line: the integration and the root table,
// e.g. "Unable to Deliver Post Load Notification: shopify / orders" (the
// other tables are in the body). It is one line with no control characters and at most
// MaxSubjectRunes runes, so it cannot inject mail headers.
func Subject(msg delivery.AlertMessage) string {
	s := subjectPrefix + clip(nameOr(msg.IntegrationName, "unknown integration"), maxSubjectNameRunes)
	if tables := nonEmpty(msg.Tables); len(tables) > 0 {
		s += " / " + clip(tables[0], maxSubjectNameRunes)
	}
	return clip(s, MaxSubjectRunes)
}

func newView(msg delivery.AlertMessage, now time.Time) view {
	v := view{
		ClientID:     msg.ClientID,
		HookID:       msg.HookID,
		HookURL:      clip(clean(hookurl.Redact(msg.HookURL)), maxURLRunes),
		Integration:  clip(nameOr(msg.IntegrationName, "unknown integration"), maxNameRunes),
		LoadID:       clip(clean(msg.LoadID), maxIDRunes),
		WebhookID:    clip(clean(msg.WebhookID), maxIDRunes),
		AttemptCount: len(msg.Attempts),
		ReenablePath: reenablePath(msg.HookID),
		GeneratedAt:  formatTime(now),
	}
	tables := nonEmpty(msg.Tables)
	for i, t := range tables {
		if i == maxTables {
			v.MoreTables = len(tables) - maxTables
			break
		}
		v.Tables = append(v.Tables, clip(t, maxNameRunes))
	}
	for i, a := range msg.Attempts {
		if i == maxAttempts {
			v.MoreAttempts = len(msg.Attempts) - maxAttempts
			break
		}
		v.Attempts = append(v.Attempts, attemptView{N: i + 1, At: formatTime(a.At), Outcome: describe(a)})
	}
	if n := len(msg.Attempts); n > 0 {
		first, last := msg.Attempts[0].At, msg.Attempts[0].At
		for _, a := range msg.Attempts[1:] {
			if a.At.Before(first) {
				first = a.At
			}
			if a.At.After(last) {
				last = a.At
			}
		}
		v.FirstAt, v.LastAt = formatTime(first), formatTime(last)
	}
	for i := len(msg.Attempts) - 1; i >= 0; i-- {
		if s := clip(clean(msg.Attempts[i].Snippet), maxSnippetRunes); s != "" {
			v.SnippetAttempt, v.Snippet = i+1, quote(s)
			v.SnippetLines = wrap(v.Snippet, snippetLineRunes)
			break
		}
	}
	return v
}

// snippetLineRunes is the width of the quoted snippet in the text body.
const snippetLineRunes = 72

// quote neutralises what a mail client would turn into a link in a
// receiver's response body, which the email shows as the endpoint's own
// words: "://" becomes "[:]//", a dot between letters or digits "[.]" and
// "@" "[at]", so no URL, host name or address in it is clickable in either
// body (the HTML body already escapes any markup).
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	word := func(r rune, _ int) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "://"):
			b.WriteString("[:]//")
			i += 2
		case s[i] == '.' && word(utf8.DecodeLastRuneInString(s[:i])) && word(utf8.DecodeRuneInString(s[i+1:])):
			b.WriteString("[.]")
		case s[i] == '@':
			b.WriteString("[at]")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// wrap cuts s (one line, single spaces) into lines of at most n runes,
// at spaces where it can.
func wrap(s string, n int) []string {
	var lines []string
	for s != "" {
		r := []rune(s)
		if len(r) <= n {
			return append(lines, s)
		}
		cut := n
		for i := n; i > n/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
		s = strings.TrimLeft(string(r[cut:]), " ")
	}
	return lines
}

// describe says what happened in one attempt: the HTTP status or the error
// class, and the error text when there is one.
func describe(a delivery.Attempt) string {
	var s string
	switch a.Outcome {
	case delivery.OutcomeHTTPStatus:
		s = "HTTP " + strconv.Itoa(a.StatusCode)
	case delivery.OutcomeRedirect:
		s = "redirect, not followed"
		if a.StatusCode != 0 {
			s = "HTTP " + strconv.Itoa(a.StatusCode) + " redirect, not followed"
		}
	case delivery.OutcomeTimeout:
		s = "timed out"
	case delivery.OutcomeConnection:
		s = "connection error"
	case delivery.OutcomeBlocked:
		s = "refused: the host resolved to a non-public address"
	case delivery.OutcomeTLS:
		s = "TLS error"
	case "":
		s = "failed"
	default:
		s = clip(clean(a.Outcome), 40)
		if a.StatusCode != 0 {
			s += " (HTTP " + strconv.Itoa(a.StatusCode) + ")"
		}
	}
	if e := clip(clean(a.Error), maxErrorRunes); e != "" {
		s += ": " + e
	}
	return s
}

// formatTime is RFC 3339 in UTC to the second; the zero time reads
// "unknown".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

// nameOr is the cleaned name, or def when nothing printable is left.
func nameOr(name, def string) string {
	if c := clean(name); c != "" {
		return c
	}
	return def
}

// nonEmpty returns the cleaned names that are not empty.
func nonEmpty(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if c := clean(n); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// clean makes an untrusted string safe to place in one line of mail: invalid
// UTF-8 and every control, format (bidirectional overrides, zero-width
// characters), line and paragraph separator character becomes a space, runs
// of spaces collapse to one, and the ends are trimmed.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		if r == utf8.RuneError && width == 1 ||
			unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// clip shortens s to at most n runes, marking a cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
}
