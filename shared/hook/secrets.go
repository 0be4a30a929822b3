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
func WebhookID(clientID int64, loadID string, hookID int64) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(clientID, 10) + ":" + loadID + ":" + strconv.FormatInt(hookID, 10)))
	return "msg_" + hex.EncodeToString(sum[:16])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return b
}
