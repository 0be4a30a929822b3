package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// The store's contract: one suite of tests of what the store promises,
// through the methods the functions call, run against DynamoDB Local (the
// store on a fresh table built from template.yaml) and against the
// in-memory store that the functions' unit tests use, so that one cannot
// drift from the other. Tests that need the raw items (key layout, TTL
// attributes, lost responses) stay in the store's own tests.

// contractStore is every method of the store that the functions call.
type contractStore interface {
	CreateAccount(ctx context.Context, a hook.Account) (hook.Account, error)
	Account(ctx context.Context, clientID int64) (hook.Account, error)
	AccountWithHooks(ctx context.Context, clientID int64) (hook.Account, []hook.Hook, error)
	UpdateAccount(ctx context.Context, clientID int64, u store.AccountUpdate) (hook.Account, int, error)

	CreateHook(ctx context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error)
	ListHooks(ctx context.Context, clientID int64) ([]hook.Hook, error)
	SetHookEnabled(ctx context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error)
	DeleteHook(ctx context.Context, p hook.Principal, id int64) (hook.Hook, error)
	GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error)
	RotateHookSecret(ctx context.Context, p hook.Principal, id int64, secret string, overlap time.Duration) (hook.Hook, error)

	CreateMember(ctx context.Context, clientID int64, email string) (hook.Member, string, error)
	DeleteMember(ctx context.Context, clientID int64, memberID string) error
	ListMembers(ctx context.Context, clientID int64) ([]hook.Member, error)
	Authenticate(ctx context.Context, token string) (hook.Principal, error)

	ClaimAlert(ctx context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (store.AlertClaim, error)
	AlertSentTo(ctx context.Context, c *store.AlertClaim, recipient string) error
	FinishAlert(ctx context.Context, c store.AlertClaim) error
	ReleaseAlert(ctx context.Context, c store.AlertClaim) error

	Memberships(ctx context.Context, emailKey string) ([]hook.Principal, error)
	CreateSignInLink(ctx context.Context, email string, ttl time.Duration) (string, error)
	UseSignInLink(ctx context.Context, token string) (string, error)
	CreateSession(ctx context.Context, emailKey string, p hook.Principal) (string, signin.Session, error)
	Session(ctx context.Context, id string) (signin.Session, error)
	BindSession(ctx context.Context, sess signin.Session, p hook.Principal) (signin.Session, error)
	DeleteSession(ctx context.Context, id string) error
}

var (
	_ contractStore = (*store.Store)(nil)
	_ contractStore = (*memstore.Store)(nil)
)

// contract is one store under test and its clock.
type contract struct {
	s     contractStore
	clock *testClock
}

func TestContractDynamoDB(t *testing.T) {
	runContract(t, func(t *testing.T) contract {
		f := newFixture(t)
		return contract{s: f.store, clock: f.clock}
	})
}

func TestContractMemstore(t *testing.T) {
	runContract(t, func(*testing.T) contract {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		return contract{s: memstore.New(clock.Now), clock: clock}
	})
}

