package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/mail"
)

// Auto-disable, checked at each exhausted delivery: the delivery is counted
// in its hook's health (one write), and a hook whose deliveries have all
// ended exhausted for the policy's time, with enough of them, is disabled
// for failing (a conditional write, so once), its first probe is queued on
// the retry queue (the dispatcher sends probes: it holds the webhook client)
// and the account is emailed once per address (the alert ledger, under
// delivery.DisabledAlertID). A retried message finds each step done and
// finishes the rest. The re-enable email, asked for by the dispatcher with
// a ReenabledMessage, goes through the same ledger.

// hookHealth keeps the hooks' health (store.Store); see store.NoteHookExhausted.
type hookHealth interface {
	NoteHookExhausted(ctx context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error)
	AutoDisableHook(ctx context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error)
	SetProbeQueued(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
}

// replayMargin is how long before the first exhausted delivery of a
// failing streak the replay after a recovery starts: a delivery is created
// before its last attempt by at most the retry schedule (about 35 minutes
// with its jitter). It never starts before the last success.
const replayMargin = time.Hour

// checkHealth counts msg's exhausted delivery (its load and attempt count,
// so a redelivered message counts once) in its hook's health and
// disables the hook when the policy says so. It reports false when the
// record must be retried.
func (h *handler) checkHealth(ctx context.Context, log *slog.Logger, msg delivery.AlertMessage) bool {
	if h.health == nil {
		return true
	}
	at := h.now()
	if n := len(msg.Attempts); n > 0 && !msg.Attempts[n-1].At.IsZero() {
		at = msg.Attempts[n-1].At
	}
	hk, err := h.health.NoteHookExhausted(ctx, msg.ClientID, msg.HookID, msg.LoadID, len(msg.Attempts), at)
	if errors.Is(err, hook.ErrNotFound) {
		return true // deleted since: nothing to keep
	}
	if err != nil {
		log.ErrorContext(ctx, "note exhausted delivery failed", slog.String("error", err.Error()))
		return false
	}
	if hk.Enabled() && hk.Health.Failing() {
		acct, err := h.accounts.Account(ctx, msg.ClientID)
		if err != nil {
			log.ErrorContext(ctx, "account lookup failed", slog.String("error", err.Error()))
			return errors.Is(err, hook.ErrNotFound)
		}
		if !h.autoDisable.Due(acct, hk, h.now()) {
			return true
		}
		from := hk.Health.FailingSince.Add(-replayMargin)
		if ok := hk.Health.LastSuccessAt; from.Before(ok) {
			from = ok
		}
		var disabled bool
		if hk, disabled, err = h.health.AutoDisableHook(ctx, msg.ClientID, msg.HookID, hk.Health.FailingSince, from); err != nil {
			log.ErrorContext(ctx, "auto-disable failed", slog.String("error", err.Error()))
			return errors.Is(err, hook.ErrNotFound)
		}
		if disabled {
			log.WarnContext(ctx, "hook disabled for failing", slog.Int("exhausted", hk.Health.Exhausted),
				slog.Time("failingSince", hk.Health.FailingSince))
		}
	}
	if hk.Probe == nil {
		return true
	}
	return h.afterDisable(ctx, log, hk, msg.HookURL)
}

// afterDisable finishes what a disable for failing calls for: the first
// probe queued (before the email, as the digest message is), then the
// email to each address once.
func (h *handler) afterDisable(ctx context.Context, log *slog.Logger, hk hook.Hook, redactedURL string) bool {
	da := *hk.DisabledAt
	if hk.Probe.Step == 1 && !hk.Probe.Queued {
		m := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: hk.ClientID, HookID: hk.ID, DisabledAt: da, Step: 1,
			ReplaySince: hk.Probe.ReplaySince}
		if _, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &h.retryQueueURL, MessageBody: aws.String(string(m.Encode()))}); err != nil {
			log.ErrorContext(ctx, "queue probe failed", slog.String("error", err.Error()))
			return false
		}
		if _, err := h.health.SetProbeQueued(ctx, hk.ClientID, hk.ID, da, 1); err != nil {
			log.ErrorContext(ctx, "record probe queued failed", slog.String("error", err.Error()))
			return false
		}
	}
	to, ok, done := h.recipientsOf(ctx, log, hk.ClientID)
	if !ok {
		return done
	}
	d := mail.HookDisabled{ClientID: hk.ClientID, HookID: hk.ID, HookURL: redactedURL,
		FailingSince: hk.Health.FailingSince, Exhausted: hk.Health.Exhausted, DisabledAt: da,
		Probes: h.probes}
	render := func(rcpt string) (mail.Email, error) {
		return mail.RenderHookDisabled(d, h.links.forRecipient(hk.ClientID, rcpt, h.now())), nil
	}
	sent, ok := h.sendOnce(ctx, log, hk.ClientID, delivery.DisabledAlertID(da), hk.ID, to, render)
	if ok && sent > 0 {
		log.InfoContext(ctx, "hook disabled email sent", slog.Int("recipients", len(to)), slog.Int("sent", sent))
	}
	return ok
}

// processReenabled emails the account that a hook answered a probe and was
// enabled again (each address once).
func (h *handler) processReenabled(ctx context.Context, log *slog.Logger, r events.SQSMessage) bool {
	m, err := delivery.DecodeReenabled([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, log, r, err.Error())
	}
	log = log.With(slog.Int64("clientId", m.ClientID), slog.Int64("hookId", m.HookID))
	to, ok, done := h.recipientsOf(ctx, log, m.ClientID)
	if !ok {
		return done
	}
	d := mail.HookReenabled{ClientID: m.ClientID, HookID: m.HookID, HookURL: hookurl.Redact(m.HookURL),
		DisabledAt: m.DisabledAt, ReenabledAt: m.ReenabledAt, Replayed: m.Replayed}
	render := func(rcpt string) (mail.Email, error) {
		return mail.RenderHookReenabled(d, h.links.forRecipient(m.ClientID, rcpt, h.now())), nil
	}
	sent, ok := h.sendOnce(ctx, log, m.ClientID, delivery.ReenabledAlertID(m.DisabledAt), m.HookID, to, render)
	if ok {
		log.InfoContext(ctx, "hook re-enabled email sent", slog.Int("recipients", len(to)), slog.Int("sent", sent))
	}
	return ok
}
