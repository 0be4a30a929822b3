package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

func TestCreateAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()

	tests := []struct {
		name string
		in   hook.Account
		want hook.Account
	}{
		{
			name: "with emails",
			in: hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: []string{"ops@example.com", "b@example.com"},
				Destinations: []hook.Destination{{ID: 12345, Type: "s3"}, {ID: 9, Type: "snowflake"}}},
			want: hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: []string{"ops@example.com", "b@example.com"},
				Destinations: []hook.Destination{{ID: 12345, Type: "s3"}, {ID: 9, Type: "snowflake"}}, CreatedAt: now, ModifiedAt: now},
		},
		{
			name: "no emails, no destinations, hook count ignored",
			in:   hook.Account{ClientID: 2, Plan: "standard", HookCount: 7},
			want: hook.Account{ClientID: 2, Plan: "standard", AlertEmails: []string{}, Destinations: []hook.Destination{}, CreatedAt: now, ModifiedAt: now},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.store.CreateAccount(ctx, tt.in)
			if err != nil {
				t.Fatalf("CreateAccount: %v", err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("CreateAccount returned (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(f.account(t, tt.in.ClientID), tt.want); diff != "" {
				t.Errorf("Account after create (-got +want):\n%s", diff)
			}
		})
	}

	t.Run("exists", func(t *testing.T) {
		_, err := f.store.CreateAccount(ctx, hook.Account{ClientID: 116078, Plan: "standard"})
		wantErr(t, "CreateAccount again", err, hook.ErrConflict)
		if got := f.account(t, 116078).Plan; got != "advanced" {
			t.Errorf("plan after refused create: got %q, want %q", got, "advanced")
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.store.Account(ctx, 999)
		wantErr(t, "Account(999)", err, hook.ErrNotFound)
	})
}

func TestUpdateAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	tests := []struct {
		name   string
		update store.AccountUpdate
		want   func(a hook.Account) hook.Account
	}{
		{
			name:   "plan",
			update: store.AccountUpdate{Plan: ptr("premium")},
			want:   func(a hook.Account) hook.Account { a.Plan = "premium"; return a },
		},
		{
			name:   "emails",
			update: store.AccountUpdate{AlertEmails: &[]string{"x@example.com", "y@example.com"}},
			want: func(a hook.Account) hook.Account {
				a.AlertEmails = []string{"x@example.com", "y@example.com"}
				return a
			},
		},
		{
			name:   "no emails",
			update: store.AccountUpdate{AlertEmails: &[]string{}},
			want:   func(a hook.Account) hook.Account { a.AlertEmails = []string{}; return a },
		},
		{
			name:   "both",
			update: store.AccountUpdate{Plan: ptr("standard"), AlertEmails: &[]string{"z@example.com"}},
			want: func(a hook.Account) hook.Account {
				a.Plan, a.AlertEmails = "standard", []string{"z@example.com"}
				return a
			},
		},
		{
			name:   "destinations",
			update: store.AccountUpdate{Destinations: &[]hook.Destination{{ID: 7, Type: "bigquery"}, {ID: testDest, Type: "s3"}}},
			want: func(a hook.Account) hook.Account {
				a.Destinations = []hook.Destination{{ID: 7, Type: "bigquery"}, {ID: testDest, Type: "s3"}}
				return a
			},
		},
		{
			name:   "no destinations",
			update: store.AccountUpdate{Destinations: &[]hook.Destination{}},
			want:   func(a hook.Account) hook.Account { a.Destinations = []hook.Destination{}; return a },
		},
		{
			name:   "nothing",
			update: store.AccountUpdate{},
			want:   func(a hook.Account) hook.Account { return a },
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientID := int64(100 + i)
			before := f.createAccount(t, clientID, "advanced")
			modified := f.clock.Advance(time.Minute)
			got, disabled, err := f.store.UpdateAccount(ctx, clientID, tt.update)
			if err != nil {
				t.Fatalf("UpdateAccount: %v", err)
			}
			if disabled != 0 {
				t.Errorf("hooks disabled: got %d, want 0 (the account has none)", disabled)
			}
			want := tt.want(before)
			want.ModifiedAt = modified
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("UpdateAccount returned (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(f.account(t, clientID), want); diff != "" {
				t.Errorf("Account after update (-got +want):\n%s", diff)
			}
		})
	}

	t.Run("unknown", func(t *testing.T) {
		_, _, err := f.store.UpdateAccount(ctx, 999, store.AccountUpdate{Plan: ptr("advanced")})
		wantErr(t, "UpdateAccount(999)", err, hook.ErrNotFound)
		_, _, err = f.store.UpdateAccount(ctx, 999, store.AccountUpdate{Destinations: &[]hook.Destination{}})
		wantErr(t, "UpdateAccount(999) destinations", err, hook.ErrNotFound)
		_, err = f.store.Account(ctx, 999)
		wantErr(t, "Account(999) after refused update", err, hook.ErrNotFound)
	})
}

