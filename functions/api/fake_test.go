package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// fakeStore is an in-memory storage with the documented semantics of
// *store.Store (errors, precedence of create failures, downgrade disabling
// hooks, no-op enable/disable). fail, when set, is returned by every call.
type fakeStore struct {
	mu       sync.Mutex
	now      func() time.Time
	accounts map[int64]hook.Account
	hooks    map[int64][]hook.Hook // by client, id ascending
	nextID   map[int64]int64
	tokens   map[string]hook.Principal
	members  map[int64]map[string]hook.Member
	fail     error
	calls    int
	web      fakeWeb // sign-in state (fake_web_test.go)
}

var _ storage = (*fakeStore)(nil)
var _ storage = (*store.Store)(nil)

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{
		now:      now,
		accounts: map[int64]hook.Account{},
		hooks:    map[int64][]hook.Hook{},
		nextID:   map[int64]int64{},
		tokens:   map[string]hook.Principal{},
		members:  map[int64]map[string]hook.Member{},
	}
}

// testDest is the destination seedAccount gives every account and seedHook
// every hook.
const testDest = 12345

// seedAccount adds an account with destination testDest and one member
// holding token.
func (f *fakeStore) seedAccount(clientID int64, plan, memberID, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now().UTC()
	f.accounts[clientID] = hook.Account{
		ClientID: clientID, Plan: plan, AlertEmails: []string{},
		Destinations: []hook.Destination{{ID: testDest, Type: "s3"}}, CreatedAt: now, ModifiedAt: now,
	}
	f.members[clientID] = map[string]hook.Member{memberID: {ID: memberID, ClientID: clientID, Email: memberID + "@example.com", CreatedAt: now}}
	f.tokens[token] = hook.Principal{ClientID: clientID, MemberID: memberID}
}

// seedHook adds a hook directly, whatever the plan and limit.
func (f *fakeStore) seedHook(clientID int64, url string, disabled bool) hook.Hook {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now().UTC()
	f.nextID[clientID]++
	h := hook.Hook{ID: f.nextID[clientID], ClientID: clientID, DestinationID: testDest, URL: url, Secret: hook.NewSecret(), CreatedAt: now, ModifiedAt: now}
	if disabled {
		h.DisabledAt = &now
	}
	f.hooks[clientID] = append(f.hooks[clientID], h)
	a := f.accounts[clientID]
	a.HookCount++
	f.accounts[clientID] = a
	return h
}

func (f *fakeStore) hook(clientID, id int64) (hook.Hook, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.hookIndex(clientID, id)
	if i < 0 {
		return hook.Hook{}, false
	}
	return f.hooks[clientID][i], true
}

// enter counts a call and returns the injected failure, if any. The caller
// holds f.mu.
func (f *fakeStore) enter() error {
	f.calls++
	return f.fail
}

// enterAccount is enter, then hook.ErrNotFound unless the account exists.
func (f *fakeStore) enterAccount(clientID int64) error {
	if err := f.enter(); err != nil {
		return err
	}
	if _, ok := f.accounts[clientID]; !ok {
		return hook.ErrNotFound
	}
	return nil
}

func (f *fakeStore) hookIndex(clientID, id int64) int {
	return slices.IndexFunc(f.hooks[clientID], func(h hook.Hook) bool { return h.ID == id })
}

func by(p hook.Principal) string {
	if p.MemberID == "" {
		return hook.Operator
	}
	return p.MemberID
}

func (f *fakeStore) Authenticate(_ context.Context, token string) (hook.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Principal{}, err
	}
	p, ok := f.tokens[token]
	if !ok {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", hook.ErrUnauthorized)
	}
	return p, nil
}

func (f *fakeStore) CreateHook(_ context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Hook{}, err
	}
	a, ok := f.accounts[p.ClientID]
	switch {
	case !ok:
		return hook.Hook{}, hook.ErrNotFound
	case !a.HasHooks():
		return hook.Hook{}, hook.ErrNoAccess
	case len(a.Destinations) == 0:
		return hook.Hook{}, hook.ErrNoDestination
	case !a.HasDestination(destinationID):
		return hook.Hook{}, hook.ErrInvalidDestination
	case slices.ContainsFunc(f.hooks[p.ClientID], func(h hook.Hook) bool { return h.URL == url }):
		return hook.Hook{}, hook.ErrDuplicateURL
	case a.HookCount >= hook.MaxHooks:
		return hook.Hook{}, hook.ErrLimit
	}
	now := f.now().UTC()
	f.nextID[p.ClientID]++
	h := hook.Hook{
		ID: f.nextID[p.ClientID], ClientID: p.ClientID, DestinationID: destinationID, URL: url, Secret: secret, CreatedAt: now, ModifiedAt: now,
		Audit: []hook.Change{{At: now, By: by(p), Action: "created"}},
	}
	f.hooks[p.ClientID] = append(f.hooks[p.ClientID], h)
	a.HookCount++
	f.accounts[p.ClientID] = a
	return h, nil
}

func (f *fakeStore) ListHooks(_ context.Context, clientID int64) ([]hook.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enterAccount(clientID); err != nil {
		return nil, err
	}
	return slices.Clone(f.hooks[clientID]), nil
}

