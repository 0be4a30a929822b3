package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Hook health, auto-disable and the probe state, in the store's contract:
// the same tests on DynamoDB Local and on memstore.

type healthStore interface {
	contractStore
	NoteHookExhausted(ctx context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error)
	NoteHookSuccess(ctx context.Context, clientID, hookID int64, at time.Time) error
	AutoDisableHook(ctx context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error)
	SetProbeQueued(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
	AdvanceProbe(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
	ReenableHook(ctx context.Context, clientID, hookID int64, disabledAt time.Time) (hook.Hook, bool, error)
	SkipLoad(ctx context.Context, l delivery.Load, hookIDs []int64) error
	RecoverableDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error)
	ListDeliveries(ctx context.Context, q delivery.ListQuery) (delivery.Page, error)
	Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error)
}

var (
	_ healthStore = (*store.Store)(nil)
	_ healthStore = (*memstore.Store)(nil)
)

type healthContract struct {
	s     healthStore
	clock *testClock
	c     contract
}

func TestContractHealthDynamoDB(t *testing.T) {
	runHealthContract(t, func(t *testing.T) healthContract {
		f := newFixture(t)
		return healthContract{s: f.store, clock: f.clock, c: contract{s: f.store, clock: f.clock}}
	})
}

func TestContractHealthMemstore(t *testing.T) {
	runHealthContract(t, func(*testing.T) healthContract {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		m := memstore.New(clock.Now)
		return healthContract{s: m, clock: clock, c: contract{s: m, clock: clock}}
	})
}

func runHealthContract(t *testing.T, open func(t *testing.T) healthContract) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c healthContract)
	}{
		{"HealthStreakCountsOncePerLoad", contractHealthStreak},
		{"HealthSuccessEndsStreak", contractHealthSuccess},
		{"HealthRedeliveryCountsOnceAfterOtherLoads", contractHealthRedelivery},
		{"AutoDisableOnceAndProbeSteps", contractAutoDisable},
		{"MemberDisableStopsProbes", contractMemberStopsProbes},
		{"PlanDowngradeStopsProbes", contractPlanStopsProbes},
		{"SkippedDeliveriesKeptAndRecoverable", contractSkipLoad},
		{"DeferredThenSkippedIsRecoverable", contractSkipDeferred},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// failingHook makes an account with one hook and n exhausted deliveries,
// a minute apart, from the clock's now.
func (c healthContract) failingHook(t *testing.T, n int) hook.Hook {
	t.Helper()
	c.c.account(t, cClient, "advanced")
	h := c.c.hook(t, member(cClient), "https://hooks.example.com/h")
	for i := range n {
		var err error
		if h, err = c.s.NoteHookExhausted(ctx, cClient, h.ID, "load-"+string(rune('a'+i)), 5, c.clock.Advance(time.Minute)); err != nil {
			t.Fatalf("NoteHookExhausted: %v", err)
		}
	}
	return h
}

func contractHealthStreak(t *testing.T, c healthContract) {
	start := c.clock.Now().Add(time.Minute)
	h := c.failingHook(t, 3)
	if !h.Health.FailingSince.Equal(start) || h.Health.Exhausted != 3 {
		t.Fatalf("after 3: health %+v, want since %v, 3", h.Health, start)
	}
	// The same load again (a redelivered alert) counts nothing.
	h, err := c.s.NoteHookExhausted(ctx, cClient, h.ID, "load-c", 5, c.clock.Now())
	if err != nil || h.Health.Exhausted != 3 {
		t.Fatalf("same load again: %+v, %v; want 3", h.Health, err)
	}
	got, _ := c.s.GetHook(ctx, cClient, h.ID)
	if !got.Health.FailingSince.Equal(start) || got.Health.Exhausted != 3 || !got.Enabled() || got.DisabledReason() != "" {
		t.Errorf("stored: %+v enabled %v", got.Health, got.Enabled())
	}
	if _, err := c.s.NoteHookExhausted(ctx, cClient, 99, "load-x", 5, c.clock.Now()); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("unknown hook: %v, want ErrNotFound", err)
	}
}

