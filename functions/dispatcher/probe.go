package main

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Probes of a hook disabled for failing, one message's story. A probe
// message (delivery.ProbeMessage, on the retry queue) names the disable
// (its time) and the step. The alerter queues step 1 when it disables the
// hook; each step queues the next. A message that arrives before its step
// is due is put back with what is left of the wait (at most 15 minutes: a
// chain). When due, and only while the hook is still disabled for failing
// by that disable at that step:
//
//   - the signed ping (delivery.PingBody, webhook-event: ping) is sent
//     through the same SSRF-safe client as every delivery;
//   - on a 2xx the hook is enabled again (a conditional write: once) and,
//     ReplaySettle later (so that a skip written just before shows in the
//     index the replay reads), the deliveries created since the replay
//     start that ended exhausted or were skipped are resent oldest first (at most 1000, same webhook-ids,
//     ReplayRate a second), and the alerter is asked to email the account;
//   - otherwise the store moves the probes to the next step (a conditional
//     write: one message of a step wins) and the next message is queued
//     and marked queued. A redelivered message whose step was advanced but
//     not marked queued queues the next one again, so a crash loses no
//     chain; one that finds the step queued does nothing.
//
// When either conditional write does not apply, the hook as it is then
// decides, as for a redelivered message: the write may be this message's
// own, applied, with its answer lost and the SDK's retry refused.
//
// A hook a member or a plan disabled, deleted, or enabled again has no
// probe state: its messages end there. Redelivered after a recovery, the
// message finds the hook enabled by its own disable's probe (its audit
// trail) and runs the replay again, which resends only what is still
// exhausted or skipped.

// maxRecoveryReplay is the most deliveries a recovery resends.
const maxRecoveryReplay = 1000

// pingEvent is the webhook-event of a probe.
const pingEvent = "ping"

// processProbe handles one probe record; it reports whether the record
// failed (SQS delivers it again).
func (h *handler) processProbe(ctx context.Context, inv *invocation, r events.SQSMessage) bool {
	m, err := delivery.DecodeProbe([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, r, "invalid probe message: "+err.Error())
	}
	log := h.log.With(slog.String("messageId", r.MessageId), slog.Int64("clientId", m.ClientID),
		slog.Int64("hookId", m.HookID), slog.Int("step", m.Step))
	if h.health == nil {
		log.WarnContext(ctx, "probe dropped: hook health is off")
		return false
	}
	if wait := h.cfg.Probes.At(m.DisabledAt, m.Step).Sub(h.now()); wait > 0 {
		return !h.queueProbe(ctx, log, m, wait)
	}
	st := inv.accounts.get(ctx, m.ClientID)
	if st.err != nil && !errors.Is(st.err, hook.ErrNotFound) {
		log.ErrorContext(ctx, "account read failed", slog.String("error", st.err.Error()))
		return true
	}
	hk, ok := st.hook(m.HookID)
	switch {
	case !ok:
		log.InfoContext(ctx, "probe ended: hook deleted")
		return false
	case recoveredFrom(hk, m.DisabledAt):
		return !h.replayRecovered(ctx, log, hk, m) // a redelivery after the recovery
	case hk.Probe == nil || !hk.DisabledAt.Equal(m.DisabledAt):
		log.InfoContext(ctx, "probe ended: hook no longer disabled for failing", slog.String("reason", hk.DisabledReason()))
		return false
	case advancedUnqueued(hk, m):
		return !h.nextProbe(ctx, log, m)
	case hk.Probe.Step != m.Step:
		log.InfoContext(ctx, "probe step already done")
		return false
	}

	a := h.webhooks.Deliver(ctx, webhook.Request{ClientID: hk.ClientID, URL: hk.URL, Event: pingEvent,
		WebhookID: "msg_ping_" + strconv.FormatInt(m.HookID, 10) + "_" + strconv.FormatInt(m.DisabledAt.UnixMilli(), 10) + "_" + strconv.Itoa(m.Step),
		Secret:    hk.Secret, PreviousSecret: hk.PreviousSecret, PreviousSecretExpiresAt: hk.PreviousSecretExpiresAt,
		Body: delivery.PingBody(hk.ID, h.now())})
	log.InfoContext(ctx, "probe sent", slog.String("outcome", a.Outcome), slog.Int("statusCode", a.StatusCode), slog.Int64("durationMs", a.LatencyMs))
	if a.Outcome != delivery.OutcomeSuccess {
		ok, err := h.health.AdvanceProbe(ctx, m.ClientID, m.HookID, m.DisabledAt, m.Step)
		if err != nil {
			log.ErrorContext(ctx, "advance probe failed", slog.String("error", err.Error()))
			return true
		}
		if !ok {
			// Another message of this step advanced it, or this call did
			// and its answer was lost (the SDK's retry found the step
			// moved): the hook as it is now decides, as for a redelivery.
			cur, err := h.health.GetHook(ctx, m.ClientID, m.HookID)
			if err != nil {
				log.ErrorContext(ctx, "read hook after a probe failed", slog.String("error", err.Error()))
				return !errors.Is(err, hook.ErrNotFound)
			}
			if !advancedUnqueued(cur, m) {
				log.InfoContext(ctx, "probe step taken by another message")
				return false
			}
		}
		return !h.nextProbe(ctx, log, m)
	}
	if !st.account.HasHooks() {
		log.InfoContext(ctx, "probe answered but the plan lacks the feature: not enabled")
		return false
	}
	cur, enabled, err := h.health.ReenableHook(ctx, m.ClientID, m.HookID, m.DisabledAt)
	if err != nil {
		log.ErrorContext(ctx, "re-enable failed", slog.String("error", err.Error()))
		return !errors.Is(err, hook.ErrNotFound)
	}
	// Not enabled by this write, but by this disable's probe: this call's
	// own, its answer lost and the SDK's retry finding the hook enabled (or
	// a duplicate of this message). The replay follows either way; it
	// resends each delivery once.
	if !enabled && !recoveredFrom(cur, m.DisabledAt) {
		log.InfoContext(ctx, "probe answered but the hook changed meanwhile: not enabled")
		return false
	}
	log.WarnContext(ctx, "hook re-enabled after a probe")
	select {
	case <-time.After(h.cfg.ReplaySettle): // a skip written just before shows in the index
	case <-ctx.Done():
		return true // delivered again, the message runs the replay
	}
	return !h.replayRecovered(ctx, log, hk, m)
}

