// Package memstore is an in-memory store with the contract of *store.Store:
// the same methods, results, errors (and their wrapping) and rules, for the
// unit tests of the functions.
//
// It is held to that contract by the conformance suite of package store,
// which runs the same tests against DynamoDB Local and against this store.
// The rules that are decisions rather than storage (can this attempt or
// this alert be claimed? is this write our own earlier try?) are the
// functions of package delivery that the store writes as DynamoDB
// conditions; this store calls them.
//
// It is imported only by _test files: it never runs in Lambda, and it does
// not import package testing. Besides the store's methods it has seeding
// and inspection methods for tests (Put..., Hooks, LoadEntry, Alert) that
// bypass the store's rules, and Fail and Calls to inject errors and count
// calls. It is safe for concurrent use.
package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// Store is the in-memory store. Its zero value is not usable: call New.
type Store struct {
	mu       sync.Mutex
	now      func() time.Time
	accounts map[int64]*account
	nextID   map[int64]int64 // hook id sequence per client (survives the account, as in DynamoDB)
	tokens   map[string]hook.Principal
	alerts   map[delivery.Key]*alertItem
	loads    map[loadKey]*loadItem // load records (loadrecord.go)
	fail     map[string]error
	calls    map[string]int
	web      *signinState                             // sign-in links and sessions (signin.go)
	fresh    map[int64][]hook.FreshnessRule           // freshness rules by account (freshness.go)
	dg       *digestState                             // alert digests and unsubscribe links (digest.go)
	seqs     map[delivery.SequenceKey]*sequence       // sequence counters (sequence.go)
	counted  map[hookKey][]exhaustedKey               // the last exhausted deliveries counted per hook (health.go)
	states   map[freshKey]*hook.FreshnessState        // freshness states of ruled tables (freshness.go)
	inflight map[int64]map[string]delivery.LeaseSlots // in-flight leases by account (inflight.go)
	runs     map[delivery.RunKey]*runItem             // run items (run.go)
}

// hookKey names one hook of one client.
type hookKey struct{ clientID, hookID int64 }

type account struct {
	a       hook.Account
	hooks   []hook.Hook // id ascending
	members map[string]member
}

type member struct {
	m         hook.Member
	tokenHash string
}

// deliveryItem is one hook's entry of a load record.
type deliveryItem struct {
	rec   delivery.Record
	claim string
}

type alertItem struct {
	status     string
	claim      string
	leaseUntil time.Time
	endedBy    string
	sentTo     map[string]bool
}

// New returns an empty store on the clock now (time.Now when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:      now,
		accounts: map[int64]*account{},
		nextID:   map[int64]int64{},
		tokens:   map[string]hook.Principal{},
		alerts:   map[delivery.Key]*alertItem{},
		loads:    map[loadKey]*loadItem{},
		fail:     map[string]error{},
		calls:    map[string]int{},
		counted:  map[hookKey][]exhaustedKey{},
	}
}

// Fail makes every later call of the store's method named method (for
// example "ClaimAttempt") return err, or every method when method is "".
// A nil err stops the failure.
func (s *Store) Fail(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.fail, method)
		return
	}
	s.fail[method] = err
}

// Calls returns how many times the store's method named method was called
// (failed calls included), or all methods together when method is "".
func (s *Store) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// ResetCalls sets every call count to zero.
func (s *Store) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// enter counts a call of method and returns the failure injected for it.
// The caller holds s.mu.
func (s *Store) enter(method string) error {
	s.calls[method]++
	s.calls[""]++
	if err := s.fail[method]; err != nil {
		return err
	}
	return s.fail[""]
}

// enterAccount is enter, then the account clientID, or hook.ErrNotFound
// wrapped as the store wraps it (what, with the client id). The caller holds
// s.mu.
func (s *Store) enterAccount(method string, clientID int64, what string) (*account, error) {
	if err := s.enter(method); err != nil {
		return nil, err
	}
	ac := s.accounts[clientID]
	if ac == nil {
		return nil, fmt.Errorf(what+": %w", clientID, hook.ErrNotFound)
	}
	return ac, nil
}