func contractHealthSuccess(t *testing.T, c healthContract) {
	h := c.failingHook(t, 2)
	// A success older than the streak changes nothing.
	if err := c.s.NoteHookSuccess(ctx, cClient, h.ID, h.Health.FailingSince.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.s.GetHook(ctx, cClient, h.ID); got.Health.Exhausted != 2 {
		t.Fatalf("old success ended the streak: %+v", got.Health)
	}
	ok := c.clock.Advance(time.Minute)
	if err := c.s.NoteHookSuccess(ctx, cClient, h.ID, ok); err != nil {
		t.Fatal(err)
	}
	got, _ := c.s.GetHook(ctx, cClient, h.ID)
	if got.Health.Failing() || got.Health.Exhausted != 0 || !got.Health.LastSuccessAt.Equal(ok) {
		t.Fatalf("after success: %+v", got.Health)
	}
	// An exhausted delivery that ended before that success starts nothing;
	// a later one starts a new streak.
	got, _ = c.s.NoteHookExhausted(ctx, cClient, h.ID, "load-old", 5, ok.Add(-time.Second))
	if got.Health.Failing() {
		t.Errorf("exhausted before the success started a streak: %+v", got.Health)
	}
	at := c.clock.Advance(time.Minute)
	got, _ = c.s.NoteHookExhausted(ctx, cClient, h.ID, "load-new", 5, at)
	if !got.Health.FailingSince.Equal(at) || got.Health.Exhausted != 1 {
		t.Errorf("new streak: %+v", got.Health)
	}
	// A success on a hook that is not failing writes nothing, and is no error.
	if err := c.s.NoteHookSuccess(ctx, cClient, 99, at); err != nil {
		t.Errorf("unknown hook: %v", err)
	}
}

func contractHealthRedelivery(t *testing.T, c healthContract) {
	h := c.failingHook(t, 3) // load-a, load-b, load-c after 5 attempts each
	note := func(load string, attempts, want int) hook.Hook {
		t.Helper()
		got, err := c.s.NoteHookExhausted(ctx, cClient, h.ID, load, attempts, c.clock.Advance(time.Second))
		if err != nil || got.Health.Exhausted != want {
			t.Fatalf("%s after %d attempts: %+v, %v; want %d counted", load, attempts, got.Health, err, want)
		}
		return got
	}
	// load-a's alert redelivered after load-b and load-c were counted: once.
	note("load-a", 5, 3)
	// The same load exhausted again after a resend (more attempts) is
	// another delivery, and so is another load.
	note("load-a", 10, 4)
	note("load-d", 5, 5)
	note("load-a", 10, 5)
	// Eight more loads: load-a's second delivery is the tenth newest key
	// kept, so its redelivery still counts nothing.
	for i := range 8 {
		note("load-more-"+string(rune('a'+i)), 5, 6+i)
	}
	note("load-a", 10, 13)
	// The bound: once ten others were counted since, it is forgotten.
	note("load-new", 5, 14)
	note("load-a", 10, 15)
	// A success ends the streak and its keys; a later exhausted delivery
	// starts a new one, counted once however often it arrives.
	if err := c.s.NoteHookSuccess(ctx, cClient, h.ID, c.clock.Advance(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.s.GetHook(ctx, cClient, h.ID); got.Health.Failing() || got.Health.Exhausted != 0 {
		t.Fatalf("after success: %+v", got.Health)
	}
	at := c.clock.Now().Add(time.Second)
	if got := note("load-z", 5, 1); !got.Health.FailingSince.Equal(at) {
		t.Errorf("new streak since %v, want %v", got.Health.FailingSince, at)
	}
	note("load-y", 5, 2)
	note("load-z", 5, 2)
}

func contractAutoDisable(t *testing.T, c healthContract) {
	h := c.failingHook(t, 3)
	since := h.Health.FailingSince
	// Another streak's disable is refused.
	if _, ok, err := c.s.AutoDisableHook(ctx, cClient, h.ID, since.Add(time.Second), since); ok || err != nil {
		t.Fatalf("disable with another streak: %v %v", ok, err)
	}
	got, ok, err := c.s.AutoDisableHook(ctx, cClient, h.ID, since, since.Add(-time.Hour))
	if !ok || err != nil {
		t.Fatalf("AutoDisableHook: %v %v", ok, err)
	}
	if got.Enabled() || got.DisabledReason() != hook.DisabledForFailing || got.Probe == nil || got.Probe.Step != 1 || got.Probe.Queued ||
		!got.Probe.ReplaySince.Equal(since.Add(-time.Hour)) {
		t.Fatalf("disabled hook: reason %q probe %+v", got.DisabledReason(), got.Probe)
	}
	if last := got.Audit[len(got.Audit)-1]; last.By != hook.Service || last.Action != hook.ActionAutoDisabled {
		t.Errorf("audit %+v", last)
	}
	// Exactly once: a second disable changes nothing.
	if _, ok, _ := c.s.AutoDisableHook(ctx, cClient, h.ID, since, since); ok {
		t.Error("second AutoDisableHook disabled again")
	}
	da := *got.DisabledAt
	if ok, _ := c.s.SetProbeQueued(ctx, cClient, h.ID, da, 2); ok {
		t.Error("SetProbeQueued of another step")
	}
	if ok, err := c.s.SetProbeQueued(ctx, cClient, h.ID, da, 1); !ok || err != nil {
		t.Fatalf("SetProbeQueued: %v %v", ok, err)
	}
	if ok, err := c.s.AdvanceProbe(ctx, cClient, h.ID, da, 1); !ok || err != nil {
		t.Fatalf("AdvanceProbe: %v %v", ok, err)
	}
	if ok, _ := c.s.AdvanceProbe(ctx, cClient, h.ID, da, 1); ok {
		t.Error("AdvanceProbe of step 1 twice")
	}
	got, _ = c.s.GetHook(ctx, cClient, h.ID)
	if got.Probe == nil || got.Probe.Step != 2 || got.Probe.Queued {
		t.Fatalf("after advance: %+v", got.Probe)
	}
	// Listed as the member sees it.
	if hs := c.c.hooks(t, cClient); hs[0].DisabledReason() != hook.DisabledForFailing {
		t.Errorf("listed reason %q", hs[0].DisabledReason())
	}
	if _, ok, _ := c.s.ReenableHook(ctx, cClient, h.ID, da.Add(time.Second)); ok {
		t.Error("ReenableHook of another disable")
	}
	old, ok, err := c.s.ReenableHook(ctx, cClient, h.ID, da)
	if !ok || err != nil || old.Probe == nil {
		t.Fatalf("ReenableHook: %v %v, old probe %+v", ok, err, old.Probe)
	}
	if _, ok, _ := c.s.ReenableHook(ctx, cClient, h.ID, da); ok {
		t.Error("ReenableHook twice")
	}
	got, _ = c.s.GetHook(ctx, cClient, h.ID)
	if !got.Enabled() || got.Probe != nil || got.Health.Failing() || got.DisabledReason() != "" {
		t.Errorf("re-enabled: enabled %v probe %+v health %+v", got.Enabled(), got.Probe, got.Health)
	}
	if last := got.Audit[len(got.Audit)-1]; last.By != hook.Service || last.Action != hook.ActionAutoEnabled {
		t.Errorf("audit %+v", last)
	}
}

func contractMemberStopsProbes(t *testing.T, c healthContract) {
	h := c.failingHook(t, 2)
	d, _, err := c.s.AutoDisableHook(ctx, cClient, h.ID, h.Health.FailingSince, h.Health.FailingSince)
	if err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(time.Second)
	got, err := c.s.SetHookEnabled(ctx, member(cClient), h.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledReason() != hook.DisabledByMember || got.Probe != nil {
		t.Fatalf("member disable of a failing hook: reason %q probe %+v", got.DisabledReason(), got.Probe)
	}
	if ok, _ := c.s.AdvanceProbe(ctx, cClient, h.ID, *d.DisabledAt, 1); ok {
		t.Error("probe advanced after the member's disable")
	}
	if _, ok, _ := c.s.ReenableHook(ctx, cClient, h.ID, *got.DisabledAt); ok {
		t.Error("a member-disabled hook was re-enabled by the service")
	}
	// The member re-enables: a clean health record.
	got, err = c.s.SetHookEnabled(ctx, member(cClient), h.ID, true)
	if err != nil || got.Health.Failing() || got.Health.Exhausted != 0 {
		t.Errorf("member enable: %+v %v", got.Health, err)
	}
}

// contractPlanStopsProbes: a downgrade stops the probes of a hook disabled
// for failing, which then shows as disabled by the plan (so after an upgrade
// a member re-enables it like the others), but counts only the hooks it
// disabled: those that were enabled.
func contractPlanStopsProbes(t *testing.T, c healthContract) {
	h := c.failingHook(t, 2)
	failing, ok, err := c.s.AutoDisableHook(ctx, cClient, h.ID, h.Health.FailingSince, h.Health.FailingSince)
	if err != nil || !ok {
		t.Fatalf("AutoDisableHook: %v %v", ok, err)
	}
	p := member(cClient)
	c.c.hook(t, p, "https://a.example.com/")
	c.c.hook(t, p, "https://b.example.com/")
	off, err := c.s.SetHookEnabled(ctx, p, c.c.hook(t, p, "https://c.example.com/").ID, false)
	if err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(time.Minute)
	plan := "standard"
	if _, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: &plan}); err != nil || disabled != 2 {
		t.Fatalf("downgrade: %d disabled, %v; want 2 (the failing and the member's hook were disabled already)", disabled, err)
	}
	got, _ := c.s.GetHook(ctx, cClient, h.ID)
	if got.DisabledReason() != hook.DisabledByPlan || got.Probe != nil {
		t.Errorf("after downgrade: reason %q probe %+v", got.DisabledReason(), got.Probe)
	}
	if ok, _ := c.s.AdvanceProbe(ctx, cClient, h.ID, *failing.DisabledAt, 1); ok {
		t.Error("probe advanced after the downgrade")
	}
	if got, _ := c.s.GetHook(ctx, cClient, off.ID); got.DisabledReason() != hook.DisabledByMember || !got.DisabledAt.Equal(*off.DisabledAt) {
		t.Errorf("member's hook after downgrade: reason %q disabled at %v, want member, %v", got.DisabledReason(), got.DisabledAt, off.DisabledAt)
	}
	if _, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: &plan}); err != nil || disabled != 0 {
		t.Errorf("second downgrade: %d disabled, %v; want 0", disabled, err)
	}
	// After an upgrade every hook is still disabled, each as before.
	plan = "advanced"
	if _, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: &plan}); err != nil || disabled != 0 {
		t.Errorf("upgrade: %d disabled, %v; want 0", disabled, err)
	}
	hooks, err := c.s.ListHooks(ctx, cClient)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, h := range hooks {
		reasons = append(reasons, h.DisabledReason())
	}
	if want := []string{"plan", "plan", "plan", "member"}; !slices.Equal(reasons, want) {
		t.Errorf("reasons after the upgrade: %q, want %q", reasons, want)
	}
}