// runContract runs every test of the contract, each on a fresh store.
func runContract(t *testing.T, open func(t *testing.T) contract) {
	for _, tt := range contractTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

var contractTests = []struct {
	name string
	run  func(t *testing.T, c contract)
}{
	{"AccountCreateAndRead", contractAccountCreateAndRead},
	{"AccountUpdate", contractAccountUpdate},
	{"DestinationInUse", contractDestinationInUse},
	{"DestinationRemovalRacesHookCreation", contractDestinationRace},
	{"DowngradeDisablesHooks", contractDowngrade},
	{"HookCreateListDelete", contractHookCreateListDelete},
	{"HookCreateRefused", contractHookCreateRefused},
	{"HookIDsNeverReused", contractHookIDs},
	{"HookLimitUnderConcurrency", contractHookLimitConcurrent},
	{"HookEnableDisable", contractHookEnableDisable},
	{"HookGet", contractHookGet},
	{"HookSecretRotation", contractHookRotate},
	{"TenantIsolation", contractTenantIsolation},
	{"Members", contractMembers},
	{"AlertOnce", contractAlertOnce},
	{"AlertLeaseAndRelease", contractAlertLease},
	{"AlertClaimLost", contractAlertClaimLost},
	{"AlertConcurrentClaimsOneWins", contractAlertConcurrent},
	{"Memberships", contractMemberships},
	{"SignInLinks", contractSignInLinks},
	{"Sessions", contractSessions},
	{"APIAccess", contractAPIAccess},
}

// Fixtures of the contract tests.
const (
	cClient = int64(4001)
	cOther  = int64(4002)
	cStd    = int64(4003)
	cDest   = int64(12345)
	cDest2  = int64(678)
)

var ctx = context.Background()

func (c contract) account(t *testing.T, clientID int64, plan string, dests ...hook.Destination) hook.Account {
	t.Helper()
	if dests == nil {
		dests = []hook.Destination{{ID: cDest, Type: "s3"}}
	}
	a, err := c.s.CreateAccount(ctx, hook.Account{ClientID: clientID, Plan: plan, AlertEmails: []string{"ops@example.com"}, Destinations: dests})
	if err != nil {
		t.Fatalf("CreateAccount(%d): %v", clientID, err)
	}
	return a
}

func (c contract) hook(t *testing.T, p hook.Principal, url string) hook.Hook {
	t.Helper()
	h, err := c.s.CreateHook(ctx, p, cDest, url, hook.NewSecret())
	if err != nil {
		t.Fatalf("CreateHook(%v, %q): %v", p, url, err)
	}
	return h
}

func (c contract) hooks(t *testing.T, clientID int64) []hook.Hook {
	t.Helper()
	hs, err := c.s.ListHooks(ctx, clientID)
	if err != nil {
		t.Fatalf("ListHooks(%d): %v", clientID, err)
	}
	return hs
}

func (c contract) read(t *testing.T, clientID int64) hook.Account {
	t.Helper()
	a, err := c.s.Account(ctx, clientID)
	if err != nil {
		t.Fatalf("Account(%d): %v", clientID, err)
	}
	return a
}

func member(clientID int64) hook.Principal { return hook.Principal{ClientID: clientID, MemberID: "m1"} }

func wantIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func contractAccountCreateAndRead(t *testing.T, c contract) {
	now := c.clock.Now()
	a, err := c.s.CreateAccount(ctx, hook.Account{ClientID: cClient, Plan: "advanced", HookCount: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := hook.Account{ClientID: cClient, Plan: "advanced", AlertEmails: []string{}, Destinations: []hook.Destination{}, CreatedAt: now, ModifiedAt: now}
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("created account (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, c.read(t, cClient)); d != "" {
		t.Errorf("read account (-want +got):\n%s", d)
	}
	a2, hooks, err := c.s.AccountWithHooks(ctx, cClient)
	if err != nil || len(hooks) != 0 || hooks == nil || !cmp.Equal(a2, want) {
		t.Errorf("AccountWithHooks = %+v, %v (nil %v), %v; want the account and an empty list", a2, hooks, hooks == nil, err)
	}
	_, err = c.s.CreateAccount(ctx, hook.Account{ClientID: cClient, Plan: "standard"})
	wantIs(t, "create again", err, hook.ErrConflict)
	if got := c.read(t, cClient); got.Plan != "advanced" {
		t.Errorf("a refused create changed the plan to %q", got.Plan)
	}
	_, err = c.s.Account(ctx, cOther)
	wantIs(t, "Account(unknown)", err, hook.ErrNotFound)
	_, _, err = c.s.AccountWithHooks(ctx, cOther)
	wantIs(t, "AccountWithHooks(unknown)", err, hook.ErrNotFound)
	_, err = c.s.ListHooks(ctx, cOther)
	wantIs(t, "ListHooks(unknown)", err, hook.ErrNotFound)
}

func contractAccountUpdate(t *testing.T, c contract) {
	created := c.account(t, cClient, "advanced")
	later := c.clock.Advance(time.Minute)
	dests := []hook.Destination{{ID: cDest, Type: "s3"}, {ID: cDest2, Type: "snowflake"}}
	a, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{
		Plan: ptr("premium"), AlertEmails: &[]string{"a@example.com", "b@example.com"}, Destinations: &dests,
	})
	if err != nil || disabled != 0 {
		t.Fatalf("UpdateAccount = %d, %v", disabled, err)
	}
	want := hook.Account{ClientID: cClient, Plan: "premium", AlertEmails: []string{"a@example.com", "b@example.com"},
		Destinations: dests, CreatedAt: created.CreatedAt, ModifiedAt: later}
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("updated account (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, c.read(t, cClient)); d != "" {
		t.Errorf("read after update (-want +got):\n%s", d)
	}
	// Fields left out keep their value; empty lists are stored empty.
	a, _, err = c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{AlertEmails: &[]string{}, Destinations: &[]hook.Destination{}})
	if err != nil || a.Plan != "premium" || a.AlertEmails == nil || len(a.AlertEmails) != 0 || a.Destinations == nil || len(a.Destinations) != 0 {
		t.Errorf("UpdateAccount(empty lists) = %+v, %v", a, err)
	}
	_, _, err = c.s.UpdateAccount(ctx, cOther, store.AccountUpdate{Plan: ptr("advanced")})
	wantIs(t, "UpdateAccount(unknown)", err, hook.ErrNotFound)
}

func contractDestinationInUse(t *testing.T, c contract) {
	c.account(t, cClient, "advanced", hook.Destination{ID: cDest, Type: "s3"}, hook.Destination{ID: cDest2, Type: "s3"})
	p := member(cClient)
	c.hook(t, p, "https://a.example.com/")
	c.hook(t, p, "https://b.example.com/")
	_, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("premium"), Destinations: &[]hook.Destination{{ID: cDest2, Type: "s3"}}})
	var inUse *hook.DestinationInUseError
	if !errors.As(err, &inUse) || inUse.DestinationID != cDest || inUse.Hooks != 2 {
		t.Fatalf("removing a destination with 2 hooks: error %v, want DestinationInUseError{%d, 2}", err, cDest)
	}
	if a := c.read(t, cClient); a.Plan != "advanced" || len(a.Destinations) != 2 {
		t.Errorf("a refused update changed the account: %+v", a)
	}
	// A destination without hooks can go.
	a, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: cDest, Type: "s3"}}})
	if err != nil || len(a.Destinations) != 1 {
		t.Errorf("removing an unused destination = %+v, %v", a.Destinations, err)
	}
	_, err = c.s.CreateHook(ctx, p, cDest2, "https://c.example.com/", hook.NewSecret())
	wantIs(t, "hook on the removed destination", err, hook.ErrInvalidDestination)
}

