package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Hook filters and events, and freshness rules, in the store's contract:
// the same tests on DynamoDB Local and on memstore.

// loadAwareStore is the contract's store with the load-aware methods.
type loadAwareStore interface {
	contractStore
	SetHookSubscription(ctx context.Context, p hook.Principal, id int64, u hook.SubscriptionUpdate) (hook.Hook, error)
	FreshnessRules(ctx context.Context, clientID int64) ([]hook.FreshnessRule, error)
	PutFreshnessRules(ctx context.Context, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error)
	RecordTableLoad(ctx context.Context, clientID int64, k hook.FreshnessKey, at time.Time) error
	FreshnessAccounts(ctx context.Context) ([]int64, error)
	FreshnessCheck(ctx context.Context, clientID int64) ([]hook.FreshnessRule, map[hook.FreshnessKey]hook.FreshnessState, error)
	OpenFreshnessEpisode(ctx context.Context, clientID int64, k hook.FreshnessKey, st hook.FreshnessState, now time.Time) (bool, error)
	FinishFreshnessNotice(ctx context.Context, clientID int64, k hook.FreshnessKey, episode int64, back bool) error
}

var (
	_ loadAwareStore = (*store.Store)(nil)
	_ loadAwareStore = (*memstore.Store)(nil)
)

func TestContractLoadAwareDynamoDB(t *testing.T) {
	runLoadAware(t, func(t *testing.T) (contract, loadAwareStore) {
		f := newFixture(t)
		return contract{s: f.store, clock: f.clock}, f.store
	})
}

func TestContractLoadAwareMemstore(t *testing.T) {
	runLoadAware(t, func(*testing.T) (contract, loadAwareStore) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		s := memstore.New(clock.Now)
		return contract{s: s, clock: clock}, s
	})
}

func runLoadAware(t *testing.T, open func(t *testing.T) (contract, loadAwareStore)) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c contract, s loadAwareStore)
	}{
		{"HookSubscription", contractHookSubscription},
		{"HookSubscriptionKeepsDisabledReason", contractSubscriptionDisabledReason},
		{"FreshnessRules", contractFreshnessRules},
		{"FreshnessRulesRefused", contractFreshnessRefused},
		{"FreshnessRulesConcurrent", contractFreshnessConcurrent},
		{"FreshnessTablesOnAccount", contractFreshnessTables},
		{"FreshnessEpisodes", contractFreshnessEpisodes},
		{"FreshnessEpisodeConcurrent", contractFreshnessEpisodeConcurrent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, s := open(t)
			tt.run(t, c, s)
		})
	}
}