func contractSkipLoad(t *testing.T, c healthContract) {
	c.c.account(t, cClient, "advanced")
	h := c.c.hook(t, member(cClient), "https://hooks.example.com/h")
	body := []byte(`{"version":"1.0","integration_name":"shopify","destination_root_table_name":"orders","tables":[]}`)
	start := c.clock.Now()
	l := delivery.Load{ClientID: cClient, LoadID: "load-skipped", IntegrationName: "shopify", Tables: []string{"orders"}, Body: body}
	if err := c.s.SkipLoad(ctx, l, []int64{h.ID}); err != nil {
		t.Fatalf("SkipLoad: %v", err)
	}
	if err := c.s.SkipLoad(ctx, l, []int64{h.ID}); err != nil {
		t.Fatalf("SkipLoad again: %v", err)
	}
	p, err := c.s.ListDeliveries(ctx, delivery.ListQuery{ClientID: cClient, HookID: h.ID, Status: delivery.StatusSkipped, Limit: 10})
	if err != nil || len(p.Deliveries) != 1 || p.Deliveries[0].Status != delivery.StatusSkipped || p.Deliveries[0].WebhookID != hook.WebhookID(cClient, l.LoadID, h.ID) {
		t.Fatalf("listed skipped: %+v %v", p.Deliveries, err)
	}
	ds, err := c.s.RecoverableDeliveries(ctx, cClient, h.ID, start.Add(-time.Minute), c.clock.Advance(time.Second), 1000)
	if err != nil || len(ds) != 1 || ds[0].LoadID != l.LoadID {
		t.Fatalf("RecoverableDeliveries: %+v %v", ds, err)
	}
	r, err := c.s.Resend(ctx, ds[0].Key)
	m := r.Message
	if err != nil || m.Attempt != 1 || string(m.Body) != string(body) || m.WebhookID != ds[0].WebhookID {
		t.Fatalf("Resend of a skipped delivery: %+v %v", m, err)
	}
	// Resent: no longer recoverable, and a late SkipLoad keeps it waiting.
	if err := c.s.SkipLoad(ctx, l, []int64{h.ID}); err != nil {
		t.Fatal(err)
	}
	ds, _ = c.s.RecoverableDeliveries(ctx, cClient, h.ID, start.Add(-time.Minute), c.clock.Advance(time.Second), 1000)
	if len(ds) != 0 {
		t.Errorf("after resend: %+v", ds)
	}
}

