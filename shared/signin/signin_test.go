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
		{"fresh", 0, time.Minute, true, IdleTimeout + TouchEvery},
		{"idle 12h since it was last seen", 0, IdleTimeout, true, IdleTimeout + TouchEvery},
		// Seen at 0, last used (untouched) just before TouchEvery: live
		// until 12 hours after that use.
		{"idle almost 12h since its last use", 0, TouchEvery - time.Second + IdleTimeout - time.Second, true, IdleTimeout + TouchEvery},
		{"idle 12h since every use it may have had", 0, IdleTimeout + TouchEvery, false, IdleTimeout + TouchEvery},
		{"used late on day 7", 6*24*time.Hour + 18*time.Hour, 6*24*time.Hour + 19*time.Hour, true, MaxAge},
		{"used on day 6", 6 * 24 * time.Hour, 6*24*time.Hour + time.Hour, true, 6*24*time.Hour + IdleTimeout + TouchEvery},
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
}

// TestRecentLinksSlides: the limit counts the hour before each request,
// not clock hours.
func TestRecentLinksSlides(t *testing.T) {
	at := func(hh, mm, ss int) time.Time { return time.Date(2026, 1, 1, hh, mm, ss, 0, time.UTC) }
	var sent []int64
	for i := range LinksPerHour {
		var ok bool
		if sent, ok = RecentLinks(sent, at(10, 59, 50+i)); !ok {
			t.Fatalf("link %d refused", i+1)
		}
	}
	if _, ok := RecentLinks(sent, at(11, 0, 0)); ok {
		t.Error("a 6th link at 11:00:00 was allowed after 5 at 10:59")
	}
	if _, ok := RecentLinks(sent, at(11, 59, 49)); ok {
		t.Error("a link was allowed while 5 are within the hour before it")
	}
	kept, ok := RecentLinks(sent, at(11, 59, 50)) // the first was sent an hour ago
	if !ok || len(kept) != LinksPerHour || kept[len(kept)-1] != at(11, 59, 50).UnixMilli() {
		t.Errorf("after the first left the window: ok=%v kept=%v", ok, kept)
	}
	if kept, ok := RecentLinks(sent, at(13, 0, 0)); !ok || len(kept) != 1 {
		t.Errorf("two hours on: ok=%v kept=%v, want only the new one", ok, kept)
	}
}