func TestDowngradeDisablesEveryHook(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 116078
	f.createAccount(t, cid, "advanced")
	ana := hook.Principal{ClientID: cid, MemberID: "ana"}
	h1 := f.createHook(t, ana, "https://a.example.com/1")
	h2 := f.createHook(t, ana, "https://a.example.com/2")
	h3 := f.createHook(t, ana, "https://a.example.com/3")

	f.clock.Advance(time.Minute)
	h2, err := f.store.SetHookEnabled(ctx, ana, h2.ID, false)
	if err != nil {
		t.Fatalf("disable hook 2: %v", err)
	}

	// Between two plans with the feature nothing changes.
	f.clock.Advance(time.Minute)
	if _, n, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Plan: ptr("premium")}); err != nil || n != 0 {
		t.Fatalf("UpdateAccount to premium: %d disabled, %v; want 0, nil", n, err)
	}
	if diff := cmp.Diff(f.hooks(t, cid), []hook.Hook{h1, h2, h3}); diff != "" {
		t.Fatalf("hooks after premium (-got +want):\n%s", diff)
	}

	downgraded := f.clock.Advance(time.Minute)
	a, disabled, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Plan: ptr("standard")})
	if err != nil {
		t.Fatalf("UpdateAccount to standard: %v", err)
	}
	if disabled != 2 {
		t.Errorf("hooks disabled by the downgrade: got %d, want 2 (one was disabled already)", disabled)
	}
	if _, again, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Plan: ptr("basic")}); err != nil || again != 0 {
		t.Errorf("repeated downgrade: %d disabled, %v; want 0, nil", again, err)
	}
	if a.Plan != "standard" || a.HookCount != 3 {
		t.Errorf("account after downgrade: got plan %q, %d hooks; want standard, 3", a.Plan, a.HookCount)
	}
	byOperator := func(h hook.Hook) hook.Hook {
		h.DisabledAt, h.ModifiedAt = &downgraded, downgraded
		h.Audit = append(h.Audit, hook.Change{At: downgraded, By: hook.Operator, Action: "plan_downgraded"})
		return h
	}
	wantDisabled := []hook.Hook{byOperator(h1), h2, byOperator(h3)} // h2 was disabled already
	if diff := cmp.Diff(f.hooks(t, cid), wantDisabled); diff != "" {
		t.Fatalf("hooks after downgrade (-got +want):\n%s", diff)
	}

	// An upgrade leaves them disabled until a member re-enables one.
	f.clock.Advance(time.Minute)
	if _, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Plan: ptr("enterprise")}); err != nil {
		t.Fatalf("UpdateAccount to enterprise: %v", err)
	}
	if diff := cmp.Diff(f.hooks(t, cid), wantDisabled); diff != "" {
		t.Fatalf("hooks after upgrade (-got +want):\n%s", diff)
	}
	enabled := f.clock.Advance(time.Minute)
	got, err := f.store.SetHookEnabled(ctx, ana, h1.ID, true)
	if err != nil {
		t.Fatalf("enable hook 1 after upgrade: %v", err)
	}
	want := wantDisabled[0]
	want.DisabledAt, want.ModifiedAt = nil, enabled
	want.Audit = append(want.Audit, hook.Change{At: enabled, By: "ana", Action: "enabled"})
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("re-enabled hook (-got +want):\n%s", diff)
	}
}

func TestAccountWithHooks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 42
	a := f.createAccount(t, cid, "free_trial")
	p := hook.Principal{ClientID: cid, MemberID: "m"}
	// Members, url items and the id sequence share the account's partition
	// and must not show up.
	if _, _, err := f.store.CreateMember(ctx, cid, "ana@example.com"); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	var want []hook.Hook
	for _, u := range []string{"https://x.example.com/", "https://y.example.com/", "https://z.example.com/"} {
		want = append(want, f.createHook(t, p, u))
	}
	f.createAccount(t, cid+1, "advanced")
	f.createHook(t, hook.Principal{ClientID: cid + 1}, "https://other.example.com/")
	a.HookCount = 3

	var gotA hook.Account
	var gotH []hook.Hook
	var err error
	ops := f.calls.during(func() { gotA, gotH, err = f.store.AccountWithHooks(ctx, cid) })
	if err != nil {
		t.Fatalf("AccountWithHooks: %v", err)
	}
	if diff := cmp.Diff(gotA, a); diff != "" {
		t.Errorf("account (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(gotH, want); diff != "" {
		t.Errorf("hooks (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ops, []string{"Query"}); diff != "" {
		t.Errorf("DynamoDB calls (-got +want):\n%s", diff)
	}

	t.Run("no hooks", func(t *testing.T) {
		b := f.createAccount(t, 7, "standard")
		gotA, gotH, err := f.store.AccountWithHooks(ctx, 7)
		if err != nil {
			t.Fatalf("AccountWithHooks: %v", err)
		}
		if diff := cmp.Diff(gotA, b); diff != "" {
			t.Errorf("account (-got +want):\n%s", diff)
		}
		if len(gotH) != 0 {
			t.Errorf("hooks: got %v, want none", gotH)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, _, err := f.store.AccountWithHooks(ctx, 999)
		wantErr(t, "AccountWithHooks(999)", err, hook.ErrNotFound)
	})
}
