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
	n            int // attempt number
	body         []byte
	digest       string
	notification *notify.Notification // for the alert
	retry        bool                 // asked for by a retry message
	hook         hook.Hook            // the hook as read now; zero if it no longer exists
	// active: the hook exists and is enabled and the plan has the feature.
	// A retry for an inactive pair is cancelled quietly after its claim.
	active bool
}

func (p *pair) webhookID() string { return hook.WebhookID(p.key.ClientID, p.key.LoadID, p.key.HookID) }

// deliverLoad delivers a load message to every enabled hook of its
// destination (every enabled hook when it names none). Only the message's
// own client's hooks are ever considered (see readAccount), and a load for
// an account whose plan lacks the feature sends nothing.
func (h *handler) deliverLoad(ctx context.Context, inv *invocation, slot *arrival, msgID string, w work, st accountState) outcome {
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
	pairs := map[int64]*pair{}
	var ids []int64
	for _, hk := range st.hooks {
		if !hk.Enabled() || !hk.SendsLoadsOf(m.DestinationID) || !hk.Wants(m.Notification.IntegrationName, m.Notification.DestinationRootTableName) {
			continue
		}
		ids = append(ids, hk.ID)
		pairs[hk.ID] = &pair{messageID: msgID, key: delivery.Key{ClientID: m.ClientID, LoadID: m.LoadID, HookID: hk.ID},
			n: 1, body: m.Body, digest: w.digest, notification: m.Notification, hook: hk, active: true}
	}
	if len(ids) == 0 {
		h.skip(ctx, msgID, m.ClientID, m.LoadID, skipNoEnabledHooks)
		return outcome{}
	}
	load := delivery.Load{ClientID: m.ClientID, LoadID: m.LoadID, IntegrationName: m.Notification.IntegrationName,
		Tables: m.Notification.TableNames(), Body: m.Body}
	hooks := make([]hook.Hook, len(ids))
	for i, id := range ids {
		hooks[i] = pairs[id].hook
	}
	got, err := slot.take(ctx, m.ClientID, hooks)
	if err != nil {
		return outcome{failed: true}
	}
	var claimIDs, deferIDs []int64
	for _, id := range ids {
		if got[id] {
			claimIDs = append(claimIDs, id)
		} else {
			deferIDs = append(deferIDs, id)
		}
	}
	claims, deferred, conflicts, err := h.deliveries.ClaimLoadDeferring(ctx, load, claimIDs, deferIDs, delivery.NewToken(), h.cfg.AttemptTimeout+leaseMargin)
	if err != nil {
		h.log.ErrorContext(ctx, "claim failed", "messageId", msgID, "clientId", m.ClientID, "loadId", m.LoadID, "error", err.Error())
		return outcome{failed: true}
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
	cs := make([]*pair, len(claims))
	for i, c := range claims {
		cs[i] = pairs[c.HookID]
	}
	out.add(h.attempt(ctx, inv, claims, cs))
	return out
}

// deliverRetry makes the attempt a retry message asks for. The hook and the
// plan are read again: a deleted or disabled hook, or a lost plan, cancels
// the pair quietly after its claim.
func (h *handler) deliverRetry(ctx context.Context, inv *invocation, slot *arrival, msgID string, w work, st accountState) outcome {
	r := w.retry
	p := &pair{messageID: msgID, key: delivery.Key{ClientID: r.msg.ClientID, LoadID: r.msg.LoadID, HookID: r.msg.HookID},
		n: r.msg.Attempt, body: r.msg.Body, digest: w.digest, notification: &r.notification, retry: true}
	if st.err == nil {
		if hk, ok := st.hook(r.msg.HookID); ok {
			p.hook, p.active = hk, hk.Enabled() && st.account.HasHooks()
		}
	}
	log := pairLog{h.log, p}
	if p.active {
		got, err := slot.take(ctx, p.key.ClientID, []hook.Hook{p.hook})
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
	if !p.active {
		switch err := h.deliveries.CancelHook(ctx, claim); {
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
	return h.attempt(ctx, inv, []delivery.Claim{claim}, []*pair{p})
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
		wg.Go(func() {
			defer func() { <-inv.attempts }()
			a := h.webhooks.Deliver(ctx, webhook.Request{ClientID: p.key.ClientID, URL: p.hook.URL, LoadID: p.key.LoadID, WebhookID: p.webhookID(), Secret: p.hook.Secret,
				PreviousSecret: p.hook.PreviousSecret, PreviousSecretExpiresAt: p.hook.PreviousSecretExpiresAt, Body: p.body})
			d := h.cfg.Schedule.Decide(p.n, a, h.rand)
			pairLog{h.log, p}.at(ctx, slog.LevelInfo, "delivery attempt", slog.String("outcome", a.Outcome), slog.Int("statusCode", a.StatusCode),
				slog.Int64("durationMs", a.LatencyMs), slog.String("next", d.Action.String()))
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
	all := make([]slog.Attr, 0, 5+len(attrs))
	all = append(all,
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