// contractDestinationRace removes a destination while hooks are created on
// it: either may win, but a hook never ends on a destination the account no
// longer has.
func contractDestinationRace(t *testing.T, c contract) {
	c.account(t, cClient, "advanced", hook.Destination{ID: cDest, Type: "s3"}, hook.Destination{ID: cDest2, Type: "s3"})
	p := member(cClient)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			_, err := c.s.CreateHook(ctx, p, cDest2, fmt.Sprintf("https://race.example.com/%d", i), hook.NewSecret())
			if err != nil && !errors.Is(err, hook.ErrInvalidDestination) {
				t.Errorf("CreateHook: %v", err)
			}
		})
	}
	wg.Go(func() {
		_, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: cDest, Type: "s3"}}})
		var inUse *hook.DestinationInUseError
		if err != nil && !errors.As(err, &inUse) {
			t.Errorf("UpdateAccount: %v", err)
		}
	})
	wg.Wait()
	a, hooks, err := c.s.AccountWithHooks(ctx, cClient)
	if err != nil {
		t.Fatal(err)
	}
	if a.HookCount != len(hooks) {
		t.Errorf("HookCount %d, %d hooks", a.HookCount, len(hooks))
	}
	for _, h := range hooks {
		if !a.HasDestination(h.DestinationID) {
			t.Errorf("hook %d sends loads of destination %d, which the account no longer has (%v)", h.ID, h.DestinationID, a.Destinations)
		}
	}
}

func contractDowngrade(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	h1 := c.hook(t, p, "https://a.example.com/")
	h2 := c.hook(t, p, "https://b.example.com/")
	off, err := c.s.SetHookEnabled(ctx, p, h2.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	now := c.clock.Advance(time.Hour)
	a, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("standard")})
	if err != nil || disabled != 1 || a.Plan != "standard" || a.HookCount != 2 {
		t.Fatalf("downgrade = %+v, %d disabled, %v; want standard, 1 disabled, 2 hooks", a, disabled, err)
	}
	hooks := c.hooks(t, cClient)
	want1 := h1
	want1.DisabledAt, want1.ModifiedAt = &now, now
	want1.Audit = append(want1.Audit, hook.Change{At: now, By: hook.Operator, Action: "plan_downgraded"})
	if d := cmp.Diff([]hook.Hook{want1, off}, hooks); d != "" {
		t.Errorf("hooks after the downgrade (-want +got):\n%s", d)
	}
	// A second plan change without the feature disables nothing more; an
	// upgrade enables nothing.
	if _, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("standard")}); err != nil || disabled != 0 {
		t.Errorf("second downgrade: %d disabled, %v", disabled, err)
	}
	if _, disabled, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("advanced")}); err != nil || disabled != 0 {
		t.Errorf("upgrade: %d disabled, %v", disabled, err)
	}
	for _, h := range c.hooks(t, cClient) {
		if h.Enabled() {
			t.Errorf("hook %d enabled by the upgrade", h.ID)
		}
	}
}