func (s *Store) utcNow() time.Time { return s.now().UTC() }

// --- Seeding and inspection (tests only; no rule is checked) ---

// PutAccount stores a as it is (HookCount is ignored: it is always the
// number of the account's hooks), keeping the account's hooks and members.
func (s *Store) PutAccount(a hook.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ac := s.accounts[a.ClientID]; ac != nil {
		ac.a = a
		return
	}
	s.accounts[a.ClientID] = &account{a: a, members: map[string]member{}}
}

// PutHook stores h under its account, which must exist, replacing the hook
// with its id. A zero h.ID takes the next id of the account's sequence.
func (s *Store) PutHook(h hook.Hook) hook.Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.accounts[h.ClientID]
	if ac == nil {
		panic(fmt.Sprintf("memstore: PutHook: no account %d", h.ClientID))
	}
	if h.ID == 0 {
		s.nextID[h.ClientID]++
		h.ID = s.nextID[h.ClientID]
	}
	s.nextID[h.ClientID] = max(s.nextID[h.ClientID], h.ID)
	ac.hooks = slices.DeleteFunc(ac.hooks, func(x hook.Hook) bool { return x.ID == h.ID })
	ac.hooks = append(ac.hooks, cloneHook(h))
	slices.SortFunc(ac.hooks, func(x, y hook.Hook) int { return cmp.Compare(x.ID, y.ID) })
	return cloneHook(h)
}

// SetHooks replaces every hook of the account clientID, which must exist.
// A hook's zero ClientID is clientID's; another is refused (no store keeps
// a hook under another account: to play a faulty store, wrap this one).
func (s *Store) SetHooks(clientID int64, hooks []hook.Hook) {
	s.mu.Lock()
	ac := s.accounts[clientID]
	if ac == nil {
		s.mu.Unlock()
		panic(fmt.Sprintf("memstore: SetHooks: no account %d", clientID))
	}
	ac.hooks = nil
	s.mu.Unlock()
	for _, h := range hooks {
		if h.ClientID == 0 {
			h.ClientID = clientID
		}
		if h.ClientID != clientID {
			panic(fmt.Sprintf("memstore: SetHooks: hook %d of client %d under account %d", h.ID, h.ClientID, clientID))
		}
		s.PutHook(h)
	}
}

// PutMember stores m under its account, which must exist, with token as
// its API token.
func (s *Store) PutMember(m hook.Member, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.accounts[m.ClientID]
	if ac == nil {
		panic(fmt.Sprintf("memstore: PutMember: no account %d", m.ClientID))
	}
	hash := hook.HashToken(token)
	ac.members[m.ID] = member{m: m, tokenHash: hash}
	s.tokens[hash] = hook.Principal{ClientID: m.ClientID, MemberID: m.ID}
}

// Hooks returns the hooks of clientID as stored, id ascending.
func (s *Store) Hooks(clientID int64) []hook.Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.accounts[clientID]
	if ac == nil {
		return nil
	}
	return cloneHooks(ac.hooks)
}

// Hook returns hook id of clientID as stored.
func (s *Store) Hook(clientID, id int64) (hook.Hook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, i := s.hookAt(clientID, id)
	if i < 0 {
		return hook.Hook{}, false
	}
	return cloneHook(*h), true
}

// StoredAccount returns the account clientID as stored, without counting a
// call.
func (s *Store) StoredAccount(clientID int64) (hook.Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.accounts[clientID]
	if ac == nil {
		return hook.Account{}, false
	}
	return ac.view(), true
}

// ClientIDs returns the client id of every account, ascending.
func (s *Store) ClientIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.accounts))
}

// Members returns the members of clientID as stored, id ascending.
func (s *Store) Members(clientID int64) []hook.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.accounts[clientID]
	if ac == nil {
		return nil
	}
	return ac.memberList()
}

// Alert is the stored state of one alert: its status (delivery.AlertSent,
// ...; "" when there is none) and the RecipientKey of every recipient sent.
type Alert struct {
	Status string
	SentTo map[string]bool
}