func contractHookSubscription(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	c.account(t, cOther, "advanced")
	h := c.hook(t, member(cClient), "https://a.example.com/1")
	if h.Filter != nil || h.EventTypes != nil || !h.Wants("any", "table") {
		t.Fatalf("new hook: filter %+v events %v, want none (every load)", h.Filter, h.EventTypes)
	}
	c.clock.Advance(time.Minute)
	f := &hook.Filter{Integrations: []string{"shopify"}, Tables: []string{"orders", "orders__*"}}
	got, err := s.SetHookSubscription(ctx, member(cClient), h.ID, hook.SubscriptionUpdate{SetFilter: true, Filter: f, Events: []string{"load_overdue", "table_loaded"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.Filter, f); diff != "" || !cmp.Equal(got.EventTypes, []string{"table_loaded", "load_overdue"}) {
		t.Errorf("after PATCH: filter diff %s events %v", diff, got.EventTypes)
	}
	if !got.ModifiedAt.After(h.ModifiedAt) || got.Audit[len(got.Audit)-1].Action != hook.ActionSubscriptionChanged {
		t.Errorf("modified_at %v (was %v), audit %+v", got.ModifiedAt, h.ModifiedAt, got.Audit)
	}
	read, err := s.GetHook(ctx, cClient, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(read, got); diff != "" {
		t.Errorf("GetHook differs from the PATCH answer (-read +patch):\n%s", diff)
	}
	if listed := c.hooks(t, cClient); len(listed) != 1 || !cmp.Equal(listed[0], got) {
		t.Errorf("ListHooks %+v, want the changed hook", listed)
	}
	if !read.Wants("shopify", "orders__items") || read.Wants("stripe", "orders") || read.Wants("shopify", "customers") {
		t.Error("the stored filter does not match as set")
	}

	// Events alone keep the filter; a filter alone keeps the events.
	got, err = s.SetHookSubscription(ctx, member(cClient), h.ID, hook.SubscriptionUpdate{Events: []string{"run_completed"}})
	if err != nil || !cmp.Equal(got.Filter, f) || !cmp.Equal(got.EventTypes, []string{"run_completed"}) {
		t.Errorf("events only: %+v %v %v", got.Filter, got.EventTypes, err)
	}
	got, err = s.SetHookSubscription(ctx, member(cClient), h.ID, hook.SubscriptionUpdate{SetFilter: true, Filter: &hook.Filter{Tables: []string{"x"}}})
	if err != nil || !cmp.Equal(got.Filter, &hook.Filter{Tables: []string{"x"}}) || !cmp.Equal(got.EventTypes, []string{"run_completed"}) {
		t.Errorf("filter only: %+v %v %v", got.Filter, got.EventTypes, err)
	}
	// Back to the defaults: stored as a hook that never chose.
	got, err = s.SetHookSubscription(ctx, member(cClient), h.ID, hook.SubscriptionUpdate{SetFilter: true, Events: []string{"table_loaded"}})
	if err != nil || got.Filter != nil || got.EventTypes != nil {
		t.Errorf("defaults: %+v %v %v", got.Filter, got.EventTypes, err)
	}
	if read, _ := s.GetHook(ctx, cClient, h.ID); read.Filter != nil || read.EventTypes != nil {
		t.Errorf("defaults read back: %+v %v", read.Filter, read.EventTypes)
	}

	// Another account's hook and an unknown one are not found.
	for _, tt := range []struct {
		p  hook.Principal
		id int64
	}{{member(cOther), h.ID}, {member(cClient), h.ID + 1}, {member(cStd), h.ID}} {
		_, err := s.SetHookSubscription(ctx, tt.p, tt.id, hook.SubscriptionUpdate{Events: []string{"run_completed"}})
		wantIs(t, "SetHookSubscription of another account's or an unknown hook", err, hook.ErrNotFound)
	}
	if read, _ := s.GetHook(ctx, cClient, h.ID); read.EventTypes != nil {
		t.Errorf("another account changed the hook: %v", read.EventTypes)
	}
}

// contractSubscriptionDisabledReason: a change of filter does not make a
// hook disabled by a downgrade look disabled by a member.
func contractSubscriptionDisabledReason(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	h := c.hook(t, member(cClient), "https://a.example.com/1")
	plan := "standard"
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: &plan}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SetHookSubscription(ctx, member(cClient), h.ID, hook.SubscriptionUpdate{Events: []string{"load_overdue"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled() || got.DisabledReason() != hook.DisabledByPlan {
		t.Errorf("disabled reason %q, want %q", got.DisabledReason(), hook.DisabledByPlan)
	}
}

func rule(integration, table, interval string) hook.FreshnessRule {
	d, err := time.ParseDuration(interval)
	if err != nil {
		panic(err)
	}
	return hook.FreshnessRule{IntegrationName: integration, Table: table, MaxInterval: interval, Interval: d}
}

func contractFreshnessRules(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	c.account(t, cOther, "advanced")
	if got, err := s.FreshnessRules(ctx, cClient); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no rules: %v %v, want an empty slice", got, err)
	}
	t0 := c.clock.Now().UTC().Truncate(time.Second)
	in := []hook.FreshnessRule{rule("shopify", "orders", "2h"), rule("shopify", "customers", "90m")}
	got, err := s.PutFreshnessRules(ctx, member(cClient), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []hook.FreshnessRule{in[0], in[1]}
	want[0].CreatedAt, want[1].CreatedAt = t0, t0
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("put (-got +want):\n%s", diff)
	}
	if read, err := s.FreshnessRules(ctx, cClient); err != nil || !cmp.Equal(read, want) {
		t.Errorf("read back %+v %v", read, err)
	}
	if other, _ := s.FreshnessRules(ctx, cOther); len(other) != 0 {
		t.Errorf("another account sees %+v", other)
	}

	// Replacing keeps the creation of a table still ruled, new interval or
	// not, and times new ones now; a dropped table is gone.
	c.clock.Advance(time.Hour)
	t1 := c.clock.Now().UTC().Truncate(time.Second)
	got, err = s.PutFreshnessRules(ctx, member(cClient), []hook.FreshnessRule{rule("stripe", "charges", "168h"), rule("shopify", "orders", "1h30m")})
	if err != nil {
		t.Fatal(err)
	}
	want = []hook.FreshnessRule{rule("stripe", "charges", "168h"), rule("shopify", "orders", "1h30m")}
	want[0].CreatedAt, want[1].CreatedAt = t1, t0
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("replace (-got +want):\n%s", diff)
	}
	if read, _ := s.FreshnessRules(ctx, cClient); !cmp.Equal(read, want) {
		t.Errorf("read back after replace %+v", read)
	}
	if due := want[1].DueAt(time.Time{}); !due.Equal(t0.Add(90 * time.Minute)) {
		t.Errorf("due at %v, want creation + 90m", due)
	}

	// Removing them all, then adding again, times the rule anew.
	if got, err := s.PutFreshnessRules(ctx, member(cClient), nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("remove all: %v %v", got, err)
	}
	if read, _ := s.FreshnessRules(ctx, cClient); len(read) != 0 {
		t.Errorf("after removing all: %+v", read)
	}
	c.clock.Advance(time.Minute)
	got, err = s.PutFreshnessRules(ctx, member(cClient), []hook.FreshnessRule{rule("shopify", "orders", "2h")})
	if err != nil || len(got) != 1 || !got[0].CreatedAt.Equal(c.clock.Now().UTC().Truncate(time.Second)) {
		t.Errorf("re-added: %+v %v", got, err)
	}
}

func contractFreshnessRefused(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cStd, "standard")
	_, err := s.PutFreshnessRules(ctx, member(cStd), []hook.FreshnessRule{rule("s", "t", "1h")})
	wantIs(t, "put rules without the feature", err, hook.ErrNoAccess)
	if got, err := s.PutFreshnessRules(ctx, member(cStd), []hook.FreshnessRule{}); err != nil || len(got) != 0 {
		t.Errorf("removing all without the feature: %v %v", got, err)
	}
	_, err = s.PutFreshnessRules(ctx, member(9999), []hook.FreshnessRule{rule("s", "t", "1h")})
	wantIs(t, "put rules of no account", err, hook.ErrNotFound)
	_, err = s.PutFreshnessRules(ctx, member(9999), nil)
	wantIs(t, "remove rules of no account", err, hook.ErrNotFound)
}

// contractFreshnessConcurrent: concurrent replacements each apply whole:
// the rules read afterwards are exactly one writer's.
func contractFreshnessConcurrent(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rules := []hook.FreshnessRule{rule("shopify", "orders", "1h"), rule("w", string(rune('a'+i)), "2h")}
			_, errs[i] = s.PutFreshnessRules(ctx, member(cClient), rules)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Fatalf("every concurrent put failed: %v", errs)
	}
	got, err := s.FreshnessRules(ctx, cClient)
	if err != nil || len(got) != 2 || got[0].Table != "orders" || got[1].IntegrationName != "w" {
		t.Errorf("after concurrent puts: %+v %v, want one writer's two rules", got, err)
	}
}

// contractFreshnessTables: the account read by every load carries the
// ruled tables, in step with the rules; the registry lists the accounts
// with rules.
func contractFreshnessTables(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	c.account(t, cOther, "advanced")
	if _, err := s.PutFreshnessRules(ctx, member(cClient), []hook.FreshnessRule{rule("shopify", "orders", "2h"), rule("stripe", "charges", "1h")}); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.AccountWithHooks(ctx, cClient)
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasFreshnessRule("shopify", "orders") || !a.HasFreshnessRule("stripe", "charges") || a.HasFreshnessRule("shopify", "charges") {
		t.Errorf("account tables %v, want shopify/orders and stripe/charges", a.FreshnessTables)
	}
	if ids, err := s.FreshnessAccounts(ctx); err != nil || !cmp.Equal(ids, []int64{cClient}) {
		t.Errorf("FreshnessAccounts = %v, %v; want [%d]", ids, err, cClient)
	}
	if _, err := s.PutFreshnessRules(ctx, member(cClient), []hook.FreshnessRule{rule("stripe", "charges", "1h")}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, cClient); a.HasFreshnessRule("shopify", "orders") || !a.HasFreshnessRule("stripe", "charges") {
		t.Errorf("after replacing: account tables %v, want stripe/charges", a.FreshnessTables)
	}
	if _, err := s.PutFreshnessRules(ctx, member(cClient), nil); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, cClient); a.FreshnessTables != nil {
		t.Errorf("after removing every rule: account tables %v, want none", a.FreshnessTables)
	}
	if ids, err := s.FreshnessAccounts(ctx); err != nil || len(ids) != 0 {
		t.Errorf("FreshnessAccounts = %v, %v; want none", ids, err)
	}
}