func contractHookCreateListDelete(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	now := c.clock.Now()
	p := member(cClient)
	h, err := c.s.CreateHook(ctx, p, cDest, "https://a.example.com/x", "whsec_test")
	if err != nil {
		t.Fatal(err)
	}
	want := hook.Hook{ID: 1, ClientID: cClient, DestinationID: cDest, URL: "https://a.example.com/x", Secret: "whsec_test",
		CreatedAt: now, ModifiedAt: now, Audit: []hook.Change{{At: now, By: "m1", Action: "created"}}}
	if d := cmp.Diff(want, h); d != "" {
		t.Errorf("created hook (-want +got):\n%s", d)
	}
	op, err := c.s.CreateHook(ctx, hook.Principal{ClientID: cClient}, cDest, "https://b.example.com/", hook.NewSecret())
	if err != nil || op.ID != 2 || op.Audit[0].By != hook.Operator {
		t.Errorf("operator's hook = %+v, %v; want id 2 created by %q", op, err, hook.Operator)
	}
	hooks := c.hooks(t, cClient)
	if len(hooks) != 2 || !cmp.Equal(hooks[0], want) || hooks[1].ID != 2 {
		t.Errorf("ListHooks = %+v", hooks)
	}
	if a := c.read(t, cClient); a.HookCount != 2 {
		t.Errorf("HookCount = %d, want 2", a.HookCount)
	}
	gone, err := c.s.DeleteHook(ctx, p, 1)
	if err != nil || !cmp.Equal(gone, want) {
		t.Errorf("DeleteHook = %+v, %v; want the deleted hook", gone, err)
	}
	_, err = c.s.DeleteHook(ctx, p, 1)
	wantIs(t, "delete twice", err, hook.ErrNotFound)
	if a := c.read(t, cClient); a.HookCount != 1 {
		t.Errorf("HookCount after delete = %d, want 1", a.HookCount)
	}
	// The URL of a deleted hook is free again.
	if h := c.hook(t, p, "https://a.example.com/x"); h.ID != 3 {
		t.Errorf("re-created hook has id %d, want 3", h.ID)
	}
}

func contractHookCreateRefused(t *testing.T, c contract) {
	c.account(t, cClient, "advanced", hook.Destination{ID: cDest, Type: "s3"})
	c.account(t, cStd, "standard")
	c.account(t, cOther, "advanced", []hook.Destination{}...)
	p := member(cClient)
	c.hook(t, p, "https://dup.example.com/")
	for i := 1; i < hook.MaxHooks; i++ {
		c.hook(t, p, fmt.Sprintf("https://full.example.com/%d", i))
	}
	tests := []struct {
		name string
		p    hook.Principal
		dest int64
		url  string
		want error
	}{
		{"unknown account", member(9999), cDest, "https://x.example.com/", hook.ErrNotFound},
		{"plan without hooks", member(cStd), cDest, "https://x.example.com/", hook.ErrNoAccess},
		{"no destination", member(cOther), cDest, "https://x.example.com/", hook.ErrNoDestination},
		// The account's refusals come first, then the URL, then the limit.
		{"unknown destination", p, cDest2, "https://dup.example.com/", hook.ErrInvalidDestination},
		{"duplicate URL at the limit", p, cDest, "https://dup.example.com/", hook.ErrDuplicateURL},
		{"limit", p, cDest, "https://new.example.com/", hook.ErrLimit},
	}
	for _, tt := range tests {
		_, err := c.s.CreateHook(ctx, tt.p, tt.dest, tt.url, hook.NewSecret())
		wantIs(t, tt.name, err, tt.want)
	}
	if a := c.read(t, cClient); a.HookCount != hook.MaxHooks || len(c.hooks(t, cClient)) != hook.MaxHooks {
		t.Errorf("refused creates changed the hooks: HookCount %d", a.HookCount)
	}
}

