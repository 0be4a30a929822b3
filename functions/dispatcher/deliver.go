package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Deliveries of one record: claim in the load's delivery record, one HTTP
// attempt per claimed hook (concurrently), record the results, and say what
// must be queued next.

// outcome is what a record's deliveries leave: the messages to queue, and
// whether the record must fail or be dead-lettered.
type outcome struct {
	msgs       []outgoing
	failed     bool
	deadLetter string // why the record goes to the dead-letter queue
}

// pair is one attempt of one (load, hook) pair.
type pair struct {
	messageID    string
	key          delivery.Key
	n            int   // attempt number
	seq          int64 // the load's webhook-sequence
	body         []byte
	digest       string
	notification *notify.Notification // for the alert
	event        string               // the body's event type (webhook-event); "" for a table load
	retry        bool                 // asked for by a retry message
	hook         *hook.Hook           // the hook as read now (the invocation's, not to be changed); zero if it no longer exists
	// active: the hook exists and is enabled and the plan has the feature.
	// A retry for an inactive pair is cancelled quietly after its claim.
	active bool
}

func (p *pair) webhookID() string { return hook.WebhookID(p.key.ClientID, p.key.LoadID, p.key.HookID) }

// deliverLoad delivers a load message to every enabled hook of its
// destination (every enabled hook when it names none). Only the message's
// own client's hooks are ever considered (see readAccount), and a load for
// an account whose plan lacks the feature sends nothing.
func (h *handler) deliverLoad(ctx context.Context, inv *invocation, slot *arrival, msgID string, w work, st accountState, seat *seat) outcome {
	m := w.load
	switch {
	case st.err != nil:
		h.skip(ctx, msgID, m.ClientID, m.LoadID, skipUnknownClient)
		return outcome{}
	case !st.account.HasHooks():
		h.skip(ctx, msgID, m.ClientID, m.LoadID, skipNoFeature)
		return outcome{}
	case m.DestinationID != 0 && !st.account.HasDestination(m.DestinationID):
		h.skip(ctx, msgID, m.ClientID, m.LoadID, skipUnknownDestination)
		return outcome{}
	}
	if !h.recordFreshness(ctx, inv, msgID, m, st.account) {
		return outcome{failed: true}
	}
	pairs := make(map[int64]*pair, len(st.hooks))
	all := make([]pair, 0, len(st.hooks)) // the record's pairs, in one allocation
	ids := make([]int64, 0, len(st.hooks))
	var skipped []int64
	for i := range st.hooks {
		hk := &st.hooks[i]
		if !hk.SendsLoadsOf(m.DestinationID) || !hk.Wants(m.Notification.IntegrationName, m.Notification.DestinationRootTableName) {
			continue
		}
		if hk.DisabledReason() == hook.DisabledForFailing {
			skipped = append(skipped, hk.ID) // kept, not sent (health.go)
		}
		if !hk.Enabled() {
			continue
		}
		ids = append(ids, hk.ID)
		all = append(all, pair{messageID: msgID, key: delivery.Key{ClientID: m.ClientID, LoadID: m.LoadID, HookID: hk.ID},
			n: 1, body: m.Body, digest: w.digest, notification: m.Notification, hook: hk, active: true})
		pairs[hk.ID] = &all[len(all)-1] // all never grows past its capacity: the pointer stays
	}
	load := delivery.Load{ClientID: m.ClientID, LoadID: m.LoadID, IntegrationName: m.Notification.IntegrationName,
		Tables: m.Notification.TableNames(), Body: m.Body}
	if !h.keepSkipped(ctx, msgID, load, skipped) {
		return outcome{failed: true}
	}
	if len(ids) == 0 {
		h.skip(ctx, msgID, m.ClientID, m.LoadID, skipNoEnabledHooks)
		return outcome{}
	}
	claims, out := h.claimPairs(ctx, slot, msgID, load, ids, pairs)
	if out.failed {
		return out
	}
	if len(claims) == 0 {
		seat.leave(ctx) // nothing sent now: a deferred pair asks for the number when it is sent
	}
	if len(claims) > 0 {
		seq, ok := h.sequence(ctx, msgID, seat, m.Notification, m.ClientID, m.LoadID, claims[0].Sequence)
		if !ok {
			// The claims run out with their lease; the redelivery takes
			// them over and asks for the same number.
			out.failed = true
			return out
		}
		for i := range claims {
			claims[i].Sequence = seq
		}
	}
	cs := make([]*pair, len(claims))
	for i, c := range claims {
		cs[i] = pairs[c.HookID]
		cs[i].seq = c.Sequence
	}
	out.add(h.attempt(ctx, inv, claims, cs))
	return out
}

