package mail

import (
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
)

// Links are the per-recipient links of an email: the web app and the
// recipient's own one-click unsubscribe link. Either may be empty (the
// email then leaves it out).
type Links struct {
	// AppURL is the web app's page of the account's hooks.
	AppURL string
	// UnsubscribeURL removes the recipient from the account's alert
	// addresses (it is also the List-Unsubscribe header).
	UnsubscribeURL string
}

// RenderFor renders the alert for msg as Render does, with links.
func RenderFor(msg delivery.AlertMessage, now time.Time, links Links) Email {
	v := newView(msg, now)
	v.Links = links
	v.Curl = Curl(Request{HookURL: msg.HookURL, WebhookID: msg.WebhookID, LoadID: msg.LoadID, Event: msg.Event, Sequence: msg.Sequence})
	return Email{Subject: Subject(msg), UnsubscribeURL: links.UnsubscribeURL, Text: alertText(v), HTML: alertHTML(v)}
}

// Request is the request an email's curl command repeats, as the alert
// message (or the digest entry) names it.
type Request struct {
	HookURL   string // redacted (hookurl.Redact)
	WebhookID string
	LoadID    string
	// Event is the webhook-event the request carried; "" when the message
	// does not say (one of an earlier version).
	Event string
	// Sequence is the webhook-sequence it carried; 0 when none.
	Sequence int64
}

// Curl is a curl command that sends the hook the request r the service
// sent: the POST to the hook URL (as redacted: its query string is left
// out, so the reader puts it back) with the headers the request carried,
// in its order, and the body from a file. The signature headers are
// placeholders: only the hook's secret can make them; so is the event of a
// request whose message does not name it. The load id is left out when
// empty and the sequence when 0, as the request leaves them out. Every
// value is single-quoted for a POSIX shell.
func Curl(r Request) string {
	id := clip(clean(r.WebhookID), maxIDRunes)
	if id == "" {
		id = "<webhook id>"
	}
	event := clip(clean(r.Event), maxIDRunes)
	if event == "" {
		event = "<event type, e.g. " + hook.EventTableLoaded + ">"
	}
	lines := []string{
		"curl -X POST " + shellQuote(clip(clean(hookurl.Redact(r.HookURL)), maxURLRunes)),
		"-H 'Content-Type: application/json'",
		"-H 'User-Agent: StitchLoadingWebhook'",
		"-H " + shellQuote("webhook-id: "+id),
		"-H 'webhook-timestamp: <Unix time in seconds>'",
		"-H 'webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body, keyed with the hook secret>'",
		"-H " + shellQuote("webhook-event: "+event),
	}
	if load := clip(clean(r.LoadID), maxIDRunes); load != "" {
		lines = append(lines, "-H "+shellQuote("webhook-load-id: "+load))
	}
	if r.Sequence > 0 {
		lines = append(lines, "-H 'webhook-sequence: "+strconv.FormatInt(r.Sequence, 10)+"'")
	}
	lines = append(lines, "--data-binary @notification.json")
	return strings.Join(lines, " \\\n  ")
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single
// quote written as '\”.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ErrorClass is how an attempt ended, without its error text: "HTTP 503",
// "timed out", "connection error", and so on (what a digest counts).
func ErrorClass(a delivery.Attempt) string {
	a.Error = ""
	return describe(a)
}

// Digest is what a digest email reports: the exhausted deliveries of one
// hook within one window, after the first one (which had its own email).
type Digest struct {
	ClientID    int64
	HookID      int64
	HookURL     string // redacted
	WindowStart time.Time
	WindowEnd   time.Time
	Entries     []delivery.DigestEntry // oldest first
}

// MaxDigestLoads is how many loads a digest lists; the others are counted.
const MaxDigestLoads = 50

type digestView struct {
	Links
	ClientID     int64
	HookID       int64
	HookURL      string
	Count        int
	WindowStart  string
	WindowEnd    string
	Loads        []digestLoad
	MoreLoads    int
	Classes      []classCount
	Snippet      string
	SnippetLines []string
	SnippetLoad  string
	Curl         string
	ReenablePath string
	GeneratedAt  string
}

type digestLoad struct{ LoadID, At, Integration, Table, Class string }

type classCount struct {
	Class string
	N     int
}

// DigestSubject is the digest's subject line: "Unable to Deliver Post Load
// Notification: <n> more for <hook URL, query redacted>".
func DigestSubject(d Digest) string {
	return clip(subjectPrefix+strconv.Itoa(len(d.Entries))+" more for "+clean(hookurl.Redact(d.HookURL)), MaxSubjectRunes)
}

// RenderDigest renders the digest d, sent at now, with the recipient's
// links.
func RenderDigest(d Digest, now time.Time, links Links) Email {
	v := digestView{
		Links: links, ClientID: d.ClientID, HookID: d.HookID,
		HookURL: clip(clean(hookurl.Redact(d.HookURL)), maxURLRunes), Count: len(d.Entries),
		WindowStart: formatTime(d.WindowStart), WindowEnd: formatTime(d.WindowEnd),
		ReenablePath: reenablePath(d.HookID), GeneratedAt: formatTime(now),
	}
	counts := map[string]int{}
	for i, e := range d.Entries {
		class := clip(nameOr(e.ErrorClass, "failed"), 60)
		if counts[class] == 0 {
			v.Classes = append(v.Classes, classCount{Class: class})
		}
		counts[class]++
		if i < MaxDigestLoads {
			v.Loads = append(v.Loads, digestLoad{LoadID: clip(clean(e.LoadID), maxIDRunes), At: formatTime(e.At),
				Integration: clip(nameOr(e.Integration, "unknown integration"), maxNameRunes),
				Table:       clip(clean(e.Table), maxNameRunes), Class: class})
		}
		if s := clip(clean(e.Snippet), maxSnippetRunes); s != "" {
			v.Snippet, v.SnippetLoad = quote(s), clip(clean(e.LoadID), maxIDRunes)
		}
	}
	for i := range v.Classes {
		v.Classes[i].N = counts[v.Classes[i].Class]
	}
	if len(d.Entries) > MaxDigestLoads {
		v.MoreLoads = len(d.Entries) - MaxDigestLoads
	}
	v.SnippetLines = wrap(v.Snippet, snippetLineRunes)
	if n := len(d.Entries); n > 0 {
		last := d.Entries[n-1]
		v.Curl = Curl(Request{HookURL: d.HookURL, WebhookID: last.WebhookID, LoadID: last.LoadID, Event: last.Event, Sequence: last.Sequence})
	}
	return Email{Subject: DigestSubject(d), UnsubscribeURL: links.UnsubscribeURL, Text: digestText(v), HTML: digestHTML(v)}
}
