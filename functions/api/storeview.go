package main

import (
	"context"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
)

// dynamoStore is the API's storage in production: the methods of storage,
// each calling the same method of the DynamoDB-backed store, and nothing
// more.
//
// It exists for the bootstrap's size. html/template calls reflect's
// MethodByName with names known only at run time, so the linker keeps
// every exported method of every type that can reach an interface value,
// through struct fields too. Were *store.Store itself the storage, all of
// the store's methods (the dispatcher's and the alerter's with them, and
// their DynamoDB requests) would stay in the api. storeHandle has the
// store's fields and none of its methods, so only the methods below are
// kept: 30 of the store's 66 exported methods instead of all 66, 0.25 MiB
// of the stripped arm64 bootstrap (12386466 to 12124322 bytes on
// 2026-12-03). The integration tests serve the routes through it.
type dynamoStore struct{ st *storeHandle }

// storeHandle is store.Store without its methods; see dynamoStore.
type storeHandle store.Store

func newDynamoStore(st *store.Store) dynamoStore { return dynamoStore{st: (*storeHandle)(st)} }

func (d dynamoStore) store() *store.Store { return (*store.Store)(d.st) }

func (d dynamoStore) Account(ctx context.Context, clientID int64) (hook.Account, error) {
	return d.store().Account(ctx, clientID)
}

func (d dynamoStore) Authenticate(ctx context.Context, token string) (hook.Principal, error) {
	return d.store().Authenticate(ctx, token)
}

func (d dynamoStore) BindSession(ctx context.Context, sess signin.Session, p hook.Principal) (signin.Session, error) {
	return d.store().BindSession(ctx, sess, p)
}

func (d dynamoStore) CreateAccount(ctx context.Context, a hook.Account) (hook.Account, error) {
	return d.store().CreateAccount(ctx, a)
}

func (d dynamoStore) CreateHook(ctx context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error) {
	return d.store().CreateHook(ctx, p, destinationID, url, secret)
}

func (d dynamoStore) CreateMember(ctx context.Context, clientID int64, email string) (hook.Member, string, error) {
	return d.store().CreateMember(ctx, clientID, email)
}

func (d dynamoStore) CreateSession(ctx context.Context, emailKey string, p hook.Principal) (string, signin.Session, error) {
	return d.store().CreateSession(ctx, emailKey, p)
}

func (d dynamoStore) CreateSignInLink(ctx context.Context, email string, ttl time.Duration) (string, error) {
	return d.store().CreateSignInLink(ctx, email, ttl)
}

func (d dynamoStore) DeleteHook(ctx context.Context, p hook.Principal, id int64) (hook.Hook, error) {
	return d.store().DeleteHook(ctx, p, id)
}

func (d dynamoStore) DeleteMember(ctx context.Context, clientID int64, memberID string) error {
	return d.store().DeleteMember(ctx, clientID, memberID)
}

func (d dynamoStore) DeleteSession(ctx context.Context, id string) error {
	return d.store().DeleteSession(ctx, id)
}

func (d dynamoStore) ExhaustedDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error) {
	return d.store().ExhaustedDeliveries(ctx, clientID, hookID, since, until, max)
}

func (d dynamoStore) FreshnessRules(ctx context.Context, clientID int64) ([]hook.FreshnessRule, error) {
	return d.store().FreshnessRules(ctx, clientID)
}

func (d dynamoStore) GetDelivery(ctx context.Context, k delivery.Key) (delivery.Delivery, error) {
	return d.store().GetDelivery(ctx, k)
}

func (d dynamoStore) GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error) {
	return d.store().GetHook(ctx, clientID, id)
}

func (d dynamoStore) ListDeliveries(ctx context.Context, q delivery.ListQuery) (delivery.Page, error) {
	return d.store().ListDeliveries(ctx, q)
}

func (d dynamoStore) ListHooks(ctx context.Context, clientID int64) ([]hook.Hook, error) {
	return d.store().ListHooks(ctx, clientID)
}

func (d dynamoStore) ListMembers(ctx context.Context, clientID int64) ([]hook.Member, error) {
	return d.store().ListMembers(ctx, clientID)
}

func (d dynamoStore) Memberships(ctx context.Context, emailKey string) ([]hook.Principal, error) {
	return d.store().Memberships(ctx, emailKey)
}

func (d dynamoStore) PutFreshnessRules(ctx context.Context, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error) {
	return d.store().PutFreshnessRules(ctx, p, rules)
}

func (d dynamoStore) RecordTest(ctx context.Context, k delivery.Key, body []byte, a delivery.Attempt) error {
	return d.store().RecordTest(ctx, k, body, a)
}

func (d dynamoStore) Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error) {
	return d.store().Resend(ctx, k)
}

func (d dynamoStore) RotateHookSecret(ctx context.Context, p hook.Principal, id int64, secret string, overlap time.Duration) (hook.Hook, error) {
	return d.store().RotateHookSecret(ctx, p, id, secret, overlap)
}

func (d dynamoStore) Session(ctx context.Context, id string) (signin.Session, error) {
	return d.store().Session(ctx, id)
}

func (d dynamoStore) SetHookEnabled(ctx context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error) {
	return d.store().SetHookEnabled(ctx, p, id, enable)
}

func (d dynamoStore) SetHookSubscription(ctx context.Context, p hook.Principal, id int64, u hook.SubscriptionUpdate) (hook.Hook, error) {
	return d.store().SetHookSubscription(ctx, p, id, u)
}

func (d dynamoStore) SetMaxInFlight(ctx context.Context, clientID, hookID int64, n int) (hook.Hook, error) {
	return d.store().SetMaxInFlight(ctx, clientID, hookID, n)
}

func (d dynamoStore) UndoResend(ctx context.Context, k delivery.Key, ended delivery.Ended) error {
	return d.store().UndoResend(ctx, k, ended)
}

func (d dynamoStore) Unsubscribe(ctx context.Context, t optout.Token) (bool, error) {
	return d.store().Unsubscribe(ctx, t)
}

func (d dynamoStore) UpdateAccount(ctx context.Context, clientID int64, u store.AccountUpdate) (hook.Account, int, error) {
	return d.store().UpdateAccount(ctx, clientID, u)
}

func (d dynamoStore) UseSignInLink(ctx context.Context, token string) (string, error) {
	return d.store().UseSignInLink(ctx, token)
}