// Alert returns the state of the alert of (clientID, loadID, hookID).
func (s *Store) Alert(clientID int64, loadID string, hookID int64) Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.alerts[delivery.Key{ClientID: clientID, LoadID: loadID, HookID: hookID}]
	if a == nil {
		return Alert{SentTo: map[string]bool{}}
	}
	return Alert{Status: a.status, SentTo: maps.Clone(a.sentTo)}
}

// --- Accounts ---

// CreateAccount is store.Store.CreateAccount.
func (s *Store) CreateAccount(_ context.Context, a hook.Account) (hook.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateAccount"); err != nil {
		return hook.Account{}, err
	}
	if s.accounts[a.ClientID] != nil {
		return hook.Account{}, fmt.Errorf("create account %d: %w", a.ClientID, hook.ErrConflict)
	}
	now := s.utcNow()
	a.HookCount, a.CreatedAt, a.ModifiedAt = 0, now, now
	a.AlertEmails = nonNil(slices.Clone(a.AlertEmails))
	a.Destinations = nonNil(slices.Clone(a.Destinations))
	s.accounts[a.ClientID] = &account{a: a, members: map[string]member{}}
	return a, nil
}

// Account is store.Store.Account.
func (s *Store) Account(_ context.Context, clientID int64) (hook.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("Account", clientID, "get account %d")
	if err != nil {
		return hook.Account{}, err
	}
	return ac.view(), nil
}

// AccountWithHooks is store.Store.AccountWithHooks.
func (s *Store) AccountWithHooks(_ context.Context, clientID int64) (hook.Account, []hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("AccountWithHooks", clientID, "read account %d with hooks")
	if err != nil {
		return hook.Account{}, nil, err
	}
	return ac.view(), nonNil(cloneHooks(ac.hooks)), nil
}

// UpdateAccount is store.Store.UpdateAccount.
func (s *Store) UpdateAccount(_ context.Context, clientID int64, u store.AccountUpdate) (hook.Account, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("UpdateAccount", clientID, "update account %d")
	if err != nil {
		return hook.Account{}, 0, err
	}
	if u.Destinations != nil {
		for _, gone := range hook.RemovedDestinations(ac.a.Destinations, *u.Destinations) {
			n := 0
			for _, h := range ac.hooks {
				if h.DestinationID == gone {
					n++
				}
			}
			if n > 0 {
				return hook.Account{}, 0, fmt.Errorf("update account %d: %w", clientID, &hook.DestinationInUseError{DestinationID: gone, Hooks: n})
			}
		}
		ac.a.Destinations = nonNil(slices.Clone(*u.Destinations))
	}
	if u.Plan != nil {
		ac.a.Plan = *u.Plan
	}
	if u.AlertEmails != nil {
		ac.a.AlertEmails = nonNil(slices.Clone(*u.AlertEmails))
	}
	if u.APIAccess != nil {
		ac.a.NoAPIAccess = !*u.APIAccess
	}
	if u.AutoDisable != nil {
		ac.a.NoAutoDisable = !*u.AutoDisable
	}
	now := s.utcNow()
	ac.a.ModifiedAt = now
	disabled := 0
	if u.Plan != nil && !ac.a.HasHooks() {
		for i := range ac.hooks {
			h := &ac.hooks[i]
			if h.Enabled() {
				disabled++
			} else if h.Probe == nil {
				continue // disabled by a member or a plan: left as it is
			}
			// A hook disabled for failing takes the new reason and its
			// probes stop, but it is not counted: it was disabled already.
			setEnabled(h, false, hook.Change{At: now, By: hook.Operator, Action: hook.ActionPlanDowngraded})
		}
	}
	return ac.view(), disabled, nil
}

// view is the account as the store returns it.
func (ac *account) view() hook.Account {
	a := ac.a
	a.HookCount = len(ac.hooks)
	a.AlertEmails = nonNil(slices.Clone(a.AlertEmails))
	a.Destinations = nonNil(slices.Clone(a.Destinations))
	a.FreshnessTables = slices.Clone(a.FreshnessTables)
	return a
}

// --- Hooks ---