func (f *fakeStore) SetHookEnabled(_ context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Hook{}, err
	}
	i := f.hookIndex(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("set hook %d: %w", id, hook.ErrNotFound)
	}
	if enable && !f.accounts[p.ClientID].HasHooks() {
		return hook.Hook{}, fmt.Errorf("enable hook %d: %w", id, hook.ErrNoAccess)
	}
	if enable && len(f.accounts[p.ClientID].Destinations) == 0 {
		return hook.Hook{}, fmt.Errorf("enable hook %d: %w", id, hook.ErrNoDestination)
	}
	h := &f.hooks[p.ClientID][i]
	if enable == h.Enabled() {
		return *h, nil
	}
	now := f.now().UTC()
	action := "enabled"
	h.DisabledAt = nil
	if !enable {
		action = "disabled"
		h.DisabledAt = &now
	}
	h.ModifiedAt = now
	h.Audit = append(h.Audit, hook.Change{At: now, By: by(p), Action: action})
	return *h, nil
}

func (f *fakeStore) DeleteHook(_ context.Context, p hook.Principal, id int64) (hook.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Hook{}, err
	}
	i := f.hookIndex(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("delete hook %d: %w", id, hook.ErrNotFound)
	}
	h := f.hooks[p.ClientID][i]
	f.hooks[p.ClientID] = slices.Delete(f.hooks[p.ClientID], i, i+1)
	a := f.accounts[p.ClientID]
	a.HookCount--
	f.accounts[p.ClientID] = a
	return h, nil
}

func (f *fakeStore) CreateAccount(_ context.Context, a hook.Account) (hook.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Account{}, err
	}
	if _, ok := f.accounts[a.ClientID]; ok {
		return hook.Account{}, hook.ErrConflict
	}
	now := f.now().UTC()
	a.HookCount, a.CreatedAt, a.ModifiedAt = 0, now, now
	if a.AlertEmails == nil {
		a.AlertEmails = []string{}
	}
	if a.Destinations == nil {
		a.Destinations = []hook.Destination{}
	}
	f.accounts[a.ClientID] = a
	return a, nil
}

func (f *fakeStore) Account(_ context.Context, clientID int64) (hook.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Account{}, err
	}
	a, ok := f.accounts[clientID]
	if !ok {
		return hook.Account{}, hook.ErrNotFound
	}
	return a, nil
}

func (f *fakeStore) UpdateAccount(_ context.Context, clientID int64, u store.AccountUpdate) (hook.Account, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Account{}, 0, err
	}
	a, ok := f.accounts[clientID]
	if !ok {
		return hook.Account{}, 0, hook.ErrNotFound
	}
	if u.Destinations != nil {
		for _, gone := range hook.RemovedDestinations(a.Destinations, *u.Destinations) {
			n := 0
			for _, h := range f.hooks[clientID] {
				if h.DestinationID == gone {
					n++
				}
			}
			if n > 0 {
				return hook.Account{}, 0, &hook.DestinationInUseError{DestinationID: gone, Hooks: n}
			}
		}
		a.Destinations = slices.Clone(*u.Destinations)
	}
	now := f.now().UTC()
	if u.Plan != nil {
		a.Plan = *u.Plan
	}
	if u.AlertEmails != nil {
		a.AlertEmails = slices.Clone(*u.AlertEmails)
	}
	if u.APIAccess != nil {
		a.NoAPIAccess = !*u.APIAccess
	}
	a.ModifiedAt = now
	f.accounts[clientID] = a
	disabled := 0
	if u.Plan != nil && !a.HasHooks() {
		for i := range f.hooks[clientID] {
			h := &f.hooks[clientID][i]
			if h.Enabled() {
				h.DisabledAt, h.ModifiedAt = &now, now
				h.Audit = append(h.Audit, hook.Change{At: now, By: hook.Operator, Action: "plan_downgraded"})
				disabled++
			}
		}
	}
	return a, disabled, nil
}

func (f *fakeStore) ListMembers(_ context.Context, clientID int64) ([]hook.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enterAccount(clientID); err != nil {
		return nil, err
	}
	ms := make([]hook.Member, 0, len(f.members[clientID]))
	for _, m := range f.members[clientID] {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y hook.Member) int { return strings.Compare(x.ID, y.ID) })
	return ms, nil
}

func (f *fakeStore) CreateMember(_ context.Context, clientID int64, email string) (hook.Member, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return hook.Member{}, "", err
	}
	if _, ok := f.accounts[clientID]; !ok {
		return hook.Member{}, "", hook.ErrNotFound
	}
	m := hook.Member{ID: hook.NewMemberID(), ClientID: clientID, Email: email, CreatedAt: f.now().UTC()}
	token := hook.NewToken()
	if f.members[clientID] == nil {
		f.members[clientID] = map[string]hook.Member{}
	}
	f.members[clientID][m.ID] = m
	f.tokens[token] = hook.Principal{ClientID: clientID, MemberID: m.ID}
	return m, token, nil
}

func (f *fakeStore) DeleteMember(_ context.Context, clientID int64, memberID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return err
	}
	if _, ok := f.members[clientID][memberID]; !ok {
		return hook.ErrNotFound
	}
	delete(f.members[clientID], memberID)
	for tok, p := range f.tokens {
		if p.ClientID == clientID && p.MemberID == memberID {
			delete(f.tokens, tok)
		}
	}
	return nil
}
