package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
)

// The alert emails' one-click unsubscribe: exactly the address and account
// the link was signed for, once, before it expires; GET only asks.
func TestWebUnsubscribe(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef-unsub")
	signer, err := optout.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	forger, _ := optout.NewSigner([]byte("another key, another key, another key"))
	s := newTestStore(func() time.Time { return testNow })
	emails := []string{"ops@example.com", "ana@example.com"}
	s.PutAccount(hook.Account{ClientID: 1, Plan: "advanced", AlertEmails: emails})
	s.PutAccount(hook.Account{ClientID: 2, Plan: "advanced", AlertEmails: emails})
	h := routes(discardLogger(), s, tokenAdmin(adminToken), hooksConfig{},
		webConfig{appURL: "https://app.example.com", unsubscribe: signer, now: func() time.Time { return testNow }})
	oneClick := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", unsubscribePath+"?"+url.Values{"token": {token}}.Encode(), strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	alertEmails := func(id int64) []string {
		a, err := s.Account(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return a.AlertEmails
	}

	good := signer.Make(1, "Ana@example.com", testNow)
	// GET shows the button and changes nothing.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", unsubscribePath+"?token="+url.QueryEscape(good), nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<button type="submit">Unsubscribe</button>`) {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	if got := alertEmails(1); !cmp.Equal(got, emails) {
		t.Fatalf("GET changed the addresses: %v", got)
	}

	for _, tt := range []struct {
		name, token string
		code        int
	}{
		{"forged", forger.Make(1, "ops@example.com", testNow), http.StatusBadRequest},
		{"tampered", good[:len(good)-2] + "AA", http.StatusBadRequest},
		{"expired", signer.Make(1, "ops@example.com", testNow.Add(-optout.TTL)), http.StatusGone},
		{"garbage", "v1.x.y", http.StatusBadRequest},
	} {
		if rec := oneClick(tt.token); rec.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.code)
		}
	}
	if got := alertEmails(1); !cmp.Equal(got, emails) {
		t.Fatalf("refused links changed the addresses: %v", got)
	}

	if rec := oneClick(good); rec.Code != http.StatusOK {
		t.Fatalf("one-click: %d %s", rec.Code, rec.Body)
	}
	if got := alertEmails(1); !cmp.Equal(got, []string{"ops@example.com"}) {
		t.Errorf("account 1: %v, want only ana removed", got)
	}
	if got := alertEmails(2); !cmp.Equal(got, emails) {
		t.Errorf("other account: %v, want unchanged", got)
	}
	// Replay, after a member added the address again: nothing changes.
	s.PutAccount(hook.Account{ClientID: 1, Plan: "advanced", AlertEmails: emails})
	if rec := oneClick(good); rec.Code != http.StatusGone {
		t.Errorf("replay: %d, want 410", rec.Code)
	}
	if got := alertEmails(1); !cmp.Equal(got, emails) {
		t.Errorf("after replay: %v, want %v", got, emails)
	}
	// The button's form post works the same way.
	req := httptest.NewRequest("POST", unsubscribePath, strings.NewReader(url.Values{"token": {signer.Make(2, "ops@example.com", testNow)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !cmp.Equal(alertEmails(2), []string{"ana@example.com"}) {
		t.Errorf("form post: %d, addresses %v", rec.Code, alertEmails(2))
	}
}
