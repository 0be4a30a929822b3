package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

func TestHookLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 116078
	f.createAccount(t, cid, "advanced")
	ana := hook.Principal{ClientID: cid, MemberID: "ana"}

	var hooks []hook.Hook
	for i, u := range []string{"https://a.example.com/1", "https://a.example.com/2?x=1", "https://b.example.com/"} {
		now := f.clock.Advance(time.Second)
		secret := hook.NewSecret()
		got, err := f.store.CreateHook(ctx, ana, testDest, u, secret)
		if err != nil {
			t.Fatalf("CreateHook(%q): %v", u, err)
		}
		want := hook.Hook{
			ID: int64(i + 1), ClientID: cid, DestinationID: testDest, URL: u, Secret: secret, CreatedAt: now, ModifiedAt: now,
			Audit: []hook.Change{{At: now, By: "ana", Action: "created"}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("CreateHook(%q) (-got +want):\n%s", u, diff)
		}
		hooks = append(hooks, got)
	}
	if diff := cmp.Diff(f.hooks(t, cid), hooks); diff != "" {
		t.Fatalf("ListHooks (-got +want):\n%s", diff)
	}
	if got := f.account(t, cid).HookCount; got != 3 {
		t.Errorf("hook count: got %d, want 3", got)
	}

	// Each step runs at a new time and says how the hook changes.
	steps := []struct {
		name   string
		p      hook.Principal
		index  int
		enable bool
		change string // audit action, "" for a no-op
	}{
		{"disable", ana, 1, false, "disabled"},
		{"disable a disabled hook", ana, 1, false, ""},
		{"enable", hook.Principal{ClientID: cid, MemberID: "bob"}, 1, true, "enabled"},
		{"enable an enabled hook", ana, 1, true, ""},
		{"disable by operator", hook.Principal{ClientID: cid}, 0, false, "disabled"},
		{"enable by operator", hook.Principal{ClientID: cid}, 0, true, "enabled"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			now := f.clock.Advance(time.Minute)
			want := hooks[st.index]
			if st.change != "" {
				want.ModifiedAt = now
				want.DisabledAt = nil
				if !st.enable {
					want.DisabledAt = &now
				}
				by := st.p.MemberID
				if by == "" {
					by = hook.Operator
				}
				want.Audit = append(slices.Clone(want.Audit), hook.Change{At: now, By: by, Action: st.change})
			}
			got, err := f.store.SetHookEnabled(ctx, st.p, want.ID, st.enable)
			if err != nil {
				t.Fatalf("SetHookEnabled: %v", err)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("SetHookEnabled (-got +want):\n%s", diff)
			}
			hooks[st.index] = want
			if diff := cmp.Diff(f.hooks(t, cid), hooks); diff != "" {
				t.Errorf("ListHooks (-got +want):\n%s", diff)
			}
		})
	}

	t.Run("delete", func(t *testing.T) {
		deleted := hooks[1]
		got, err := f.store.DeleteHook(ctx, ana, deleted.ID)
		if err != nil {
			t.Fatalf("DeleteHook: %v", err)
		}
		if diff := cmp.Diff(got, deleted); diff != "" {
			t.Errorf("DeleteHook returned (-got +want):\n%s", diff)
		}
		hooks = slices.Delete(hooks, 1, 2)
		if diff := cmp.Diff(f.hooks(t, cid), hooks); diff != "" {
			t.Errorf("ListHooks after delete (-got +want):\n%s", diff)
		}
		if got := f.account(t, cid).HookCount; got != 2 {
			t.Errorf("hook count after delete: got %d, want 2", got)
		}
		_, err = f.store.DeleteHook(ctx, ana, deleted.ID)
		wantErr(t, "DeleteHook again", err, hook.ErrNotFound)
		for _, enable := range []bool{true, false} {
			_, err = f.store.SetHookEnabled(ctx, ana, deleted.ID, enable)
			wantErr(t, fmt.Sprintf("SetHookEnabled(%v) on deleted hook", enable), err, hook.ErrNotFound)
		}

		// Its URL is free again; its id is never reused.
		again := f.createHook(t, ana, deleted.URL)
		if again.ID != 4 {
			t.Errorf("id of hook re-created after delete: got %d, want 4", again.ID)
		}
		if got := f.account(t, cid).HookCount; got != 3 {
			t.Errorf("hook count after re-create: got %d, want 3", got)
		}
	})
}

func TestCreateHookRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const (
		feature = 1
		full    = 2
		noPlan  = 3
		unknown = 999
	)
	f.createAccount(t, feature, "premium")
	f.createAccount(t, full, "unlimited_plus")
	f.createAccount(t, noPlan, "standard")
	f.createHook(t, hook.Principal{ClientID: feature}, "https://dup.example.com/x")
	for i := range hook.MaxHooks {
		f.createHook(t, hook.Principal{ClientID: full}, fmt.Sprintf("https://full.example.com/%d", i))
	}

	tests := []struct {
		name      string
		clientID  int64
		url       string
		err       error
		wantCount int
	}{
		{"duplicate url", feature, "https://dup.example.com/x", hook.ErrDuplicateURL, 1},
		{"plan lacks the feature", noPlan, "https://a.example.com/", hook.ErrNoAccess, 0},
		{"unknown account", unknown, "https://a.example.com/", hook.ErrNotFound, 0},
		{"limit", full, "https://new.example.com/", hook.ErrLimit, hook.MaxHooks},
		{"duplicate beats limit", full, "https://full.example.com/3", hook.ErrDuplicateURL, hook.MaxHooks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.CreateHook(ctx, hook.Principal{ClientID: tt.clientID, MemberID: "m"}, testDest, tt.url, hook.NewSecret())
			wantErr(t, "CreateHook", err, tt.err)
			if tt.clientID == unknown {
				return
			}
			if got := len(f.hooks(t, tt.clientID)); got != tt.wantCount {
				t.Errorf("hooks after refused create: got %d, want %d", got, tt.wantCount)
			}
			if got := f.account(t, tt.clientID).HookCount; got != tt.wantCount {
				t.Errorf("hook count after refused create: got %d, want %d", got, tt.wantCount)
			}
		})
	}

	t.Run("same url in another account", func(t *testing.T) {
		f.createAccount(t, 4, "advanced")
		f.createHook(t, hook.Principal{ClientID: 4}, "https://dup.example.com/x")
	})
}

