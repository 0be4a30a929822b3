package hook

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// SecretPrefix starts every hook signing secret (Standard Webhooks format).
const SecretPrefix = "whsec_"

// TokenPrefix starts every member API token, so leaked tokens are easy to
// recognise in code scanners.
const TokenPrefix = "plh_"

// NewSecret returns a new hook signing secret: "whsec_" and the standard
// base64 of 32 random bytes.
func NewSecret() string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(randomBytes(32))
}

// NewToken returns a new member API token. Only HashToken of it is stored.
func NewToken() string {
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 random
// bits, so an unsalted fast hash is enough to make the stored value useless
// to someone who reads the table.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewMemberID returns a random member id (32 hex characters).
func NewMemberID() string { return hex.EncodeToString(randomBytes(16)) }

// WebhookID is the Standard Webhooks message id of one (load, hook) pair:
// the same for every attempt and for a re-sent load, so receivers can
// de-duplicate.
// It is "msg_" and the first 32 hex digits of SHA-256 of
// "<client_id>:<load_id>:<hook_id>", built in buffers of the stack: every
// attempt names its pair's id.
func WebhookID(clientID int64, loadID string, hookID int64) string {
	var buf [64]byte // most pairs' "<client_id>:<load_id>:<hook_id>" fit
	pair := strconv.AppendInt(buf[:0], clientID, 10)
	pair = append(append(pair, ':'), loadID...)
	pair = strconv.AppendInt(append(pair, ':'), hookID, 10)
	sum := sha256.Sum256(pair)
	var id [len(webhookIDPrefix) + 32]byte
	copy(id[:], webhookIDPrefix)
	hex.Encode(id[len(webhookIDPrefix):], sum[:16])
	return string(id[:])
}

const webhookIDPrefix = "msg_"

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return b
}