func contractHookIDs(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	c.hook(t, p, "https://a.example.com/")
	_, err := c.s.CreateHook(ctx, p, cDest, "https://a.example.com/", hook.NewSecret())
	wantIs(t, "duplicate", err, hook.ErrDuplicateURL)
	if _, err := c.s.DeleteHook(ctx, p, 1); err != nil {
		t.Fatal(err)
	}
	// Every create takes the next id, refused or not, and ids of deleted
	// hooks are not given again.
	if h := c.hook(t, p, "https://b.example.com/"); h.ID != 3 {
		t.Errorf("id after a refused create and a delete = %d, want 3", h.ID)
	}
}

func contractHookLimitConcurrent(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	created, errs := concurrently(hook.MaxHooks+4, func(i int) (hook.Hook, error) {
		return c.s.CreateHook(ctx, p, cDest, fmt.Sprintf("https://c.example.com/%d", i), hook.NewSecret())
	})
	for _, err := range errs {
		wantIs(t, "CreateHook over the limit", err, hook.ErrLimit)
	}
	if len(created) != hook.MaxHooks || len(errs) != 4 {
		t.Errorf("%d created, %d refused; want %d and 4", len(created), len(errs), hook.MaxHooks)
	}
	if a := c.read(t, cClient); a.HookCount != hook.MaxHooks {
		t.Errorf("HookCount = %d", a.HookCount)
	}
}

// concurrently calls do(0), ..., do(n-1) at once and returns the results of
// the calls that succeeded and the errors of the others.
func concurrently[T any](n int, do func(i int) (T, error)) ([]T, []error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		oks  []T
		errs []error
	)
	for i := range n {
		wg.Go(func() {
			v, err := do(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			oks = append(oks, v)
		})
	}
	wg.Wait()
	return oks, errs
}

func contractHookEnableDisable(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	h := c.hook(t, p, "https://a.example.com/")
	t1 := c.clock.Advance(time.Minute)
	off, err := c.s.SetHookEnabled(ctx, p, h.ID, false)
	if err != nil || off.Enabled() || !off.DisabledAt.Equal(t1) || !off.ModifiedAt.Equal(t1) ||
		len(off.Audit) != 2 || off.Audit[1] != (hook.Change{At: t1, By: "m1", Action: "disabled"}) {
		t.Fatalf("disable = %+v, %v", off, err)
	}
	c.clock.Advance(time.Minute)
	again, err := c.s.SetHookEnabled(ctx, p, h.ID, false)
	if err != nil || !cmp.Equal(again, off) {
		t.Errorf("disabling a disabled hook changed it: %+v, %v", again, err)
	}
	t3 := c.clock.Advance(time.Minute)
	on, err := c.s.SetHookEnabled(ctx, hook.Principal{ClientID: cClient}, h.ID, true)
	if err != nil || !on.Enabled() || !on.ModifiedAt.Equal(t3) || len(on.Audit) != 3 ||
		on.Audit[2] != (hook.Change{At: t3, By: hook.Operator, Action: "enabled"}) {
		t.Fatalf("enable = %+v, %v", on, err)
	}
	if again, err := c.s.SetHookEnabled(ctx, p, h.ID, true); err != nil || !cmp.Equal(again, on) {
		t.Errorf("enabling an enabled hook changed it: %+v, %v", again, err)
	}
	if got := c.hooks(t, cClient); !cmp.Equal(got, []hook.Hook{on}) {
		t.Errorf("ListHooks = %+v, want %+v", got, on)
	}
	_, err = c.s.SetHookEnabled(ctx, p, 99, false)
	wantIs(t, "disable unknown", err, hook.ErrNotFound)
	_, err = c.s.SetHookEnabled(ctx, p, 99, true)
	wantIs(t, "enable unknown", err, hook.ErrNotFound)

	// Enabling needs a plan with hooks and a destination; disabling does not.
	if _, err := c.s.SetHookEnabled(ctx, p, h.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("standard")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.s.SetHookEnabled(ctx, p, h.ID, true)
	wantIs(t, "enable on a plan without hooks", err, hook.ErrNoAccess)
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("advanced")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.DeleteHook(ctx, p, h.ID); err != nil {
		t.Fatal(err)
	}
	h = c.hook(t, p, "https://b.example.com/")
	if _, err := c.s.SetHookEnabled(ctx, p, h.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Destinations: &[]hook.Destination{}}); err == nil {
		t.Fatal("removed a destination that a hook uses")
	}
	if _, err := c.s.DeleteHook(ctx, p, h.ID); err != nil {
		t.Fatal(err)
	}
}