// CreateHook is store.Store.CreateHook. As in the store, every call takes
// the next id of the client's sequence, refused or not.
func (s *Store) CreateHook(_ context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateHook"); err != nil {
		return hook.Hook{}, err
	}
	s.nextID[p.ClientID]++
	id := s.nextID[p.ClientID]
	ac := s.accounts[p.ClientID]
	var err error
	switch {
	case ac == nil:
		err = hook.ErrNotFound
	case !ac.a.HasHooks():
		err = hook.ErrNoAccess
	case len(ac.a.Destinations) == 0:
		err = hook.ErrNoDestination
	case !ac.a.HasDestination(destinationID):
		err = hook.ErrInvalidDestination
	case slices.ContainsFunc(ac.hooks, func(h hook.Hook) bool { return h.URL == url }):
		err = hook.ErrDuplicateURL
	case len(ac.hooks) >= hook.MaxHooks:
		err = hook.ErrLimit
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("create hook %d: %w", id, err)
	}
	now := s.utcNow()
	h := hook.Hook{
		ID: id, ClientID: p.ClientID, DestinationID: destinationID, URL: url, Secret: secret,
		CreatedAt: now, ModifiedAt: now,
		Audit: []hook.Change{{At: now, By: auditBy(p), Action: "created"}},
	}
	ac.hooks = append(ac.hooks, h)
	return cloneHook(h), nil
}

// ListHooks is store.Store.ListHooks.
func (s *Store) ListHooks(_ context.Context, clientID int64) ([]hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("ListHooks", clientID, "list hooks: read account %d with hooks")
	if err != nil {
		return nil, err
	}
	return nonNil(cloneHooks(ac.hooks)), nil
}

// SetHookEnabled is store.Store.SetHookEnabled: disabling needs only the
// hook; enabling also needs a plan with hooks and a destination. A hook
// already in the state asked for is returned unchanged.
func (s *Store) SetHookEnabled(_ context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetHookEnabled"); err != nil {
		return hook.Hook{}, err
	}
	verb := "disable"
	if enable {
		verb = "enable"
	}
	h, i := s.hookAt(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("%s hook %d: %w", verb, id, hook.ErrNotFound)
	}
	if enable {
		a := s.accounts[p.ClientID].a
		switch {
		case !a.HasHooks():
			return hook.Hook{}, fmt.Errorf("%s hook %d: %w", verb, id, hook.ErrNoAccess)
		case len(a.Destinations) == 0:
			return hook.Hook{}, fmt.Errorf("%s hook %d: %w", verb, id, hook.ErrNoDestination)
		}
	}
	if h.Enabled() != enable || (!enable && h.Probe != nil) {
		setEnabled(h, enable, hook.Change{At: s.utcNow(), By: auditBy(p), Action: verb + "d"})
		if enable {
			delete(s.counted, hookKey{p.ClientID, id})
		}
	}
	return cloneHook(*h), nil
}

// DeleteHook is store.Store.DeleteHook.
func (s *Store) DeleteHook(_ context.Context, p hook.Principal, id int64) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteHook"); err != nil {
		return hook.Hook{}, err
	}
	h, i := s.hookAt(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("delete hook %d: %w", id, hook.ErrNotFound)
	}
	gone := cloneHook(*h)
	ac := s.accounts[p.ClientID]
	ac.hooks = slices.Delete(ac.hooks, i, i+1)
	return gone, nil
}

// GetHook is store.Store.GetHook.
func (s *Store) GetHook(_ context.Context, clientID, id int64) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("GetHook"); err != nil {
		return hook.Hook{}, err
	}
	h, i := s.hookAt(clientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("get hook %d: %w", id, hook.ErrNotFound)
	}
	return cloneHook(*h), nil
}

