package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/probeenv"
)

// Hook health, the dispatcher's part (the alerter counts exhausted
// deliveries and disables failing hooks):
//
//   - a success of a hook whose health says it is failing ends its failing
//     streak (one write, only then: a healthy hook's deliveries write
//     nothing more);
//   - a load meant for a hook disabled for failing is kept in its history
//     as skipped, not sent (one write per load, only while a hook of the
//     load is disabled for failing);
//   - probes, re-enabling and the replay after a recovery: probe.go.

// healthStore is what the dispatcher needs of the store for hook health
// (store.Store; see its methods for the errors).
type healthStore interface {
	NoteHookSuccess(ctx context.Context, clientID, hookID int64, at time.Time) error
	SkipLoad(ctx context.Context, l delivery.Load, hookIDs []int64) error
	AdvanceProbe(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
	SetProbeQueued(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
	ReenableHook(ctx context.Context, clientID, hookID int64, disabledAt time.Time) (hook.Hook, bool, error)
	RecoverableDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error)
	Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error)
	UndoResend(ctx context.Context, k delivery.Key, ended delivery.Ended) error
	SkipHook(ctx context.Context, c delivery.Claim) error
	GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error)
}

// defaultReplayRate is how many replayed deliveries start each second
// after a recovery (HOOKS_REPLAY_RATE, as the API's replay).
const defaultReplayRate = 10

// replaySettle is how long the replay after a recovery waits after the
// re-enable before it looks for deliveries to resend. It reads the index
// by_created, which DynamoDB updates shortly after each write: a skip
// written just before the re-enable, whose own read of the hook still
// found it disabled, shows there only then.
const replaySettle = time.Second

// loadHealthConfig reads HOOKS_PROBE_DELAYS, HOOKS_PROBE_FOR and
// HOOKS_REPLAY_RATE into c.
func loadHealthConfig(env *coldstart.Env, c *config) {
	c.Probes = probeenv.Load(env)
	c.ReplayRate, c.ReplaySettle = defaultReplayRate, replaySettle
	if s := env.String("HOOKS_REPLAY_RATE", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			env.Invalid("HOOKS_REPLAY_RATE", errors.New("want a positive integer"))
		}
		c.ReplayRate = n
	}
}

// noteSuccess ends the failing streak of p's hook when a is a success and
// the hook, as read by this invocation, is failing. A failed write is only
// logged: the next success writes it again.
func (h *handler) noteSuccess(ctx context.Context, p *pair, a delivery.Attempt) {
	if a.Outcome != delivery.OutcomeSuccess || !p.hook.Health.Failing() || h.health == nil {
		return
	}
	if err := h.health.NoteHookSuccess(ctx, p.key.ClientID, p.key.HookID, h.now()); err != nil {
		pairLog{h.log, p}.at(ctx, slog.LevelError, "note success failed", slog.String("error", err.Error()))
	}
}

// keepSkipped keeps load l in the history of the hooks ids (disabled for
// failing) as skipped. It reports false when the record must fail (the
// write failed: SQS delivers it again, and the write is idempotent).
func (h *handler) keepSkipped(ctx context.Context, msgID string, l delivery.Load, ids []int64) bool {
	if len(ids) == 0 || h.health == nil {
		return true
	}
	if err := h.health.SkipLoad(ctx, l, ids); err != nil {
		h.log.ErrorContext(ctx, "keep skipped deliveries failed", "messageId", msgID, "clientId", l.ClientID, "loadId", l.LoadID, "error", err.Error())
		return false
	}
	h.log.InfoContext(ctx, "deliveries skipped: hook disabled for failing", "messageId", msgID, "clientId", l.ClientID, "loadId", l.LoadID, "hooks", len(ids))
	return true
}

// endInactive ends a retry whose hook is no longer active: skipped when
// the hook is disabled for failing (a retry in flight when it was disabled
// is resent with the others when it recovers), else cancelled quietly.
func (h *handler) endInactive(ctx context.Context, p *pair, c delivery.Claim) error {
	if h.health == nil || p.hook.DisabledReason() != hook.DisabledForFailing {
		return h.deliveries.CancelHook(ctx, c)
	}
	if err := h.health.SkipHook(ctx, c); err != nil {
		return err
	}
	return h.resendIfReenabled(ctx, p)
}

// resendIfReenabled follows the skip of p's delivery. The batch read the
// hook before the skip was written: a probe may have enabled it again in
// between, and its replay may already have looked for skipped deliveries.
// So the hook is read again (strongly consistent) and, enabled again, the
// delivery is resent now, as the replay would. Resend takes only a
// delivery still skipped: if the replay took it too, one of the two sends
// it and the other does nothing. A retry message delivered again after its
// skip (this read or the resend failed) comes here again (onConflict).
func (h *handler) resendIfReenabled(ctx context.Context, p *pair) error {
	hk, err := h.health.GetHook(ctx, p.key.ClientID, p.key.HookID)
	switch {
	case errors.Is(err, hook.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !hk.Enabled():
		return nil
	}
	sent, err := h.resend(ctx, p.key, 0)
	if sent {
		pairLog{h.log, p}.at(ctx, slog.LevelWarn, "skipped delivery sent again: the hook was enabled again meanwhile")
	}
	return err
}

// resend restarts the final delivery k (exhausted or skipped) with its
// webhook-id, as the replay after a recovery does, and queues its retry
// message delayed by delay. It reports false, without error, when k is not
// to be resent (in progress, already resent, gone, or a test delivery). A
// message that cannot be queued puts the delivery back as it had ended.
func (h *handler) resend(ctx context.Context, k delivery.Key, delay time.Duration) (bool, error) {
	r, err := h.health.Resend(ctx, k)
	switch {
	case errors.Is(err, hook.ErrDeliveryInProgress) || errors.Is(err, hook.ErrNotFound) || errors.Is(err, hook.ErrTestDelivery):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("replay resend: %w", err)
	}
	if err := h.send(ctx, outgoing{queueURL: h.cfg.RetryQueueURL, queue: "retry", body: string(r.Message.Encode()), delay: delay}); err != nil {
		if uerr := h.health.UndoResend(ctx, k, r.Ended); uerr != nil {
			return false, fmt.Errorf("queue replayed delivery: %w (undo resend: %v)", err, uerr)
		}
		return false, fmt.Errorf("queue replayed delivery: %w", err)
	}
	return true, nil
}
