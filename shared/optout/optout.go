// Package optout makes and checks the one-click unsubscribe links of alert
// emails: a token that names one account and one alert address, expires, and
// is signed with HMAC-SHA256 under a key only the service holds, so that
// nobody can make a token for an address or an account the email was not
// sent to.
//
// A token is "v1." + base64url(payload) + "." + base64url(mac), where the
// payload is "<client_id>.<recipient key>.<expiry Unix seconds>.<nonce>"
// (the recipient key is the hex SHA-256 of the trimmed, lower-cased address,
// so the link does not carry the address itself) and mac is the HMAC-SHA256
// of "optout.v1." + payload under the key. The nonce makes each link unique,
// so the store can refuse a link that was already used (replay).
//
// The package is pure: it does no I/O, keeps no state and does not log.
// Removing the address, and refusing a used link, are the store's job.
package optout

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// TTL is how long an unsubscribe link is valid: long enough for an alert
// read days later, short enough that an old email's link stops working.
const TTL = 30 * 24 * time.Hour

// MinKeyBytes is the shortest key accepted.
const MinKeyBytes = 32

// Errors of Verify. ErrInvalid covers every malformed or forged token; the
// caller shows the same page for both, so a forger learns nothing.
var (
	ErrInvalid  = errors.New("unsubscribe link invalid")
	ErrExpired  = errors.New("unsubscribe link expired")
	ErrShortKey = errors.New("unsubscribe key shorter than 32 bytes")
)

// Token is what a valid link says.
type Token struct {
	ClientID int64
	// RecipientKey is the hex SHA-256 of the trimmed, lower-cased address.
	RecipientKey string
	Expires      time.Time
	// Nonce is unique to the link (26 characters of base32).
	Nonce string
}

// RecipientKey is the key of an address: the hex SHA-256 of the address
// trimmed and lower-cased.
func RecipientKey(address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(sum[:])
}

// Signer makes and checks tokens under one key.
type Signer struct{ key []byte }

// NewSigner returns a Signer, or ErrShortKey.
func NewSigner(key []byte) (Signer, error) {
	if len(key) < MinKeyBytes {
		return Signer{}, ErrShortKey
	}
	return Signer{key: append([]byte(nil), key...)}, nil
}

// Make returns a token for address of clientID, valid until now+TTL.
func (s Signer) Make(clientID int64, address string, now time.Time) string {
	payload := strconv.FormatInt(clientID, 10) + "." + RecipientKey(address) + "." +
		strconv.FormatInt(now.Add(TTL).Unix(), 10) + "." + rand.Text()
	return "v1." + b64(payload) + "." + b64(string(s.mac(payload)))
}

func (s Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("optout.v1." + payload))
	return m.Sum(nil)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// maxTokenBytes bounds what Verify reads.
const maxTokenBytes = 512

// Verify checks token at now and returns what it says: ErrInvalid if it is
// malformed or its signature is not this key's, ErrExpired if it is valid
// but expired.
func (s Signer) Verify(token string, now time.Time) (Token, error) {
	if len(s.key) == 0 || len(token) > maxTokenBytes {
		return Token{}, ErrInvalid
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return Token{}, ErrInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Token{}, ErrInvalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, s.mac(string(payload))) {
		return Token{}, ErrInvalid
	}
	f := strings.Split(string(payload), ".")
	if len(f) != 4 {
		return Token{}, ErrInvalid
	}
	id, err1 := strconv.ParseInt(f[0], 10, 64)
	exp, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || len(f[1]) != 64 || f[3] == "" {
		return Token{}, ErrInvalid
	}
	t := Token{ClientID: id, RecipientKey: f[1], Expires: time.Unix(exp, 0).UTC(), Nonce: f[3]}
	if !now.Before(t.Expires) {
		return t, ErrExpired
	}
	return t, nil
}

// Index returns the index of the first address of addresses whose
// RecipientKey is key, or -1.
func Index(addresses []string, key string) int {
	for i, a := range addresses {
		if RecipientKey(a) == key {
			return i
		}
	}
	return -1
}