func contractHookGet(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	h := c.hook(t, p, "https://a.example.com/")
	c.hook(t, p, "https://b.example.com/")
	got, err := c.s.GetHook(ctx, cClient, h.ID)
	if err != nil || !cmp.Equal(got, h) {
		t.Fatalf("GetHook = %+v, %v; want %+v", got, err, h)
	}
	// A downgrade leaves the hook readable, disabled.
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("standard")}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.s.GetHook(ctx, cClient, h.ID); err != nil || got.Enabled() || got.DisabledReason() != hook.DisabledByPlan {
		t.Errorf("GetHook after a downgrade = %+v, %v", got, err)
	}
	_, err = c.s.GetHook(ctx, cClient, 99)
	wantIs(t, "get unknown", err, hook.ErrNotFound)
	_, err = c.s.GetHook(ctx, cStd, h.ID)
	wantIs(t, "get in an unknown account", err, hook.ErrNotFound)
	if _, err := c.s.DeleteHook(ctx, p, h.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.s.GetHook(ctx, cClient, h.ID)
	wantIs(t, "get deleted", err, hook.ErrNotFound)
}

func contractHookRotate(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	p := member(cClient)
	h := c.hook(t, p, "https://a.example.com/")
	first, second := hook.NewSecret(), hook.NewSecret()

	t1 := c.clock.Advance(time.Minute)
	got, err := c.s.RotateHookSecret(ctx, p, h.ID, first, 24*time.Hour)
	want := h
	want.Secret, want.PreviousSecret, want.PreviousSecretExpiresAt = first, h.Secret, t1.Add(24*time.Hour)
	want.ModifiedAt = t1
	want.Audit = append(want.Audit, hook.Change{At: t1, By: "m1", Action: hook.ActionSecretRotated})
	if err != nil || !cmp.Equal(got, want) {
		t.Fatalf("RotateHookSecret = %+v, %v\nwant %+v", got, err, want)
	}
	if stored, err := c.s.GetHook(ctx, cClient, h.ID); err != nil || !cmp.Equal(stored, want) {
		t.Errorf("GetHook after the rotation = %+v, %v", stored, err)
	}
	if listed := c.hooks(t, cClient); !cmp.Equal(listed, []hook.Hook{want}) {
		t.Errorf("ListHooks after the rotation = %+v", listed)
	}

	// Rotating to the secret the hook already holds is a retry of an
	// applied rotation: nothing changes.
	c.clock.Advance(time.Minute)
	if again, err := c.s.RotateHookSecret(ctx, p, h.ID, first, 24*time.Hour); err != nil || !cmp.Equal(again, want) {
		t.Errorf("repeated rotation = %+v, %v; want the hook unchanged", again, err)
	}

	// A second rotation keeps only the secret it replaces: the first
	// hook secret no longer signs.
	t2 := c.clock.Advance(time.Hour)
	got, err = c.s.RotateHookSecret(ctx, hook.Principal{ClientID: cClient}, h.ID, second, time.Hour)
	if err != nil || got.Secret != second || got.PreviousSecret != first || !got.PreviousSecretExpiresAt.Equal(t2.Add(time.Hour)) ||
		got.Audit[len(got.Audit)-1] != (hook.Change{At: t2, By: hook.Operator, Action: hook.ActionSecretRotated}) {
		t.Fatalf("second rotation = %+v, %v", got, err)
	}

	// Any plan, enabled or not; a rotation does not hide why a hook is
	// disabled.
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{Plan: ptr("standard")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.s.RotateHookSecret(ctx, p, h.ID, first, time.Hour)
	if err != nil || got.Secret != first || got.DisabledReason() != hook.DisabledByPlan {
		t.Errorf("rotation on a plan without hooks = %+v, %v", got, err)
	}
	_, err = c.s.RotateHookSecret(ctx, p, 99, first, time.Hour)
	wantIs(t, "rotate unknown", err, hook.ErrNotFound)
}

func contractTenantIsolation(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	c.account(t, cOther, "advanced")
	h := c.hook(t, member(cClient), "https://a.example.com/")
	other := member(cOther)
	_, err := c.s.SetHookEnabled(ctx, other, h.ID, false)
	wantIs(t, "disable another account's hook", err, hook.ErrNotFound)
	_, err = c.s.DeleteHook(ctx, other, h.ID)
	wantIs(t, "delete another account's hook", err, hook.ErrNotFound)
	_, err = c.s.GetHook(ctx, cOther, h.ID)
	wantIs(t, "get another account's hook", err, hook.ErrNotFound)
	_, err = c.s.RotateHookSecret(ctx, other, h.ID, hook.NewSecret(), time.Hour)
	wantIs(t, "rotate another account's secret", err, hook.ErrNotFound)
	if hs := c.hooks(t, cOther); len(hs) != 0 {
		t.Errorf("the other account lists %d hooks", len(hs))
	}
	// The same URL is another account's own.
	if oh := c.hook(t, other, "https://a.example.com/"); oh.ID != 1 {
		t.Errorf("the other account's first hook has id %d", oh.ID)
	}
	if got := c.hooks(t, cClient); len(got) != 1 || !got[0].Enabled() {
		t.Errorf("hooks of the first account: %+v", got)
	}
}

func contractMembers(t *testing.T, c contract) {
	c.account(t, cClient, "advanced")
	now := c.clock.Now()
	var ids []string
	tokens := map[string]string{}
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		m, token, err := c.s.CreateMember(ctx, cClient, email)
		if err != nil {
			t.Fatal(err)
		}
		if m.ClientID != cClient || m.Email != email || !m.CreatedAt.Equal(now) || m.ID == "" || token == "" {
			t.Errorf("CreateMember = %+v, %q", m, token)
		}
		p, err := c.s.Authenticate(ctx, token)
		if err != nil || p != (hook.Principal{ClientID: cClient, MemberID: m.ID}) {
			t.Errorf("Authenticate(new token) = %+v, %v", p, err)
		}
		ids = append(ids, m.ID)
		tokens[m.ID] = token
	}
	ms, err := c.s.ListMembers(ctx, cClient)
	if err != nil || len(ms) != 3 {
		t.Fatalf("ListMembers = %+v, %v", ms, err)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i-1].ID >= ms[i].ID {
			t.Errorf("members not in id order: %q before %q", ms[i-1].ID, ms[i].ID)
		}
	}
	if err := c.s.DeleteMember(ctx, cClient, ids[0]); err != nil {
		t.Fatal(err)
	}
	_, err = c.s.Authenticate(ctx, tokens[ids[0]])
	wantIs(t, "token of a deleted member", err, hook.ErrUnauthorized)
	if _, err := c.s.Authenticate(ctx, tokens[ids[1]]); err != nil {
		t.Errorf("another member's token stopped working: %v", err)
	}
	wantIs(t, "delete twice", c.s.DeleteMember(ctx, cClient, ids[0]), hook.ErrNotFound)
	wantIs(t, "delete from another account", c.s.DeleteMember(ctx, cOther, ids[1]), hook.ErrNotFound)
	_, _, err = c.s.CreateMember(ctx, cOther, "x@example.com")
	wantIs(t, "member of an unknown account", err, hook.ErrNotFound)
	_, err = c.s.ListMembers(ctx, cOther)
	wantIs(t, "members of an unknown account", err, hook.ErrNotFound)
	for _, token := range []string{"", "not-a-token", strings.ToUpper(tokens[ids[1]])} {
		_, err = c.s.Authenticate(ctx, token)
		wantIs(t, fmt.Sprintf("Authenticate(%q)", token), err, hook.ErrUnauthorized)
	}
	c.account(t, cOther, "advanced")
	if ms, err := c.s.ListMembers(ctx, cOther); err != nil || ms == nil || len(ms) != 0 {
		t.Errorf("members of a new account = %v (nil %v), %v; want an empty list", ms, ms == nil, err)
	}
}

