package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// seeder writes a seed step's data into the run's table.
type seeder struct {
	store     *store.Store
	clientID  int64
	eventsDir string // where the seed's events are
	receiver  *receiver
	member    hook.Principal // set by the member seed
	// storeAt is the run's store on the clock now (for seeds made in the
	// past).
	storeAt func(now func() time.Time) *store.Store
}

// apply writes s: member, hooks, deliveries, deleted hooks, hook sequence,
// in that order.
func (sd *seeder) apply(ctx context.Context, s seed) error {
	if m := s.Member; m != nil {
		if err := sd.putMember(ctx, *m); err != nil {
			return err
		}
		sd.member = hook.Principal{ClientID: sd.clientID, MemberID: m.MemberID}
	}
	for _, h := range s.Hooks {
		url := strings.ReplaceAll(h.URL, "{{receiver}}", sd.receiver.url())
		got, err := sd.store.CreateHook(ctx, sd.member, h.DestinationID, url, h.Secret)
		if err != nil {
			return fmt.Errorf("seed hook %d: %w", h.ID, err)
		}
		if got.ID != h.ID {
			return fmt.Errorf("seed hook: got id %d, want %d (seed the hooks in id order on a fresh account)", got.ID, h.ID)
		}
		sd.receiver.expectSecret(url, h.Secret)
	}
	for _, d := range s.Deliveries {
		if err := sd.failFirstAttempt(ctx, d); err != nil {
			return err
		}
	}
	for _, id := range s.DeleteHooks {
		if _, err := sd.store.DeleteHook(ctx, sd.member, id); err != nil {
			return fmt.Errorf("seed: delete hook %d: %w", id, err)
		}
	}
	if n := s.HookSequence; n != nil {
		if err := sd.advanceHookSequence(ctx, *n); err != nil {
			return err
		}
	}
	if len(s.FreshnessRules) > 0 {
		if err := sd.putFreshnessRules(ctx, s.FreshnessRules); err != nil {
			return err
		}
	}
	return nil
}

// putFreshnessRules stores the rules as made created_ago before now (the
// longest created_ago of them: one write makes them all).
func (sd *seeder) putFreshnessRules(ctx context.Context, seeds []seedRule) error {
	var rules []hook.FreshnessRule
	var ago time.Duration
	for _, r := range seeds {
		d, _ := time.ParseDuration(r.MaxInterval)
		a, _ := time.ParseDuration(r.CreatedAgo)
		ago = max(ago, a)
		rules = append(rules, hook.FreshnessRule{IntegrationName: r.IntegrationName, Table: r.Table, MaxInterval: r.MaxInterval, Interval: d})
	}
	past := sd.storeAt(func() time.Time { return time.Now().Add(-ago) })
	if _, err := past.PutFreshnessRules(ctx, hook.Principal{ClientID: sd.clientID, MemberID: "check-events"}, rules); err != nil {
		return fmt.Errorf("seed freshness rules: %w", err)
	}
	return nil
}

// putMember adds the seed's member with its fixed token (the one the
// sample events carry) through the store, which keeps only its hash.
func (sd *seeder) putMember(ctx context.Context, m seedMember) error {
	member := hook.Member{ID: m.MemberID, ClientID: sd.clientID, Email: m.Email}
	if err := sd.store.ImportMember(ctx, member, m.Token); err != nil {
		return fmt.Errorf("seed member: %w", err)
	}
	return nil
}

// advanceHookSequence makes n the account's last hook id, as if the member
// had created (and deleted) hooks up to n, so the next create gets n+1: it
// creates and deletes placeholder hooks through the store until the
// sequence reaches n.
func (sd *seeder) advanceHookSequence(ctx context.Context, n int64) error {
	acct, err := sd.store.Account(ctx, sd.clientID)
	if err != nil {
		return fmt.Errorf("seed hook sequence: %w", err)
	}
	if len(acct.Destinations) == 0 {
		return fmt.Errorf("seed hook sequence: account %d has no destination", sd.clientID)
	}
	for i := 0; ; i++ {
		h, err := sd.store.CreateHook(ctx, sd.member, acct.Destinations[0].ID, fmt.Sprintf("https://placeholder.example.com/sequence/%d", i), hook.NewSecret())
		if err != nil {
			return fmt.Errorf("seed hook sequence: %w", err)
		}
		if _, err := sd.store.DeleteHook(ctx, sd.member, h.ID); err != nil {
			return fmt.Errorf("seed hook sequence: %w", err)
		}
		switch {
		case h.ID == n:
			return nil
		case h.ID > n:
			return fmt.Errorf("seed hook sequence: the account's hook ids are already past %d (at %d)", n, h.ID)
		}
	}
}

// failFirstAttempt records attempt 1 of a (load, hook) pair as failed with
// HTTP 503, through the dispatcher's own store calls, so attempt 2 is due
// (or, when d.Status is exhausted, none is). The load's body is the one d's
// retry event carries; d.WebhookID must be the pair's.
func (sd *seeder) failFirstAttempt(ctx context.Context, d seedDelivery) error {
	raw, err := os.ReadFile(filepath.Join(sd.eventsDir, d.Event))
	if err != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) == 0 {
		return fmt.Errorf("seed delivery %s: %s is not an SQS event with a record", d.LoadID, d.Event)
	}
	m, err := delivery.DecodeRetry([]byte(ev.Records[0].Body))
	if err != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, err)
	}
	if delivery.BodyDigest(m.Body) != d.BodyDigest {
		return fmt.Errorf("seed delivery %s: %s carries another body", d.LoadID, d.Event)
	}
	if d.WebhookID != hook.WebhookID(sd.clientID, d.LoadID, d.HookID) {
		return fmt.Errorf("seed delivery %s: webhook_id %s is not the pair's", d.LoadID, d.WebhookID)
	}
	integration, tables := delivery.Names(m.Body)
	l := delivery.Load{ClientID: sd.clientID, LoadID: d.LoadID, IntegrationName: integration, Tables: tables, Body: m.Body}
	claims, _, err := sd.store.ClaimLoad(ctx, l, []int64{d.HookID}, rand.Text(), time.Minute)
	if err != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, err)
	}
	if len(claims) != 1 {
		return fmt.Errorf("seed delivery %s: attempt 1 already claimed", d.LoadID)
	}
	a := delivery.Attempt{At: time.Now().UTC(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503, LatencyMs: 12}
	status := delivery.StatusWaiting
	if d.Status != "" {
		status = d.Status
	}
	if _, errs := sd.store.RecordResults(ctx, []delivery.Result{{Claim: claims[0], Attempt: a, Status: status}}); errs[0] != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, errs[0])
	}
	return nil
}