// RotateHookSecret is store.Store.RotateHookSecret: the replaced secret
// signs too until overlap from now, on any plan and enabled or not.
func (s *Store) RotateHookSecret(_ context.Context, p hook.Principal, id int64, secret string, overlap time.Duration) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("RotateHookSecret"); err != nil {
		return hook.Hook{}, err
	}
	h, i := s.hookAt(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("rotate secret of hook %d: %w", id, hook.ErrNotFound)
	}
	if h.Secret == secret {
		return cloneHook(*h), nil // a retried rotation, already applied
	}
	now := s.utcNow()
	h.PreviousSecret, h.Secret = h.Secret, secret
	h.PreviousSecretExpiresAt = now.Add(overlap)
	h.ModifiedAt = now
	h.Audit = append(slices.Clone(h.Audit), hook.Change{At: now, By: auditBy(p), Action: hook.ActionSecretRotated})
	return cloneHook(*h), nil
}

// hookAt returns hook id of clientID and its index, -1 when there is none.
// The caller holds s.mu.
func (s *Store) hookAt(clientID, id int64) (*hook.Hook, int) {
	ac := s.accounts[clientID]
	if ac == nil {
		return nil, -1
	}
	i := slices.IndexFunc(ac.hooks, func(h hook.Hook) bool { return h.ID == id })
	if i < 0 {
		return nil, -1
	}
	return &ac.hooks[i], i
}

// setEnabled is a member's or a plan's change of a hook's state: the
// service's probes stop, and enabling starts a clean health record.
func setEnabled(h *hook.Hook, enable bool, c hook.Change) {
	h.DisabledAt, h.Probe = nil, nil
	if enable {
		h.Health.FailingSince, h.Health.Exhausted = time.Time{}, 0
	}
	if !enable {
		at := c.At
		h.DisabledAt = &at
	}
	h.ModifiedAt = c.At
	h.Audit = append(slices.Clone(h.Audit), c)
}

func auditBy(p hook.Principal) string {
	if p.MemberID == "" {
		return hook.Operator
	}
	return p.MemberID
}

// --- Members ---

// CreateMember is store.Store.CreateMember.
func (s *Store) CreateMember(_ context.Context, clientID int64, email string) (hook.Member, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("CreateMember", clientID, "create member of account %d")
	if err != nil {
		return hook.Member{}, "", err
	}
	token := hook.NewToken()
	m := hook.Member{ID: hook.NewMemberID(), ClientID: clientID, Email: email, CreatedAt: s.utcNow()}
	hash := hook.HashToken(token)
	ac.members[m.ID] = member{m: m, tokenHash: hash}
	s.tokens[hash] = hook.Principal{ClientID: clientID, MemberID: m.ID}
	return m, token, nil
}

// DeleteMember is store.Store.DeleteMember: the member's token stops
// working.
func (s *Store) DeleteMember(_ context.Context, clientID int64, memberID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteMember"); err != nil {
		return err
	}
	ac := s.accounts[clientID]
	if ac == nil {
		return fmt.Errorf("delete member: %w", hook.ErrNotFound)
	}
	m, ok := ac.members[memberID]
	if !ok {
		return fmt.Errorf("delete member: %w", hook.ErrNotFound)
	}
	delete(ac.members, memberID)
	delete(s.tokens, m.tokenHash)
	return nil
}

// ListMembers is store.Store.ListMembers: member id ascending.
func (s *Store) ListMembers(_ context.Context, clientID int64) ([]hook.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, err := s.enterAccount("ListMembers", clientID, "list members: get account %d")
	if err != nil {
		return nil, err
	}
	return ac.memberList(), nil
}

// memberList is the account's members, id ascending.
func (ac *account) memberList() []hook.Member {
	ms := make([]hook.Member, 0, len(ac.members))
	for _, m := range ac.members {
		ms = append(ms, m.m)
	}
	slices.SortFunc(ms, func(x, y hook.Member) int { return cmp.Compare(x.ID, y.ID) })
	return ms
}

// Authenticate is store.Store.Authenticate.
func (s *Store) Authenticate(_ context.Context, token string) (hook.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("Authenticate"); err != nil {
		return hook.Principal{}, err
	}
	p, ok := s.tokens[hook.HashToken(token)]
	if token == "" || !ok {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", hook.ErrUnauthorized)
	}
	return p, nil
}

// --- Alerts ---