// claimPairs takes an in-flight slot for each of the record's pairs (ids,
// in pairs), claims attempt 1 of those that got one in the record's one
// write and leaves the others waiting for it, and returns the claims, with
// what the others lead to: a deferral message each, the conflicts' own
// outcome. A failed slot or claim write fails the record.
func (h *handler) claimPairs(ctx context.Context, slot *arrival, msgID string, l delivery.Load, ids []int64, pairs map[int64]*pair) ([]delivery.Claim, outcome) {
	hooks := make([]*hook.Hook, len(ids))
	for i, id := range ids {
		hooks[i] = pairs[id].hook
	}
	got, err := slot.take(ctx, l.ClientID, hooks)
	if err != nil {
		return nil, outcome{failed: true}
	}
	claimIDs := make([]int64, 0, len(ids)) // nearly always every pair
	var deferIDs []int64
	for _, id := range ids {
		if got[id] {
			claimIDs = append(claimIDs, id)
		} else {
			deferIDs = append(deferIDs, id)
		}
	}
	claims, deferred, conflicts, err := h.deliveries.ClaimLoadDeferring(ctx, l, claimIDs, deferIDs, delivery.NewToken(), h.cfg.AttemptTimeout+leaseMargin)
	if err != nil {
		h.log.ErrorContext(ctx, "claim failed", "messageId", msgID, "clientId", l.ClientID, "loadId", l.LoadID, "error", err.Error())
		return nil, outcome{failed: true}
	}
	var out outcome
	for _, id := range ids {
		if cur, ok := conflicts[id]; ok {
			out.add(h.onConflict(ctx, pairs[id], cur))
		}
	}
	for _, id := range deferred {
		out.msgs = append(out.msgs, h.deferOut(ctx, pairs[id]))
	}
	return claims, out
}

// recordFreshness records a successful load of a table that has a
// freshness rule (the account read says which do: no other read, and no
// write at all for a table without a rule), once per table per invocation
// however many of the batch's loads are of it. It reports false when the
// write failed: the record fails, and its redelivery records the load and
// skips the deliveries already made.
func (h *handler) recordFreshness(ctx context.Context, inv *invocation, msgID string, m *notify.Message, a hook.Account) bool {
	n := m.Notification
	if m.Status != notify.StatusSucceeded || !a.HasFreshnessRule(n.IntegrationName, n.DestinationRootTableName) {
		return true
	}
	k := hook.FreshnessKey{Integration: n.IntegrationName, Table: n.DestinationRootTableName}
	if err := inv.loads.record(ctx, m.ClientID, k); err != nil {
		h.log.ErrorContext(ctx, "record load failed", "messageId", msgID, "clientId", m.ClientID, "loadId", m.LoadID, "error", err.Error())
		return false
	}
	return true
}

// loadClocks makes the one RecordTableLoad of each ruled table of an
// invocation: the first record of the table writes, at its time, and the
// batch's other loads of it share the write and its outcome.
type loadClocks struct {
	h  *handler
	mu sync.Mutex
	m  map[loadClockKey]*loadClockWrite
}

type loadClockKey struct {
	clientID int64
	table    hook.FreshnessKey
}

type loadClockWrite struct {
	once sync.Once
	err  error
}

func (c *loadClocks) record(ctx context.Context, clientID int64, k hook.FreshnessKey) error {
	c.mu.Lock()
	w := c.m[loadClockKey{clientID, k}]
	if w == nil {
		w = &loadClockWrite{}
		c.m[loadClockKey{clientID, k}] = w
	}
	c.mu.Unlock()
	w.once.Do(func() { w.err = c.h.freshness.RecordTableLoad(ctx, clientID, k, c.h.now()) })
	return w.err
}

