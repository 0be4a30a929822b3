package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
)

func TestMemberships(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createAccount(t, 1, "advanced")
	f.createAccount(t, 2, "standard")
	a, _, err := f.store.CreateMember(ctx, 1, "Ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.store.CreateMember(ctx, 2, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Memberships(ctx, signin.EmailKey("ANA@example.com"))
	if err != nil {
		t.Fatalf("Memberships: %v", err)
	}
	want := []hook.Principal{{ClientID: 1, MemberID: a.ID}, {ClientID: 2, MemberID: b.ID}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("memberships (-got +want):\n%s", diff)
	}
	if err := f.store.DeleteMember(ctx, 1, a.ID); err != nil {
		t.Fatal(err)
	}
	got, err = f.store.Memberships(ctx, signin.EmailKey("ana@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want[1:]); diff != "" {
		t.Errorf("after delete (-got +want):\n%s", diff)
	}
	none, err := f.store.Memberships(ctx, signin.EmailKey("nobody@example.com"))
	if err != nil || len(none) != 0 {
		t.Errorf("unknown address: %v, %v; want none", none, err)
	}
}

func TestSignInLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	t.Run("once", func(t *testing.T) {
		token, err := f.store.CreateSignInLink(ctx, "once@example.com")
		if err != nil {
			t.Fatalf("CreateSignInLink: %v", err)
		}
		ek, err := f.store.UseSignInLink(ctx, token)
		if err != nil || ek != signin.EmailKey("once@example.com") {
			t.Fatalf("UseSignInLink: %q, %v", ek, err)
		}
		_, err = f.store.UseSignInLink(ctx, token)
		wantErr(t, "reuse", err, signin.ErrLinkInvalid)
	})
	t.Run("stored as a hash only", func(t *testing.T) {
		token, err := f.store.CreateSignInLink(ctx, "hash@example.com")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range f.scan(t) {
			for name, v := range it {
				if strings.Contains(strings.ToLower(fmtValue(v)), strings.ToLower(token)) || strings.Contains(fmtValue(v), "hash@example.com") {
					t.Errorf("attribute %s holds the token or the address", name)
				}
			}
		}
	})
	t.Run("expired", func(t *testing.T) {
		token, err := f.store.CreateSignInLink(ctx, "late@example.com")
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(signin.LinkTTL + time.Second)
		_, err = f.store.UseSignInLink(ctx, token)
		wantErr(t, "expired", err, signin.ErrLinkInvalid)
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.store.UseSignInLink(ctx, signin.NewLinkToken())
		wantErr(t, "unknown", err, signin.ErrLinkInvalid)
	})
	t.Run("rate limit", func(t *testing.T) {
		for i := range signin.LinksPerHour {
			if _, err := f.store.CreateSignInLink(ctx, "rate@example.com"); err != nil {
				t.Fatalf("link %d: %v", i+1, err)
			}
		}
		_, err := f.store.CreateSignInLink(ctx, "RATE@example.com")
		wantErr(t, "6th link", err, signin.ErrRateLimited)
		if _, err := f.store.CreateSignInLink(ctx, "other@example.com"); err != nil {
			t.Errorf("another address: %v", err)
		}
		f.clock.Advance(signin.RateWindow)
		if _, err := f.store.CreateSignInLink(ctx, "rate@example.com"); err != nil {
			t.Errorf("next window: %v", err)
		}
	})
}

// fmtValue prints an attribute value with what it holds.
func fmtValue(v any) string { return fmt.Sprintf("%+v", v) }

func TestSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createAccount(t, 7, "advanced")
	m, _, err := f.store.CreateMember(ctx, 7, "sess@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p := hook.Principal{ClientID: 7, MemberID: m.ID}
	ek := signin.EmailKey(m.Email)

	t.Run("live, touched, signed out", func(t *testing.T) {
		id, created, err := f.store.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := f.store.Session(ctx, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(got, created); diff != "" {
			t.Errorf("session (-got +want):\n%s", diff)
		}
		if got.IDHash == id || !strings.HasPrefix(id, "plhs_") {
			t.Errorf("id %q, stored hash %q", id, got.IDHash)
		}
		now := f.clock.Advance(signin.IdleTimeout - time.Minute)
		got, err = f.store.Session(ctx, id)
		if err != nil || !got.SeenAt.Equal(now) {
			t.Fatalf("Session after 11h59m: seen %v, %v; want touched at %v", got.SeenAt, err, now)
		}
		f.clock.Advance(signin.IdleTimeout - time.Minute)
		if _, err := f.store.Session(ctx, id); err != nil {
			t.Fatalf("touched session ended: %v", err)
		}
		if err := f.store.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = f.store.Session(ctx, id)
		wantErr(t, "signed out", err, signin.ErrNoSession)
		if err := f.store.DeleteSession(ctx, id); err != nil {
			t.Errorf("second sign-out: %v", err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		id, _, err := f.store.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(signin.IdleTimeout)
		_, err = f.store.Session(ctx, id)
		wantErr(t, "idle 12h", err, signin.ErrNoSession)
	})
	t.Run("max age", func(t *testing.T) {
		id, _, err := f.store.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			f.clock.Advance(signin.IdleTimeout - time.Hour)
			if _, err := f.store.Session(ctx, id); err != nil {
				break
			}
		}
		_, err = f.store.Session(ctx, id)
		wantErr(t, "past 7 days", err, signin.ErrNoSession)
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.store.Session(ctx, signin.NewSessionID())
		wantErr(t, "unknown", err, signin.ErrNoSession)
	})
	t.Run("bind", func(t *testing.T) {
		id, sess, err := f.store.CreateSession(ctx, ek, hook.Principal{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.BindSession(ctx, sess, p); err != nil {
			t.Fatal(err)
		}
		got, err := f.store.Session(ctx, id)
		if err != nil || got.ClientID != 7 || got.MemberID != m.ID {
			t.Errorf("bound session: %+v, %v", got, err)
		}
		if err := f.store.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = f.store.BindSession(ctx, sess, p)
		wantErr(t, "bind a signed-out session", err, signin.ErrNoSession)
	})
	t.Run("member deleted", func(t *testing.T) {
		id, _, err := f.store.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.DeleteMember(ctx, 7, m.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.store.Session(ctx, id)
		wantErr(t, "deleted member", err, signin.ErrNoSession)
	})
}

func TestAPIAccess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if a := f.createAccount(t, 3, "advanced"); a.NoAPIAccess {
		t.Fatalf("new account without API access")
	}
	off, on := false, true
	for _, tt := range []struct {
		set  *bool
		want bool
	}{{&off, true}, {nil, true}, {&on, false}} {
		a, _, err := f.store.UpdateAccount(ctx, 3, store.AccountUpdate{APIAccess: tt.set, Plan: new("advanced")})
		if err != nil {
			t.Fatal(err)
		}
		if a.NoAPIAccess != tt.want || f.account(t, 3).NoAPIAccess != tt.want {
			t.Errorf("after %v: NoAPIAccess %v, stored %v, want %v", tt.set, a.NoAPIAccess, f.account(t, 3).NoAPIAccess, tt.want)
		}
	}
	created, err := f.store.CreateAccount(ctx, hook.Account{ClientID: 4, Plan: "advanced", NoAPIAccess: true})
	if err != nil || !created.NoAPIAccess || !f.account(t, 4).NoAPIAccess {
		t.Errorf("created without API access: %+v %v", created, err)
	}
}
