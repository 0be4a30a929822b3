// Package signin is the passwordless sign-in of the web app: one-time links
// sent by email, the sessions they open, and the rules both keep (how long a
// link lives, how many are sent per address, when a session ends, how a
// form's CSRF token is tied to its session).
//
// It imports only the standard library. It does not store anything, send
// mail or speak HTTP: the store keeps links and sessions (as hashes only),
// the API function sends the email and sets the cookie.
package signin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Windows of the sign-in rules.
const (
	// LinkTTL is how long a sign-in link can be used (once), unless the API
	// function is given a shorter time (HOOKS_SIGNIN_LINK_TTL, for tests and
	// local runs).
	LinkTTL = 15 * time.Minute
	// LinksPerHour is how many links one address is sent at most in any
	// RateWindow.
	LinksPerHour = 5
	// RateWindow is the sliding window LinksPerHour counts in: an address
	// is sent a link only when fewer than LinksPerHour were sent to it in
	// the RateWindow before now (so never 5 at 10:59 and 5 more at 11:00).
	RateWindow = time.Hour
	// IdleTimeout ends a session not used for this long.
	IdleTimeout = 12 * time.Hour
	// MaxAge ends every session this long after sign-in.
	MaxAge = 7 * 24 * time.Hour
	// TouchEvery is how stale a session's last-seen time may get before a
	// request writes it again (one write per few minutes, not per request).
	TouchEvery = 5 * time.Minute
)

// Errors of sign-in. The store returns them; the web app maps them.
var (
	// ErrLinkInvalid: the link is unknown, used already or expired. Callers
	// cannot tell which (nor should a visitor).
	ErrLinkInvalid = errors.New("sign-in link invalid")
	// ErrRateLimited: the address has been sent LinksPerHour links in this
	// window.
	ErrRateLimited = errors.New("sign-in links rate limited")
	// ErrNoSession: the session is unknown, signed out, expired or its
	// member is gone.
	ErrNoSession = errors.New("no session")
)

// Token prefixes, so leaked values are easy to recognise.
const (
	linkPrefix    = "plhl_"
	sessionPrefix = "plhs_"
)

// NewLinkToken returns a new sign-in link token (256 random bits).
func NewLinkToken() string { return linkPrefix + rand.Text() + rand.Text() }

// NewSessionID returns a new session id (256 random bits), the cookie value.
func NewSessionID() string { return sessionPrefix + rand.Text() + rand.Text() }

// Hash is the hex SHA-256 of a link token or session id: what the store
// keeps. The values carry 256 random bits, so a fast unsalted hash is enough.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// EmailKey is the hex SHA-256 of an address in lower case: the key under
// which memberships and rate counters are kept, so the same address always
// meets the same limit whatever its spelling's case.
func EmailKey(email string) string { return Hash(strings.ToLower(strings.TrimSpace(email))) }

// Session is one signed-in browser. ClientID is 0 until a member of several
// accounts has picked one.
type Session struct {
	IDHash    string
	EmailKey  string
	ClientID  int64
	MemberID  string
	CreatedAt time.Time
	SeenAt    time.Time
}

// ExpiresAt is when the session ends if it is not used again: IdleTimeout
// after its last request, and never later than MaxAge after sign-in. SeenAt
// is written again only once it is TouchEvery old, so the last request may
// be up to TouchEvery later than SeenAt: the session ends IdleTimeout plus
// TouchEvery after SeenAt, between 12 hours and 12 hours 5 minutes after
// its last request, never sooner.
func (s Session) ExpiresAt() time.Time {
	idle := s.SeenAt.Add(IdleTimeout + TouchEvery)
	if hard := s.CreatedAt.Add(MaxAge); hard.Before(idle) {
		return hard
	}
	return idle
}

// Live reports whether the session is still usable at now.
func (s Session) Live(now time.Time) bool { return now.Before(s.ExpiresAt()) }

// NeedsTouch reports whether a request at now should record itself as the
// session's last use.
func (s Session) NeedsTouch(now time.Time) bool { return now.Sub(s.SeenAt) >= TouchEvery }

// CSRFToken is the session's form token: an HMAC of a fixed label keyed
// with the session id. Only the holder of the cookie can compute it, it is
// the same for every form of the session and it changes with the session.
func CSRFToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("post-load-hooks csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CSRFValid reports, in constant time, whether token is the session's.
func CSRFValid(sessionID, token string) bool {
	return token != "" && hmac.Equal([]byte(CSRFToken(sessionID)), []byte(token))
}

// RecentLinks is what the rate limit keeps of an address's send times
// (Unix milliseconds, oldest first): those within the RateWindow before
// now, with now added when one more link may be sent (fewer than
// LinksPerHour were). ok reports whether it may.
func RecentLinks(sent []int64, now time.Time) (kept []int64, ok bool) {
	since := now.Add(-RateWindow).UnixMilli()
	for _, t := range sent {
		if t > since {
			kept = append(kept, t)
		}
	}
	if len(kept) >= LinksPerHour {
		return kept, false
	}
	return append(kept, now.UnixMilli()), true
}