// contractFreshnessEpisodes: a table's state through one episode: the last
// load never moves back, an episode opens only over the state read, the
// overdue notice and then the back-on-time notice close it.
func contractFreshnessEpisodes(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	if _, err := s.PutFreshnessRules(ctx, member(cClient), []hook.FreshnessRule{rule("shopify", "orders", "2h")}); err != nil {
		t.Fatal(err)
	}
	k := hook.FreshnessKey{Integration: "shopify", Table: "orders"}
	read := func() hook.FreshnessState {
		t.Helper()
		rules, states, err := s.FreshnessCheck(ctx, cClient)
		if err != nil || len(rules) != 1 {
			t.Fatalf("FreshnessCheck: %v rules, %v", rules, err)
		}
		return states[k]
	}
	if st := read(); st != (hook.FreshnessState{}) {
		t.Fatalf("new rule: state %+v, want none", st)
	}
	now := c.clock.Now().Truncate(time.Millisecond)
	if ok, err := s.OpenFreshnessEpisode(ctx, cClient, k, hook.FreshnessState{}, now); err != nil || !ok {
		t.Fatalf("open episode 1: %v, %v", ok, err)
	}
	if ok, err := s.OpenFreshnessEpisode(ctx, cClient, k, hook.FreshnessState{}, now); err != nil || ok {
		t.Fatalf("open episode 1 again: %v, %v; want false", ok, err)
	}
	want := hook.FreshnessState{Episode: 1, Open: true}
	if st := read(); st != want {
		t.Fatalf("opened: %+v, want %+v", st, want)
	}
	if err := s.FinishFreshnessNotice(ctx, cClient, k, 1, true); err != nil {
		t.Fatal(err)
	}
	if st := read(); st != want {
		t.Fatalf("back-on-time before the overdue notice changed the state: %+v", st)
	}
	if err := s.FinishFreshnessNotice(ctx, cClient, k, 1, false); err != nil {
		t.Fatal(err)
	}
	loaded := now.Add(time.Minute)
	if err := s.RecordTableLoad(ctx, cClient, k, loaded); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordTableLoad(ctx, cClient, k, now); err != nil {
		t.Fatal(err)
	}
	want = hook.FreshnessState{Episode: 1, Open: true, OverdueSent: true, LastLoadedAt: loaded}
	if st := read(); !cmp.Equal(st, want) {
		t.Fatalf("after loads: %+v, want %+v", st, want)
	}
	if err := s.FinishFreshnessNotice(ctx, cClient, k, 1, true); err != nil {
		t.Fatal(err)
	}
	want.Open = false
	if st := read(); !cmp.Equal(st, want) {
		t.Fatalf("closed: %+v, want %+v", st, want)
	}
	// The next episode opens only over the last load it read.
	if ok, _ := s.OpenFreshnessEpisode(ctx, cClient, k, hook.FreshnessState{Episode: 1, LastLoadedAt: now}, now); ok {
		t.Fatal("episode 2 opened over a load it had not read")
	}
	if ok, err := s.OpenFreshnessEpisode(ctx, cClient, k, want, now); err != nil || !ok {
		t.Fatalf("open episode 2: %v, %v", ok, err)
	}
	if st := read(); !cmp.Equal(st, hook.FreshnessState{Episode: 2, Open: true, LastLoadedAt: loaded, OpenedLoad: loaded}) {
		t.Fatalf("episode 2: %+v", st)
	}
	if err := s.FinishFreshnessNotice(ctx, 9999, k, 1, false); err != nil {
		t.Errorf("finish for an unknown table: %v, want nil", err)
	}
}

// contractFreshnessEpisodeConcurrent: of concurrent checks that read the
// same state, exactly one opens the episode.
func contractFreshnessEpisodeConcurrent(t *testing.T, c contract, s loadAwareStore) {
	c.account(t, cClient, "advanced")
	k := hook.FreshnessKey{Integration: "shopify", Table: "orders"}
	const n = 8
	var wg sync.WaitGroup
	opened := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			ok, err := s.OpenFreshnessEpisode(ctx, cClient, k, hook.FreshnessState{}, c.clock.Now())
			if err != nil {
				t.Error(err)
			}
			opened[i] = ok
		})
	}
	wg.Wait()
	count := 0
	for _, ok := range opened {
		if ok {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d of %d concurrent opens succeeded, want exactly 1", count, n)
	}
}
