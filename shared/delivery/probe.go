package delivery

import (
	"bytes"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Kinds of the hook health messages.
const (
	// KindProbe is a ProbeMessage, on the retry queue (the dispatcher
	// sends the ping, with its webhook client).
	KindProbe = "probe"
	// KindReenabled is a ReenabledMessage, on the alerts queue (the
	// alerter sends the email).
	KindReenabled = "reenabled"
)

// ProbeMessage asks the dispatcher to make probe Step of a hook the service
// disabled for failing at DisabledAt. It is due at the probe schedule's
// time for that step; a message that arrives before is put back, delayed by
// what is left (at most MaxDigestDelay: a longer wait is a chain).
type ProbeMessage struct {
	Kind       string    `json:"kind"` // KindProbe
	ClientID   int64     `json:"client_id"`
	HookID     int64     `json:"hook_id"`
	DisabledAt time.Time `json:"disabled_at"`
	Step       int       `json:"step"` // from 1
	// ReplaySince is where the replay after a recovery starts (the hook's
	// hook.Probe.ReplaySince when it was disabled).
	ReplaySince time.Time `json:"replay_since"`
}

// Encode is the message as queued.
func (m ProbeMessage) Encode() []byte { return encode(m) }

// ReenabledMessage asks the alerter to email the account that a hook
// disabled for failing at DisabledAt answered a probe and was enabled again
// at ReenabledAt, and Replayed deliveries were sent again.
type ReenabledMessage struct {
	Kind        string    `json:"kind"` // KindReenabled
	ClientID    int64     `json:"client_id"`
	HookID      int64     `json:"hook_id"`
	HookURL     string    `json:"hook_url"` // redacted (hookurl.Redact)
	DisabledAt  time.Time `json:"disabled_at"`
	ReenabledAt time.Time `json:"reenabled_at"`
	Replayed    int       `json:"replayed"`
}

// Encode is the message as queued.
func (m ReenabledMessage) Encode() []byte { return encode(m) }

// MaxProbeStep bounds a probe message's step: far above any schedule of a
// few days.
const MaxProbeStep = 100000

var probeKeys = []string{"kind", "client_id", "hook_id", "disabled_at", "step", "replay_since"}

// DecodeProbe reads a probe message under package strictjson's key rule,
// with no key but its own. Every error is a *strictjson.Error.
func DecodeProbe(raw []byte) (ProbeMessage, error) {
	var m ProbeMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindProbe); err != nil {
		return m, err
	}
	if m.ClientID, err = o.Positive("client_id"); err != nil {
		return m, err
	}
	if m.HookID, err = o.Positive("hook_id"); err != nil {
		return m, err
	}
	if m.DisabledAt, err = o.Time("disabled_at"); err != nil {
		return m, err
	}
	n, err := o.Positive("step")
	if err != nil {
		return m, err
	}
	if n > MaxProbeStep {
		return m, &strictjson.Error{Field: "step", Reason: "out of range"}
	}
	m.Step = int(n)
	if m.ReplaySince, err = o.Time("replay_since"); err != nil {
		return m, err
	}
	if err := o.Only(probeKeys...); err != nil {
		return m, err
	}
	return m, nil
}

var reenabledKeys = []string{"kind", "client_id", "hook_id", "hook_url", "disabled_at", "reenabled_at", "replayed"}

// DecodeReenabled reads a re-enabled message under package strictjson's key
// rule, with no key but its own. Every error is a *strictjson.Error.
func DecodeReenabled(raw []byte) (ReenabledMessage, error) {
	var m ReenabledMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindReenabled); err != nil {
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
	if m.DisabledAt, err = o.Time("disabled_at"); err != nil {
		return m, err
	}
	if m.ReenabledAt, err = o.Time("reenabled_at"); err != nil {
		return m, err
	}
	n, err := o.Int("replayed")
	if err != nil {
		return m, err
	}
	if n < 0 || n > 100000 {
		return m, &strictjson.Error{Field: "replayed", Reason: "out of range"}
	}
	m.Replayed = int(n)
	if err := o.Only(reenabledKeys...); err != nil {
		return m, err
	}
	return m, nil
}

// probePrefix is how every probe message starts (Encode writes kind
// first), so the dispatcher tells probes from retries without parsing.
const probePrefix = `{"kind":"probe",`

// IsProbe reports whether a message of the retry queue is a probe, as
// Encode writes it (the dispatcher then decodes it with DecodeProbe, which
// checks everything; anything else is read as a retry).
func IsProbe(raw []byte) bool { return bytes.HasPrefix(raw, []byte(probePrefix)) }

// PingBody is the signed body of a probe: version 1.0, type ping, the
// hook's id and when it was sent (RFC 3339, UTC, to the second).
func PingBody(hookID int64, sentAt time.Time) []byte {
	return []byte(`{"version":"1.0","type":"ping","hook_id":` + strconv.FormatInt(hookID, 10) +
		`,"sent_at":"` + sentAt.UTC().Format(time.RFC3339) + `"}`)
}

// Ledger names of the health emails in the alert ledger (one per disable),
// so each address gets each email once however often it is asked for.
func DisabledAlertID(disabledAt time.Time) string {
	return "health-disabled-" + strconv.FormatInt(disabledAt.UnixMilli(), 10)
}

// ReenabledAlertID is the ledger name of the re-enable email of the disable
// at disabledAt.
func ReenabledAlertID(disabledAt time.Time) string {
	return "health-reenabled-" + strconv.FormatInt(disabledAt.UnixMilli(), 10)
}