// deliverRetry makes the attempt a retry message asks for. The hook and the
// plan are read again: a deleted or disabled hook, or a lost plan, cancels
// the pair quietly after its claim.
func (h *handler) deliverRetry(ctx context.Context, inv *invocation, slot *arrival, msgID string, w work, st accountState) outcome {
	r := w.retry
	p := &pair{messageID: msgID, key: delivery.Key{ClientID: r.msg.ClientID, LoadID: r.msg.LoadID, HookID: r.msg.HookID},
		n: r.msg.Attempt, body: r.msg.Body, digest: w.digest, notification: &r.notification, event: r.event, retry: true, hook: &hook.Hook{}}
	if st.err == nil {
		if hk, ok := st.hook(r.msg.HookID); ok {
			p.hook, p.active = &hk, hk.Enabled() && st.account.HasHooks()
		}
	}
	log := pairLog{h.log, p}
	if p.active {
		got, err := slot.take(ctx, p.key.ClientID, []*hook.Hook{p.hook})
		if err != nil {
			return outcome{failed: true}
		}
		if !got[p.key.HookID] {
			return outcome{msgs: []outgoing{h.deferOut(ctx, p)}}
		}
	}
	claim := delivery.NewClaim(p.key, p.n)
	claimed, cur, err := h.deliveries.ClaimHook(ctx, claim, p.digest, h.cfg.AttemptTimeout+leaseMargin)
	if err != nil {
		log.at(ctx, slog.LevelError, "claim failed", slog.String("error", err.Error()))
		return outcome{failed: true}
	}
	if !claimed {
		return h.onConflict(ctx, p, cur)
	}
	if cur != nil {
		claim.Sequence, claim.Prior = cur.Sequence, cur.Attempts
	}
	if !p.active {
		switch err := h.endInactive(ctx, p, claim); { // health.go
		case errors.Is(err, delivery.ErrClaimLost):
			log.at(ctx, slog.LevelWarn, "claim lost")
		case err != nil:
			log.at(ctx, slog.LevelError, "cancel failed", slog.String("error", err.Error()))
			return outcome{failed: true}
		default:
			log.at(ctx, slog.LevelInfo, "delivery cancelled")
		}
		return outcome{}
	}
	if p.event == "" { // an event notification has no webhook-sequence
		seq, ok := h.sequence(ctx, msgID, nil, p.notification, p.key.ClientID, p.key.LoadID, claim.Sequence)
		if !ok {
			return outcome{failed: true}
		}
		claim.Sequence, p.seq = seq, seq
	}
	return h.attempt(ctx, inv, []delivery.Claim{claim}, []*pair{p})
}

// sequence is the load's webhook-sequence: recorded, the number its record
// keeps; else the number the load takes now (or took before it was
// recorded: a takeover after a crash gets the same). A load message asks
// through its seat, so that the batch's loads of one table share one write;
// a retry (seat nil) of a record that has no number, written before numbers
// were kept, asks the store itself. ok is false when the counter could not
// be written (logged).
func (h *handler) sequence(ctx context.Context, msgID string, seat *seat, n *notify.Notification, clientID int64, loadID string, recorded int64) (seq int64, ok bool) {
	if recorded > 0 {
		if seat != nil {
			seat.leave(ctx)
		}
		return recorded, true
	}
	k := delivery.SequenceKey{ClientID: clientID, IntegrationName: n.IntegrationName, Table: n.DestinationRootTableName}
	var err error
	if seat != nil {
		seq, err = seat.ask(ctx, k, loadID)
	} else {
		var got map[string]int64
		got, err = h.deliveries.AssignSequences(ctx, k, []string{loadID})
		seq = got[loadID]
	}
	if err != nil {
		h.log.ErrorContext(ctx, "sequence failed", "messageId", msgID, "clientId", clientID, "loadId", loadID, "error", err.Error())
		return 0, false
	}
	return seq, true
}

// attempt makes one HTTP attempt for each claimed pair, concurrently, then
// records every result in one write and returns what must follow.
func (h *handler) attempt(ctx context.Context, inv *invocation, claims []delivery.Claim, ps []*pair) outcome {
	if len(claims) == 0 {
		return outcome{}
	}
	results := make([]delivery.Result, len(claims))
	decisions := make([]delivery.Decision, len(claims))
	var wg sync.WaitGroup
	for i, p := range ps {
		inv.attempts <- struct{}{}
		goWork(&wg, func() { // workers.go
			defer func() { <-inv.attempts }()
			a := h.webhooks.Deliver(ctx, webhook.Request{ClientID: p.key.ClientID, URL: p.hook.URL, LoadID: p.key.LoadID, Event: p.event, Sequence: p.seq, WebhookID: p.webhookID(), Secret: p.hook.Secret,
				PreviousSecret: p.hook.PreviousSecret, PreviousSecretExpiresAt: p.hook.PreviousSecretExpiresAt, Body: p.body, Keys: &inv.keys})
			d := h.cfg.Schedule.Decide(p.n, a, h.rand)
			next := d.Action.String()
			inv.tally.add(a.Outcome, next, a.LatencyMs)
			level := slog.LevelInfo // a failed attempt; a successful one only at debug level (LogLevel DEBUG)
			if a.Outcome == delivery.OutcomeSuccess {
				level = slog.LevelDebug
			}
			pairLog{h.log, p}.at(ctx, level, "delivery attempt", slog.String("outcome", a.Outcome), slog.Int("statusCode", a.StatusCode),
				slog.Int64("durationMs", a.LatencyMs), slog.String("next", next))
			results[i] = delivery.Result{Claim: claims[i], Attempt: a, Status: d.Status}
			decisions[i] = d
		})
	}
	wg.Wait()

	recs, errs := h.deliveries.RecordResults(ctx, results)
	var out outcome
	for i, p := range ps {
		log := pairLog{h.log, p}
		switch err := errs[i]; {
		case errors.Is(err, delivery.ErrClaimLost):
			// Our lease ran out and another invocation took the attempt
			// over: it owns what follows.
			log.at(ctx, slog.LevelWarn, "claim lost")
			continue
		case err != nil:
			log.at(ctx, slog.LevelError, "record attempt failed", slog.String("error", err.Error()))
			out.failed = true
			continue
		}
		h.noteSuccess(ctx, p, results[i].Attempt) // health.go
		switch d := decisions[i]; d.Action {
		case delivery.Retry:
			out.msgs = append(out.msgs, h.retryOut(p, p.n+1, d.Delay))
		case delivery.Exhausted:
			out.msgs = append(out.msgs, h.alertOut(p, recs[i]))
		}
	}
	return out
}

