package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
)

// The web app's sign-in and the account's api_access, in the store's
// contract (run on DynamoDB Local and on memstore by runContract).

// stored reads an account back through the store.
func (c contract) stored(t *testing.T, clientID int64) hook.Account {
	t.Helper()
	a, err := c.s.Account(ctx, clientID)
	if err != nil {
		t.Fatalf("Account(%d): %v", clientID, err)
	}
	return a
}

func contractMemberships(t *testing.T, c contract) {
	c.account(t, 1, "advanced")
	c.account(t, 2, "standard")
	a, _, err := c.s.CreateMember(ctx, 1, "Ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := c.s.CreateMember(ctx, 2, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.s.Memberships(ctx, signin.EmailKey("ANA@example.com"))
	if err != nil {
		t.Fatalf("Memberships: %v", err)
	}
	want := []hook.Principal{{ClientID: 1, MemberID: a.ID}, {ClientID: 2, MemberID: b.ID}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("memberships (-got +want):\n%s", diff)
	}
	if err := c.s.DeleteMember(ctx, 1, a.ID); err != nil {
		t.Fatal(err)
	}
	got, err = c.s.Memberships(ctx, signin.EmailKey("ana@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want[1:]); diff != "" {
		t.Errorf("after delete (-got +want):\n%s", diff)
	}
	none, err := c.s.Memberships(ctx, signin.EmailKey("nobody@example.com"))
	if err != nil || len(none) != 0 {
		t.Errorf("unknown address: %v, %v; want none", none, err)
	}
}

func contractSessions(t *testing.T, c contract) {
	c.account(t, 7, "advanced")
	m, _, err := c.s.CreateMember(ctx, 7, "sess@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p := hook.Principal{ClientID: 7, MemberID: m.ID}
	ek := signin.EmailKey(m.Email)

	t.Run("live, touched, signed out", func(t *testing.T) {
		id, created, err := c.s.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := c.s.Session(ctx, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(got, created); diff != "" {
			t.Errorf("session (-got +want):\n%s", diff)
		}
		if got.IDHash == id || !strings.HasPrefix(id, "plhs_") {
			t.Errorf("id %q, stored hash %q", id, got.IDHash)
		}
		now := c.clock.Advance(signin.IdleTimeout - time.Minute)
		got, err = c.s.Session(ctx, id)
		if err != nil || !got.SeenAt.Equal(now) {
			t.Fatalf("Session after 11h59m: seen %v, %v; want touched at %v", got.SeenAt, err, now)
		}
		c.clock.Advance(signin.IdleTimeout - time.Minute)
		if _, err := c.s.Session(ctx, id); err != nil {
			t.Fatalf("touched session ended: %v", err)
		}
		if err := c.s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = c.s.Session(ctx, id)
		wantErr(t, "signed out", err, signin.ErrNoSession)
		if err := c.s.DeleteSession(ctx, id); err != nil {
			t.Errorf("second sign-out: %v", err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		id, _, err := c.s.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		// A request within TouchEvery of the last write is not written:
		// the session must still live 12 hours after it.
		c.clock.Advance(signin.TouchEvery - time.Second)
		if _, err := c.s.Session(ctx, id); err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(signin.IdleTimeout - time.Second)
		if _, err := c.s.Session(ctx, id); err != nil {
			t.Fatalf("11h59m59s after its last request: %v", err)
		}
		id, _, err = c.s.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(signin.IdleTimeout + signin.TouchEvery)
		_, err = c.s.Session(ctx, id)
		wantErr(t, "idle 12h05m", err, signin.ErrNoSession)
	})
	t.Run("max age", func(t *testing.T) {
		id, _, err := c.s.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			c.clock.Advance(signin.IdleTimeout - time.Hour)
			if _, err := c.s.Session(ctx, id); err != nil {
				break
			}
		}
		_, err = c.s.Session(ctx, id)
		wantErr(t, "past 7 days", err, signin.ErrNoSession)
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := c.s.Session(ctx, signin.NewSessionID())
		wantErr(t, "unknown", err, signin.ErrNoSession)
	})
	t.Run("bind", func(t *testing.T) {
		id, sess, err := c.s.CreateSession(ctx, ek, hook.Principal{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.s.BindSession(ctx, sess, p); err != nil {
			t.Fatal(err)
		}
		got, err := c.s.Session(ctx, id)
		if err != nil || got.ClientID != 7 || got.MemberID != m.ID {
			t.Errorf("bound session: %+v, %v", got, err)
		}
		if err := c.s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = c.s.BindSession(ctx, sess, p)
		wantErr(t, "bind a signed-out session", err, signin.ErrNoSession)
	})
	t.Run("member deleted", func(t *testing.T) {
		id, _, err := c.s.CreateSession(ctx, ek, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.s.DeleteMember(ctx, 7, m.ID); err != nil {
			t.Fatal(err)
		}
		_, err = c.s.Session(ctx, id)
		wantErr(t, "deleted member", err, signin.ErrNoSession)
	})
}

func contractAPIAccess(t *testing.T, c contract) {
	if a := c.account(t, 3, "advanced"); a.NoAPIAccess {
		t.Fatalf("new account without API access")
	}
	off, on := false, true
	for _, tt := range []struct {
		set  *bool
		want bool
	}{{&off, true}, {nil, true}, {&on, false}} {
		a, _, err := c.s.UpdateAccount(ctx, 3, store.AccountUpdate{APIAccess: tt.set, Plan: new("advanced")})
		if err != nil {
			t.Fatal(err)
		}
		if a.NoAPIAccess != tt.want || c.stored(t, 3).NoAPIAccess != tt.want {
			t.Errorf("after %v: NoAPIAccess %v, stored %v, want %v", tt.set, a.NoAPIAccess, c.stored(t, 3).NoAPIAccess, tt.want)
		}
	}
	created, err := c.s.CreateAccount(ctx, hook.Account{ClientID: 4, Plan: "advanced", NoAPIAccess: true})
	if err != nil || !created.NoAPIAccess || !c.stored(t, 4).NoAPIAccess {
		t.Errorf("created without API access: %+v %v", created, err)
	}
}

func contractSignInLinks(t *testing.T, c contract) {

	t.Run("once", func(t *testing.T) {
		token, err := c.s.CreateSignInLink(ctx, "once@example.com", signin.LinkTTL)
		if err != nil {
			t.Fatalf("CreateSignInLink: %v", err)
		}
		ek, err := c.s.UseSignInLink(ctx, token)
		if err != nil || ek != signin.EmailKey("once@example.com") {
			t.Fatalf("UseSignInLink: %q, %v", ek, err)
		}
		_, err = c.s.UseSignInLink(ctx, token)
		wantErr(t, "reuse", err, signin.ErrLinkInvalid)
	})
	t.Run("concurrent uses: one wins", func(t *testing.T) {
		token, err := c.s.CreateSignInLink(ctx, "race@example.com", signin.LinkTTL)
		if err != nil {
			t.Fatal(err)
		}
		const uses = 8
		errs := make([]error, uses)
		var wg sync.WaitGroup
		for i := range uses {
			wg.Go(func() { _, errs[i] = c.s.UseSignInLink(ctx, token) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, signin.ErrLinkInvalid):
				t.Errorf("use %d: %v", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent uses succeeded, want 1", won, uses)
		}
	})
	t.Run("expired", func(t *testing.T) {
		token, err := c.s.CreateSignInLink(ctx, "late@example.com", signin.LinkTTL)
		if err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(signin.LinkTTL + time.Second)
		_, err = c.s.UseSignInLink(ctx, token)
		wantErr(t, "expired", err, signin.ErrLinkInvalid)
	})
	t.Run("a shorter life", func(t *testing.T) {
		short, err := c.s.CreateSignInLink(ctx, "short@example.com", 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		long, err := c.s.CreateSignInLink(ctx, "short@example.com", signin.LinkTTL)
		if err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(31 * time.Second)
		_, err = c.s.UseSignInLink(ctx, short)
		wantErr(t, "31 s after a 30 s link", err, signin.ErrLinkInvalid)
		if _, err := c.s.UseSignInLink(ctx, long); err != nil {
			t.Errorf("a 15 min link after 31 s: %v", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := c.s.UseSignInLink(ctx, signin.NewLinkToken())
		wantErr(t, "unknown", err, signin.ErrLinkInvalid)
	})
	t.Run("rate limit", func(t *testing.T) {
		for i := range signin.LinksPerHour {
			if _, err := c.s.CreateSignInLink(ctx, "rate@example.com", signin.LinkTTL); err != nil {
				t.Fatalf("link %d: %v", i+1, err)
			}
			c.clock.Advance(10 * time.Minute) // the 5th is sent 40 min after the 1st
		}
		_, err := c.s.CreateSignInLink(ctx, "RATE@example.com", signin.LinkTTL)
		wantErr(t, "6th link", err, signin.ErrRateLimited)
		if _, err := c.s.CreateSignInLink(ctx, "other@example.com", signin.LinkTTL); err != nil {
			t.Errorf("another address: %v", err)
		}
		// The window slides: 59 min after the 1st link it still counts;
		// once it is an hour old, one more may go, and not two.
		c.clock.Advance(9 * time.Minute)
		_, err = c.s.CreateSignInLink(ctx, "rate@example.com", signin.LinkTTL)
		wantErr(t, "59 min after the 1st", err, signin.ErrRateLimited)
		c.clock.Advance(time.Minute)
		if _, err := c.s.CreateSignInLink(ctx, "rate@example.com", signin.LinkTTL); err != nil {
			t.Errorf("an hour after the 1st: %v", err)
		}
		_, err = c.s.CreateSignInLink(ctx, "rate@example.com", signin.LinkTTL)
		wantErr(t, "a second link once the 1st left the window", err, signin.ErrRateLimited)
		c.clock.Advance(signin.RateWindow)
		for i := range signin.LinksPerHour {
			if _, err := c.s.CreateSignInLink(ctx, "rate@example.com", signin.LinkTTL); err != nil {
				t.Errorf("an hour later, link %d: %v", i+1, err)
			}
		}
	})
	t.Run("rate limit, at once", func(t *testing.T) {
		const tries = 8
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Go(func() { _, errs[i] = c.s.CreateSignInLink(ctx, "burst@example.com", signin.LinkTTL) })
		}
		wg.Wait()
		sent := 0
		for i, err := range errs {
			switch {
			case err == nil:
				sent++
			case !errors.Is(err, signin.ErrRateLimited):
				t.Errorf("try %d: %v", i, err)
			}
		}
		if sent != signin.LinksPerHour {
			t.Errorf("%d of %d concurrent requests got a link, want %d", sent, tries, signin.LinksPerHour)
		}
	})
}
