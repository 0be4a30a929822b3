package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// ErrSecret means a signing secret is not "whsec_" followed by non-empty
// standard base64.
var ErrSecret = errors.New("malformed signing secret")

// Sign returns the Standard Webhooks signature of one attempt:
// "v1," + base64 of HMAC-SHA256, keyed with the decoded secret, over
// "{webhookID}.{unix seconds of ts}.{body}".
func Sign(secret, webhookID string, ts time.Time, body []byte) (string, error) {
	return sign(nil, secret, webhookID, strconv.FormatInt(ts.Unix(), 10), body)
}

// sign is Sign with the timestamp as the webhook-timestamp header writes
// it, with a MAC from keys (nil: a MAC keyed for this signature only).
// Every attempt signs (with its hook's own secret), so it keeps to one
// buffer: the signed prefix, then the MAC, then the "v1,<base64>" text.
func sign(keys *Keys, secret, webhookID, ts string, body []byte) (string, error) {
	mac, err := keys.take(secret)
	if err != nil {
		return "", err
	}
	defer keys.give(secret, mac)
	buf := make([]byte, 0, len(webhookID)+len(ts)+2+sha256.Size+len(sigPrefix)+sigTextLen)
	signed := append(append(append(append(buf, webhookID...), '.'), ts...), '.')
	mac.Write(signed)
	mac.Write(body)
	sum := mac.Sum(signed[len(signed):])         // the MAC, after the prefix
	text := append(sum[len(sum):], sigPrefix...) // the signature, after the MAC
	return string(base64.StdEncoding.AppendEncode(text, sum)), nil
}

// newMAC is an HMAC-SHA256 keyed with the decoded secret.
func newMAC(secret string) (hash.Hash, error) {
	enc, ok := strings.CutPrefix(secret, hook.SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) == 0 {
		return nil, ErrSecret
	}
	return hmac.New(sha256.New, key), nil
}

// Keys keeps the keyed MACs of one batch of attempts, so that the
// attempts of one hook decode its secret and key an HMAC once, not once per
// attempt: a MAC goes back to its secret's list after its signature, reset
// to its keyed state (the same signature as a new MAC's). A caller makes
// one Keys for a batch (one invocation) and sets it on the batch's
// requests; it ends with the batch, so a rotated secret is not kept. It is
// safe for concurrent use; the zero value is ready.
type Keys struct {
	mu   sync.Mutex
	free map[string][]hash.Hash // by secret: MACs not in use, in their keyed state
}

// take is a MAC keyed with secret: one given back before, else a new one.
func (k *Keys) take(secret string) (hash.Hash, error) {
	if k != nil {
		k.mu.Lock()
		if macs := k.free[secret]; len(macs) > 0 {
			mac := macs[len(macs)-1]
			k.free[secret] = macs[:len(macs)-1]
			k.mu.Unlock()
			return mac, nil
		}
		k.mu.Unlock()
	}
	return newMAC(secret)
}

// give puts back a MAC that take returned, once its signature is made.
func (k *Keys) give(secret string, mac hash.Hash) {
	if k == nil {
		return
	}
	mac.Reset()
	k.mu.Lock()
	if k.free == nil {
		k.free = map[string][]hash.Hash{}
	}
	k.free[secret] = append(k.free[secret], mac)
	k.mu.Unlock()
}

// sigPrefix starts every signature; sigTextLen is the length of the base64
// of a MAC.
const sigPrefix = "v1,"

var sigTextLen = base64.StdEncoding.EncodedLen(sha256.Size)

// Errors of Verify.
var (
	ErrNoSignature = errors.New("no webhook-signature header")
	ErrTimestamp   = errors.New("webhook-timestamp is not unix seconds")
	ErrMismatch    = errors.New("no signature matches the secret")
)

// Verify checks a Standard Webhooks request as a receiver does: header is
// the webhook-signature value (space-separated "v1,<base64>" entries, any
// of which may match, as during a secret rotation), webhookID and timestamp
// the webhook-id and webhook-timestamp values, body the raw request body.
// It returns nil when one entry is Sign's signature with secret, ErrSecret
// for a malformed secret, and ErrNoSignature, ErrTimestamp or ErrMismatch
// otherwise. It compares in constant time. It does not judge the
// timestamp's age: a receiver guarding against replays checks that itself.
func Verify(secret, webhookID, timestamp, header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	want, err := Sign(secret, webhookID, time.Unix(sec, 0), body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(header) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrMismatch
}
