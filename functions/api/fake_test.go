package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/webhook"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// The API's unit tests run on the in-memory store of package memstore, held
// to the store's contract by the store's conformance suite; the integration
// tests run on DynamoDB Local.

var _ storage = (*memstore.Store)(nil)
var _ storage = (*store.Store)(nil)

// testStore is the in-memory store with the seeding the tests use, on the
// clock now (which a test may replace). Fail("", err) makes every call
// fail; Calls("") counts them all.
type testStore struct {
	*memstore.Store
	now func() time.Time
}

func newTestStore(now func() time.Time) *testStore {
	s := &testStore{now: now}
	s.Store = memstore.New(func() time.Time { return s.now() })
	return s
}

// testDest is the destination seedAccount gives every account and seedHook
// every hook.
const testDest = 12345

// seedAccount adds an account with destination testDest and one member
// holding token.
func (s *testStore) seedAccount(clientID int64, plan, memberID, token string) {
	now := s.now().UTC()
	s.PutAccount(hook.Account{
		ClientID: clientID, Plan: plan, AlertEmails: []string{},
		Destinations: []hook.Destination{{ID: testDest, Type: "s3"}}, CreatedAt: now, ModifiedAt: now,
	})
	s.PutMember(hook.Member{ID: memberID, ClientID: clientID, Email: memberID + "@example.com", CreatedAt: now}, token)
}

// seedHook adds a hook directly, whatever the plan and limit, with the
// account's next id.
func (s *testStore) seedHook(clientID int64, url string, disabled bool) hook.Hook {
	return s.seedHookID(clientID, 0, url, disabled)
}

// seedHookID is seedHook with the hook's id (0: the account's next).
func (s *testStore) seedHookID(clientID, id int64, url string, disabled bool) hook.Hook {
	now := s.now().UTC()
	h := hook.Hook{ID: id, ClientID: clientID, DestinationID: testDest, URL: url, Secret: hook.NewSecret(), CreatedAt: now, ModifiedAt: now}
	if disabled {
		h.DisabledAt = &now
	}
	return s.PutHook(h)
}

// hook returns hook id of clientID as stored.
func (s *testStore) hook(clientID, id int64) (hook.Hook, bool) { return s.Hook(clientID, id) }

// account returns the account clientID as stored.
func (s *testStore) account(clientID int64) hook.Account {
	a, _ := s.StoredAccount(clientID)
	return a
}

// fakeSender records the webhook requests of test notifications and
// answers each with attempt (its At set to testNow), by default a 204.
type fakeSender struct {
	mu       sync.Mutex
	requests []webhook.Request
	attempt  delivery.Attempt
}

func (f *fakeSender) Deliver(_ context.Context, r webhook.Request) delivery.Attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	a := f.attempt
	if a.Outcome == "" {
		a = delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: http.StatusNoContent, LatencyMs: 5}
	}
	a.At = testNow
	return a
}

func (f *fakeSender) sent() []webhook.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}