func TestPlanGatingAfterDowngrade(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 5
	f.createAccount(t, cid, "advanced")
	p := hook.Principal{ClientID: cid, MemberID: "ana"}
	h1 := f.createHook(t, p, "https://a.example.com/1")
	h2 := f.createHook(t, p, "https://a.example.com/2")
	if _, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Plan: ptr("standard")}); err != nil {
		t.Fatalf("downgrade: %v", err)
	}
	before := f.hooks(t, cid)

	refused := []struct {
		name string
		do   func() error
		err  error
	}{
		{"create", func() error {
			_, err := f.store.CreateHook(ctx, p, testDest, "https://a.example.com/3", hook.NewSecret())
			return err
		}, hook.ErrNoAccess},
		{"enable", func() error { _, err := f.store.SetHookEnabled(ctx, p, h1.ID, true); return err }, hook.ErrNoAccess},
		{"enable unknown hook", func() error { _, err := f.store.SetHookEnabled(ctx, p, 77, true); return err }, hook.ErrNotFound},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, tt.do(), tt.err)
			if diff := cmp.Diff(f.hooks(t, cid), before); diff != "" {
				t.Errorf("hooks changed by a refused call (-got +want):\n%s", diff)
			}
		})
	}

	t.Run("disable, list and delete still work", func(t *testing.T) {
		got, err := f.store.SetHookEnabled(ctx, p, h1.ID, false)
		if err != nil {
			t.Fatalf("disable: %v", err)
		}
		if diff := cmp.Diff(got, before[0]); diff != "" {
			t.Errorf("disable of a disabled hook changed it (-got +want):\n%s", diff)
		}
		if _, err := f.store.DeleteHook(ctx, p, h2.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if diff := cmp.Diff(f.hooks(t, cid), before[:1]); diff != "" {
			t.Errorf("hooks after delete (-got +want):\n%s", diff)
		}
		if got := f.account(t, cid).HookCount; got != 1 {
			t.Errorf("hook count: got %d, want 1", got)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const a, b = 10, 20
	f.createAccount(t, a, "advanced")
	f.createAccount(t, b, "advanced")
	pa := hook.Principal{ClientID: a, MemberID: "ana"}
	pb := hook.Principal{ClientID: b, MemberID: "bob"}
	var aHooks []hook.Hook
	for i := range 3 {
		aHooks = append(aHooks, f.createHook(t, pa, fmt.Sprintf("https://a.example.com/%d", i)))
	}
	bHook := f.createHook(t, pb, "https://b.example.com/")
	foreign := aHooks[2].ID // an id account b does not have

	calls := []struct {
		name string
		do   func() error
	}{
		{"enable", func() error { _, err := f.store.SetHookEnabled(ctx, pb, foreign, true); return err }},
		{"disable", func() error { _, err := f.store.SetHookEnabled(ctx, pb, foreign, false); return err }},
		{"delete", func() error { _, err := f.store.DeleteHook(ctx, pb, foreign); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name+" another account's hook", tt.do(), hook.ErrNotFound)
		})
	}
	if diff := cmp.Diff(f.hooks(t, a), aHooks); diff != "" {
		t.Errorf("account a's hooks changed (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.hooks(t, b), []hook.Hook{bHook}); diff != "" {
		t.Errorf("account b's hooks (-got +want):\n%s", diff)
	}
	if got := f.account(t, b).HookCount; got != 1 {
		t.Errorf("account b's hook count: got %d, want 1", got)
	}

	// Both accounts have a hook 1; each principal reaches only its own.
	if _, err := f.store.DeleteHook(ctx, pb, 1); err != nil {
		t.Fatalf("b deletes its hook 1: %v", err)
	}
	if diff := cmp.Diff(f.hooks(t, a), aHooks); diff != "" {
		t.Errorf("account a's hooks after b deleted its hook 1 (-got +want):\n%s", diff)
	}
}

func TestConcurrentCreateHookLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid, creates = 116078, 50
	f.createAccount(t, cid, "enterprise")
	p := hook.Principal{ClientID: cid, MemberID: "ana"}

	created, errs := concurrently(creates, func(i int) (hook.Hook, error) {
		return f.store.CreateHook(ctx, p, testDest, fmt.Sprintf("https://c.example.com/%d", i), hook.NewSecret())
	})
	limited := 0
	var other []error
	for _, err := range errs {
		if errors.Is(err, hook.ErrLimit) {
			limited++
		} else {
			other = append(other, err)
		}
	}
	if len(other) > 0 {
		t.Fatalf("%d unexpected errors, the first: %v", len(other), other[0])
	}
	if len(created) != hook.MaxHooks || limited != creates-hook.MaxHooks {
		t.Fatalf("got %d created and %d refused by the limit, want %d and %d", len(created), limited, hook.MaxHooks, creates-hook.MaxHooks)
	}

	listed := f.hooks(t, cid)
	slices.SortFunc(created, func(x, y hook.Hook) int { return int(x.ID - y.ID) })
	if diff := cmp.Diff(listed, created); diff != "" {
		t.Errorf("listed hooks are not the created ones, by id (-got +want):\n%s", diff)
	}
	for i := 1; i < len(listed); i++ {
		if listed[i].ID <= listed[i-1].ID {
			t.Errorf("hook ids not distinct and ascending: %d then %d", listed[i-1].ID, listed[i].ID)
		}
	}
	if got := f.account(t, cid).HookCount; got != hook.MaxHooks {
		t.Errorf("hook count: got %d, want %d", got, hook.MaxHooks)
	}
	urlItems := 0
	for _, item := range f.scan(t) {
		if pkOf(item) == fmt.Sprintf("CLIENT#%d", cid) && strings.HasPrefix(skOf(item), "URL#") {
			urlItems++
		}
	}
	if urlItems != hook.MaxHooks {
		t.Errorf("url items: got %d, want %d (refused creates must leave nothing behind)", urlItems, hook.MaxHooks)
	}

	// Deleting one frees one place, and only one.
	if _, err := f.store.DeleteHook(ctx, p, listed[4].ID); err != nil {
		t.Fatalf("DeleteHook: %v", err)
	}
	f.createHook(t, p, "https://c.example.com/after-delete")
	_, err := f.store.CreateHook(ctx, p, testDest, "https://c.example.com/one-too-many", hook.NewSecret())
	wantErr(t, "CreateHook over the limit after delete and create", err, hook.ErrLimit)
	if got := f.account(t, cid).HookCount; got != hook.MaxHooks {
		t.Errorf("hook count after delete and create: got %d, want %d", got, hook.MaxHooks)
	}
}