// contractSkipDeferred: a load deferred by the in-flight cap has a record
// but no result; its deferred message, claimed while the hook is disabled
// for failing, ends it skipped (SkipHook). The replay after the recovery
// must find it, though no result ever put the record in the index.
func contractSkipDeferred(t *testing.T, c healthContract) {
	c.c.account(t, cClient, "advanced")
	h := c.c.hook(t, member(cClient), "https://hooks.example.com/h")
	s := c.s.(deferringStore)
	body := []byte(`{"version":"1.0","integration_name":"shopify","destination_root_table_name":"orders","tables":[]}`)
	start := c.clock.Now()
	l := delivery.Load{ClientID: cClient, LoadID: "load-deferred", IntegrationName: "shopify", Tables: []string{"orders"}, Body: body}
	if _, deferred, _, err := s.ClaimLoadDeferring(ctx, l, nil, []int64{h.ID}, "tok-load", time.Minute); err != nil || len(deferred) != 1 {
		t.Fatalf("ClaimLoadDeferring = %v, %v", deferred, err)
	}
	cl := delivery.NewClaim(delivery.Key{ClientID: cClient, LoadID: l.LoadID, HookID: h.ID}, 1)
	if claimed, cur, err := s.ClaimHook(ctx, cl, delivery.BodyDigest(body), time.Minute); !claimed || err != nil {
		t.Fatalf("ClaimHook of the deferred attempt = %v, %+v, %v", claimed, cur, err)
	}
	if err := s.SkipHook(ctx, cl); err != nil {
		t.Fatalf("SkipHook: %v", err)
	}
	ds, err := c.s.RecoverableDeliveries(ctx, cClient, h.ID, start.Add(-time.Minute), c.clock.Advance(time.Second), 1000)
	if err != nil || len(ds) != 1 || ds[0].LoadID != l.LoadID || ds[0].Status != delivery.StatusSkipped {
		t.Fatalf("RecoverableDeliveries after a deferred delivery was skipped = %+v, %v; want it", ds, err)
	}
}