// ClaimAlert is store.Store.ClaimAlert, deciding with
// delivery.CanClaimAlert.
func (s *Store) ClaimAlert(_ context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (store.AlertClaim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ClaimAlert"); err != nil {
		return store.AlertClaim{}, err
	}
	k := delivery.Key{ClientID: clientID, LoadID: loadID, HookID: hookID}
	a := s.alerts[k]
	if a == nil {
		a = &alertItem{sentTo: map[string]bool{}}
	}
	now := s.now()
	if !delivery.CanClaimAlert(a.status, a.leaseUntil, now) {
		if a.status == delivery.AlertSent {
			return store.AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: %w", clientID, loadID, hookID, store.ErrAlertSent)
		}
		return store.AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: %w", clientID, loadID, hookID, store.ErrAlertBusy)
	}
	s.alerts[k] = a
	a.status, a.claim, a.leaseUntil = delivery.AlertSending, rand.Text(), time.UnixMilli(now.Add(lease).UnixMilli())
	return store.AlertClaim{ClientID: clientID, LoadID: loadID, HookID: hookID, SentTo: maps.Clone(a.sentTo), Token: a.claim}, nil
}

// AlertSentTo is store.Store.AlertSentTo.
func (s *Store) AlertSentTo(_ context.Context, c *store.AlertClaim, recipient string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AlertSentTo"); err != nil {
		return err
	}
	a, err := s.claimed(*c, "")
	if err != nil {
		return fmt.Errorf("record alert recipient: %w", err)
	}
	k := store.RecipientKey(recipient)
	a.sentTo[k] = true
	c.SentTo[k] = true
	return nil
}

// FinishAlert is store.Store.FinishAlert.
func (s *Store) FinishAlert(_ context.Context, c store.AlertClaim) error {
	return s.endAlert("FinishAlert", "finish alert", c, delivery.AlertSent)
}

// ReleaseAlert is store.Store.ReleaseAlert.
func (s *Store) ReleaseAlert(_ context.Context, c store.AlertClaim) error {
	return s.endAlert("ReleaseAlert", "release alert", c, delivery.AlertFailed)
}

// endAlert ends c's claim, leaving status.
func (s *Store) endAlert(method, what string, c store.AlertClaim, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(method); err != nil {
		return err
	}
	a, err := s.claimed(c, status)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if a != nil {
		a.status, a.claim, a.leaseUntil, a.endedBy = status, "", time.Time{}, c.Token
	}
	return nil
}

// claimed returns the alert item that c holds. It returns nil and no error
// when c itself already ended it with status ends (a retried end), and
// store.ErrAlertClaimLost when c does not hold it. The caller holds s.mu.
func (s *Store) claimed(c store.AlertClaim, ends string) (*alertItem, error) {
	a := s.alerts[delivery.Key{ClientID: c.ClientID, LoadID: c.LoadID, HookID: c.HookID}]
	switch {
	case c.Token != "" && a != nil && a.status == delivery.AlertSending && a.claim == c.Token:
		return a, nil
	case c.Token != "" && a != nil && ends != "" && a.status == ends && a.endedBy == c.Token:
		return nil, nil
	}
	return nil, fmt.Errorf("alert %d/%s/%d: %w", c.ClientID, c.LoadID, c.HookID, store.ErrAlertClaimLost)
}

// --- Copies, so no caller shares the store's memory ---

func cloneHook(h hook.Hook) hook.Hook {
	h.Audit = slices.Clone(h.Audit)
	h.Filter, h.EventTypes = h.Filter.Clone(), slices.Clone(h.EventTypes)
	if h.DisabledAt != nil {
		at := *h.DisabledAt
		h.DisabledAt = &at
	}
	if h.Probe != nil {
		p := *h.Probe
		h.Probe = &p
	}
	return h
}

func cloneHooks(hs []hook.Hook) []hook.Hook {
	if hs == nil {
		return nil
	}
	out := make([]hook.Hook, len(hs))
	for i, h := range hs {
		out[i] = cloneHook(h)
	}
	return out
}

func cloneRecord(r delivery.Record) delivery.Record {
	r.Attempts = slices.Clone(r.Attempts)
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
