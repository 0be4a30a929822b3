package signin

import (
	"strings"
	"testing"
	"time"
)

func TestSessionExpiry(t *testing.T) {
	start := time.Date(2026, 7, 16, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		seen       time.Duration // after start
		now        time.Duration // after start
		wantLive   bool
		wantExpiry time.Duration // after start
	}{
		{"fresh", 0, time.Minute, true, IdleTimeout},
		{"idle almost 12h", 0, IdleTimeout - time.Second, true, IdleTimeout},
		{"idle 12h", 0, IdleTimeout, false, IdleTimeout},
		{"used late on day 7", 6*24*time.Hour + 18*time.Hour, 6*24*time.Hour + 19*time.Hour, true, MaxAge},
		{"used on day 6", 6 * 24 * time.Hour, 6*24*time.Hour + time.Hour, true, 6*24*time.Hour + IdleTimeout},
		{"7 days in all, however busy", MaxAge - time.Minute, MaxAge, false, MaxAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Session{CreatedAt: start, SeenAt: start.Add(tt.seen)}
			if got := s.Live(start.Add(tt.now)); got != tt.wantLive {
				t.Errorf("Live = %v, want %v", got, tt.wantLive)
			}
			if got := s.ExpiresAt(); !got.Equal(start.Add(tt.wantExpiry)) {
				t.Errorf("ExpiresAt = %v, want %v", got, start.Add(tt.wantExpiry))
			}
		})
	}
	s := Session{CreatedAt: start, SeenAt: start}
	if s.NeedsTouch(start.Add(TouchEvery-time.Second)) || !s.NeedsTouch(start.Add(TouchEvery)) {
		t.Errorf("NeedsTouch does not turn at %v", TouchEvery)
	}
}

func TestCSRF(t *testing.T) {
	a, b := NewSessionID(), NewSessionID()
	ta := CSRFToken(a)
	if ta == CSRFToken(b) || ta != CSRFToken(a) || strings.Contains(ta, a) {
		t.Fatalf("token %q: not stable per session, or not distinct, or holds the id", ta)
	}
	for _, tt := range []struct {
		token string
		want  bool
	}{{ta, true}, {CSRFToken(b), false}, {"", false}, {ta[:len(ta)-1], false}, {Hash(a), false}} {
		if got := CSRFValid(a, tt.token); got != tt.want {
			t.Errorf("CSRFValid(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}

func TestSecretsAndKeys(t *testing.T) {
	l, s := NewLinkToken(), NewSessionID()
	if !strings.HasPrefix(l, "plhl_") || !strings.HasPrefix(s, "plhs_") || len(l) < 50 || l == NewLinkToken() {
		t.Errorf("link %q, session %q", l, s)
	}
	if Hash(l) == l || len(Hash(l)) != 64 {
		t.Errorf("Hash(%q) = %q", l, Hash(l))
	}
	if EmailKey("Ana@Example.com ") != EmailKey("ana@example.com") || EmailKey("ana@example.com") == EmailKey("bob@example.com") {
		t.Errorf("EmailKey does not fold case and spaces, or collides")
	}
	if RateBucket(time.Date(2026, 1, 1, 10, 59, 0, 0, time.UTC)) != RateBucket(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) ||
		RateBucket(time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)) == RateBucket(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("RateBucket does not split at the hour")
	}
}
