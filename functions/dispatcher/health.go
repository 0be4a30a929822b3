package main

import (
	"context"
	"errors"
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
}

// defaultReplayRate is how many replayed deliveries start each second
// after a recovery (HOOKS_REPLAY_RATE, as the API's replay).
const defaultReplayRate = 10

// loadHealthConfig reads HOOKS_PROBE_DELAYS, HOOKS_PROBE_FOR and
// HOOKS_REPLAY_RATE into c.
func loadHealthConfig(env *coldstart.Env, c *config) {
	c.Probes = probeenv.Load(env)
	c.ReplayRate = defaultReplayRate
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
	if h.health != nil && p.hook.DisabledReason() == hook.DisabledForFailing {
		return h.health.SkipHook(ctx, c)
	}
	return h.deliveries.CancelHook(ctx, c)
}