// deferOut is the message that asks again for p's attempt, which got no
// in-flight slot: the same attempt (not used up), after DeferDelay and up
// to as much again of jitter, so deferred pairs do not all come back at
// once.
func (h *handler) deferOut(ctx context.Context, p *pair) outgoing {
	delay := delivery.DeferDelay + time.Duration(h.rand()*float64(delivery.DeferDelay))
	delay = delay.Round(time.Second)
	pairLog{h.log, p}.at(ctx, slog.LevelInfo, "delivery deferred", slog.String("reason", "in-flight cap"),
		slog.Int("maxInFlight", delivery.CapOf(p.hook.MaxInFlight)), slog.Int64("delaySeconds", int64(delay/time.Second)))
	return h.retryOut(p, p.n, delay)
}

func (o *outcome) add(x outcome) {
	o.msgs = append(o.msgs, x.msgs...)
	o.failed = o.failed || x.failed
	if o.deadLetter == "" {
		o.deadLetter = x.deadLetter
	}
}

// pairLog writes a pair's log lines, each with the pair's identifying keys.
// Unlike slog.Logger.With, which formats those keys once per pair whether or
// not it logs, it formats them only for lines actually written (most pairs
// write one).
type pairLog struct {
	log *slog.Logger
	p   *pair
}

func (l pairLog) at(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !l.log.Enabled(ctx, level) {
		return
	}
	var line [10]slog.Attr // room for every line's attributes: no allocation
	all := append(line[:0],
		slog.String("messageId", l.p.messageID),
		slog.Int64("clientId", l.p.key.ClientID),
		slog.String("loadId", l.p.key.LoadID),
		slog.Int64("hookId", l.p.key.HookID),
		slog.Int("attempt", l.p.n))
	l.log.LogAttrs(ctx, level, msg, append(all, attrs...)...)
}

// onConflict handles a failed claim (see delivery.OnClaimConflict). A claim
// that failed because the record keeps another body repairs nothing: a load
// re-sent with another body keeps its first one, and a retry message with
// another body is not the service's own (dead-lettered).
func (h *handler) onConflict(ctx context.Context, p *pair, cur *delivery.Record) outcome {
	log := pairLog{h.log, p}
	if cur != nil && cur.BodyDigest != p.digest {
		if p.retry {
			log.at(ctx, slog.LevelWarn, "retry body does not match its delivery")
			return outcome{deadLetter: "invalid retry message: body: not the body of its delivery"}
		}
		log.at(ctx, slog.LevelInfo, "load re-sent with another body, first body kept", slog.String("status", cur.Status))
		return outcome{}
	}
	if p.retry && h.health != nil && cur != nil && cur.Status == delivery.StatusSkipped && cur.Attempt == p.n {
		// This message's own skip, delivered again: its check for a
		// re-enable may not have run (health.go).
		if err := h.resendIfReenabled(ctx, p); err != nil {
			log.at(ctx, slog.LevelError, "resend after skip failed", slog.String("error", err.Error()))
			return outcome{failed: true}
		}
		return outcome{}
	}
	action := delivery.OnClaimConflict(cur, p.n, h.now())
	status := "missing"
	if cur != nil {
		status = cur.Status
	}
	log.at(ctx, slog.LevelInfo, "attempt not claimed", slog.String("status", status), slog.String("action", action.String()))
	switch action {
	case delivery.Later:
		return outcome{failed: true}
	case delivery.ReenqueueRetry:
		next := cur.Attempt + 1
		return outcome{msgs: []outgoing{h.retryOut(p, next, h.cfg.Schedule.Delay(next, h.rand))}}
	case delivery.ReenqueueAlert:
		if !p.active {
			return outcome{} // deleted or disabled since: no alert
		}
		return outcome{msgs: []outgoing{h.alertOut(p, *cur)}}
	}
	return outcome{}
}