// Alerts.

func contractAlertOnce(t *testing.T, c contract) {
	cl, err := c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	if err != nil || cl.ClientID != cClient || cl.LoadID != "load-1" || cl.HookID != 1 || len(cl.SentTo) != 0 || cl.SentTo == nil {
		t.Fatalf("ClaimAlert = %+v, %v", cl, err)
	}
	_, err = c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	wantIs(t, "second claim", err, store.ErrAlertBusy)
	if err := c.s.AlertSentTo(ctx, &cl, " Ops@Example.com "); err != nil {
		t.Fatal(err)
	}
	if !cl.Sent("ops@example.com") || len(cl.SentTo) != 1 {
		t.Errorf("claim after AlertSentTo: %+v", cl.SentTo)
	}
	if err := c.s.AlertSentTo(ctx, &cl, "ops@example.com"); err != nil || len(cl.SentTo) != 1 {
		t.Errorf("the same recipient again: %v, %d recorded", err, len(cl.SentTo))
	}
	if err := c.s.FinishAlert(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if err := c.s.FinishAlert(ctx, cl); err != nil {
		t.Errorf("repeated FinishAlert by its claim: %v", err)
	}
	_, err = c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	wantIs(t, "claim after finish", err, store.ErrAlertSent)
	c.clock.Advance(30*24*time.Hour - 24*time.Hour)
	_, err = c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	wantIs(t, "claim a day before the TTL", err, store.ErrAlertSent)

	// Pairs are independent.
	for _, k := range []delivery.Key{{ClientID: cClient, LoadID: "load-1", HookID: 2}, {ClientID: cClient, LoadID: "load-2", HookID: 1}, {ClientID: cOther, LoadID: "load-1", HookID: 1}} {
		if _, err := c.s.ClaimAlert(ctx, k.ClientID, k.LoadID, k.HookID, time.Minute); err != nil {
			t.Errorf("claim %+v: %v", k, err)
		}
	}
}

func contractAlertLease(t *testing.T, c contract) {
	first, err := c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.s.AlertSentTo(ctx, &first, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(time.Minute)
	_, err = c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	wantIs(t, "claim as the lease ends", err, store.ErrAlertBusy)
	c.clock.Advance(time.Millisecond)
	second, err := c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	if err != nil || !second.Sent("a@example.com") || len(second.SentTo) != 1 {
		t.Fatalf("takeover after the lease = %+v, %v; want a claim that knows a@", second, err)
	}
	wantIs(t, "first claim records", c.s.AlertSentTo(ctx, &first, "b@example.com"), store.ErrAlertClaimLost)
	wantIs(t, "first claim finishes", c.s.FinishAlert(ctx, first), store.ErrAlertClaimLost)
	wantIs(t, "first claim releases", c.s.ReleaseAlert(ctx, first), store.ErrAlertClaimLost)

	// A released claim is taken at once, keeping the recipients sent.
	if err := c.s.ReleaseAlert(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := c.s.ReleaseAlert(ctx, second); err != nil {
		t.Errorf("repeated ReleaseAlert by its claim: %v", err)
	}
	wantIs(t, "finish after release", c.s.FinishAlert(ctx, second), store.ErrAlertClaimLost)
	third, err := c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute)
	if err != nil || !third.Sent("a@example.com") {
		t.Fatalf("claim after release = %+v, %v", third, err)
	}
	if err := c.s.FinishAlert(ctx, third); err != nil {
		t.Fatal(err)
	}
	wantIs(t, "release after finish", c.s.ReleaseAlert(ctx, third), store.ErrAlertClaimLost)
}

func contractAlertClaimLost(t *testing.T, c contract) {
	zero := store.AlertClaim{ClientID: cClient, LoadID: "load-1", HookID: 1, SentTo: map[string]bool{}}
	wantIs(t, "zero claim records", c.s.AlertSentTo(ctx, &zero, "a@example.com"), store.ErrAlertClaimLost)
	wantIs(t, "zero claim finishes", c.s.FinishAlert(ctx, zero), store.ErrAlertClaimLost)
	if _, err := c.s.ClaimAlert(ctx, cClient, "load-1", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	forged := zero
	forged.Token = "forged"
	wantIs(t, "forged claim finishes", c.s.FinishAlert(ctx, forged), store.ErrAlertClaimLost)
}

// contractAlertConcurrent (moved here from the store's own tests, where
// it ran on DynamoDB only).
func contractAlertConcurrent(t *testing.T, c contract) {
	const n = 20
	claims, errs := concurrently(n, func(int) (store.AlertClaim, error) {
		return c.s.ClaimAlert(ctx, 5, "load", 5, time.Minute)
	})
	for _, err := range errs {
		wantIs(t, "concurrent claim", err, store.ErrAlertBusy)
	}
	if len(claims) != 1 || len(errs) != n-1 {
		t.Errorf("concurrent claims: %d won, %d busy; want 1 and %d", len(claims), len(errs), n-1)
	}
}
