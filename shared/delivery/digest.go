package delivery

import (
	"time"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// KindDigest is the kind of the alerter's own message on the alerts queue:
// take the digest of one hook's window once it has ended.
const KindDigest = "digest"

// DefaultDigestWindow is how long the window opened by a hook's first
// exhausted delivery lasts when nothing shortens it.
const DefaultDigestWindow = time.Hour

// MaxDigestDelay is the longest delay of one digest message (SQS's
// DelaySeconds limit, 15 minutes): a longer window is waited out by a chain
// of messages, each sent again with the delay still left.
const MaxDigestDelay = 900 * time.Second

// DigestMessage asks the alerter to send the digest of the alert window of
// one hook that starts at WindowStart, once WindowEnd has passed. The
// alerter puts it on its own queue, delayed, when a window opens.
type DigestMessage struct {
	Kind        string    `json:"kind"` // KindDigest
	ClientID    int64     `json:"client_id"`
	HookID      int64     `json:"hook_id"`
	HookURL     string    `json:"hook_url"` // redacted (hookurl.Redact), as in AlertMessage
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
}

// Encode is the message as queued.
func (m DigestMessage) Encode() []byte { return encode(m) }

// DigestDelay is how long the digest message of a window ending at end waits
// when sent at now: what is left of the window, in whole seconds rounded up,
// at most MaxDigestDelay, zero once it has ended.
func DigestDelay(end, now time.Time) time.Duration {
	d := end.Sub(now)
	if d <= 0 {
		return 0
	}
	d = (d + time.Second - 1).Truncate(time.Second)
	return min(d, MaxDigestDelay)
}

// DigestEntry is one exhausted delivery kept for a hook's digest: the facts
// the digest lists, each bounded as an alert message's are.
type DigestEntry struct {
	LoadID      string
	WebhookID   string
	Integration string
	Table       string    // the root table
	At          time.Time // the last attempt
	ErrorClass  string    // how the last attempt ended (mail.ErrorClass), e.g. "HTTP 503"
	Snippet     string    // the start of the last response body kept, if any
	// Event and Sequence are the alert message's: the webhook-event and
	// webhook-sequence headers of the delivery's requests, for the
	// digest's curl command ("" and 0 when the message or the entry is of
	// an earlier version, or the requests carried no sequence).
	Event    string
	Sequence int64
	// AttemptCount is the alert message's (AlertLoadID): which sequence
	// of the pair was exhausted. Not listed; it only keys the placement.
	AttemptCount int
}

var digestKeys = []string{"kind", "client_id", "hook_id", "hook_url", "window_start", "window_end"}

// DecodeDigest reads a digest message under package strictjson's key rule,
// with no key but its own (as DecodeAlert). Every error is a
// *strictjson.Error.
func DecodeDigest(raw []byte) (DigestMessage, error) {
	var m DigestMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindDigest); err != nil {
		return m, err
	}
	if m.ClientID, err = o.Positive("client_id"); err != nil {
		return m, err
	}
	if m.HookID, err = o.Positive("hook_id"); err != nil {
		return m, err
	}
	if m.HookURL, err = o.Name("hook_url"); err != nil {
		return m, err
	}
	if m.WindowStart, err = o.Time("window_start"); err != nil {
		return m, err
	}
	if m.WindowEnd, err = o.Time("window_end"); err != nil {
		return m, err
	}
	if !m.WindowEnd.After(m.WindowStart) {
		return m, &strictjson.Error{Field: "window_end", Reason: "must be after window_start"}
	}
	if err := o.Only(digestKeys...); err != nil {
		return m, err
	}
	return m, nil
}

// AlertQueueKind returns the kind of a message of the alerts queue
// (KindExhausted, KindDigest or KindReenabled), so the reader picks its decoder; the
// decoder checks everything else.
func AlertQueueKind(raw []byte) (string, error) {
	o, err := strictjson.Parse(raw)
	if err != nil {
		return "", err
	}
	k, err := o.String("kind")
	if err != nil {
		return "", err
	}
	if k != KindExhausted && k != KindDigest && k != KindReenabled {
		return "", &strictjson.Error{Field: "kind", Reason: "must be " + KindExhausted + ", " + KindDigest + " or " + KindReenabled}
	}
	return k, nil
}