// advancedUnqueued reports whether hk's probes of m's disable moved on from
// m's step without the next message marked queued: a crash, or a lost
// answer, between the two writes.
func advancedUnqueued(hk hook.Hook, m delivery.ProbeMessage) bool {
	return hk.Probe != nil && hk.DisabledAt != nil && hk.DisabledAt.Equal(m.DisabledAt) &&
		hk.Probe.Step == m.Step+1 && !hk.Probe.Queued
}

// recoveredFrom reports whether the hook is enabled and its last change of
// state is the service enabling it again after the disable at disabledAt.
func recoveredFrom(hk hook.Hook, disabledAt time.Time) bool {
	if !hk.Enabled() {
		return false
	}
	var last []hook.Change
	for _, c := range hk.Audit {
		if c.Action != hook.ActionSecretRotated && c.Action != hook.ActionSubscriptionChanged {
			last = append(last, c)
		}
	}
	n := len(last)
	return n >= 2 && last[n-1].Action == hook.ActionAutoEnabled && last[n-2].Action == hook.ActionAutoDisabled &&
		last[n-2].At.Equal(disabledAt)
}

// nextProbe queues the probe after m (if the schedule has one) and marks
// it queued. It reports whether that worked.
func (h *handler) nextProbe(ctx context.Context, log *slog.Logger, m delivery.ProbeMessage) bool {
	next := m
	next.Step++
	if !h.cfg.Probes.Has(m.DisabledAt, next.Step) {
		log.WarnContext(ctx, "probes ended: the hook stays disabled for failing")
		return true
	}
	if !h.queueProbe(ctx, log, next, h.cfg.Probes.At(m.DisabledAt, next.Step).Sub(h.now())) {
		return false
	}
	if _, err := h.health.SetProbeQueued(ctx, m.ClientID, m.HookID, m.DisabledAt, next.Step); err != nil {
		log.ErrorContext(ctx, "record probe queued failed", slog.String("error", err.Error()))
		return false
	}
	return true
}

// queueProbe puts m on the retry queue, delayed by wait (at most SQS's 15
// minutes; a message that arrives early is put back again).
func (h *handler) queueProbe(ctx context.Context, log *slog.Logger, m delivery.ProbeMessage, wait time.Duration) bool {
	err := h.send(ctx, outgoing{queueURL: h.cfg.RetryQueueURL, queue: "probe", body: string(m.Encode()), delay: delivery.DigestDelay(h.now().Add(wait), h.now())})
	if err != nil {
		log.ErrorContext(ctx, "queue probe failed", slog.String("error", err.Error()))
		return false
	}
	return true
}

// replayRecovered resends the hook's deliveries created from the replay
// start until now that ended exhausted or were skipped, oldest first, paced,
// then asks the alerter for the re-enable email. It reports whether all of
// that worked (else the message is retried, and the replay resends only
// what is still exhausted or skipped).
func (h *handler) replayRecovered(ctx context.Context, log *slog.Logger, hk hook.Hook, m delivery.ProbeMessage) bool {
	now := h.now()
	ds, err := h.health.RecoverableDeliveries(ctx, m.ClientID, m.HookID, m.ReplaySince, now, maxRecoveryReplay)
	if err != nil {
		log.ErrorContext(ctx, "read deliveries to replay failed", slog.String("error", err.Error()))
		return false
	}
	n := 0
	for _, d := range ds {
		// A delivery that could not be queued is put back as it had ended,
		// so the retried probe message finds it again.
		sent, err := h.resend(ctx, d.Key, time.Duration(delivery.ReplayDelay(n, h.cfg.ReplayRate))*time.Second)
		if err != nil {
			log.ErrorContext(ctx, "replay failed", slog.String("loadId", d.LoadID), slog.String("error", err.Error()))
			return false
		}
		if sent {
			n++
		}
	}
	log.InfoContext(ctx, "deliveries replayed after recovery", slog.Int("replayed", n))
	rm := delivery.ReenabledMessage{Kind: delivery.KindReenabled, ClientID: m.ClientID, HookID: m.HookID,
		HookURL: hookurl.Redact(hk.URL), DisabledAt: m.DisabledAt, ReenabledAt: now, Replayed: n}
	if err := h.send(ctx, outgoing{queueURL: h.cfg.AlertQueueURL, queue: "alert", body: string(rm.Encode())}); err != nil {
		log.ErrorContext(ctx, "queue re-enabled email failed", slog.String("error", err.Error()))
		return false
	}
	return true
}
