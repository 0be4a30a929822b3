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
	"github.com/postloadhooks/hooks/shared/notify"
)

// Run summaries (run_completed). A load message that names its run
// ("run":{"id":"r1","tables":N}) is counted in the run's item (store's
// AddRunLoad: each distinct load once, the first N win), but only while an
// enabled hook of its destination subscribes to run_completed: otherwise
// it costs nothing. The summary is claimed once (store's ClaimRun) by the
// arrival that completes the run, or by the run's timer, queued by its
// first arrival, HOOKS_RUN_WAIT after it, with what arrived. It is then
// queued as an event message (event.go) with the stable id
// delivery.RunKey.EventID, so the delivery record sends it once per hook.
//
// The order is claim, then queue, and whoever claims queues again when its
// message comes back. An arrival whose load is the last one counted of a
// full run claims the summary (unless the timer did) and queues it; a
// timer queues it when it claims it, or finds it claimed incomplete (a
// timer's claim, or one of a run past delivery.RunMaxLoads). So a crash
// between the claim and the queueing re-queues the same event id, which
// the summary's delivery record sends once per hook. The first arrival
// queues the timer, again when it comes back while the run is not claimed
// (a timer queued twice claims once).

// arrivedAt is when record r reached the notifications queue (SQS's
// SentTimestamp, the same on every redelivery), which a run's started_at
// and finished_at report; now when the attribute is missing or malformed.
func arrivedAt(r events.SQSMessage, now time.Time) time.Time {
	ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return now
	}
	return time.UnixMilli(ms).UTC()
}

// runStore keeps the run items (package store).
type runStore interface {
	AddRunLoad(ctx context.Context, k delivery.RunKey, l delivery.RunLoad) (delivery.Run, error)
	ClaimRun(ctx context.Context, k delivery.RunKey) (delivery.Run, bool, error)
}

// wantsRuns reports whether an enabled hook of st sent loads of
// destination subscribes to run summaries.
func wantsRuns(st accountState, destination int64) bool {
	for _, hk := range st.hooks {
		if hk.Enabled() && hk.SendsLoadsOf(destination) && hk.Subscribes(hook.EventRunCompleted) {
			return true
		}
	}
	return false
}

// countInRun counts load m, the message of record r, in its run and
// returns what that leaves to queue: the run's timer (its first arrival),
// its summary (the arrival that completed it). A store error fails the
// record: its redelivery counts nothing twice.
func (h *handler) countInRun(ctx context.Context, r events.SQSMessage, m *notify.Message, st accountState) outcome {
	if m.Run == nil || st.err != nil || !st.account.HasHooks() || m.Notification == nil ||
		(m.DestinationID != 0 && !st.account.HasDestination(m.DestinationID)) || !wantsRuns(st, m.DestinationID) {
		return outcome{}
	}
	k := delivery.RunKey{ClientID: m.ClientID, IntegrationName: m.Notification.IntegrationName, RunID: m.Run.ID}
	log := h.log.With(slog.String("messageId", r.MessageId), slog.Int64("clientId", m.ClientID), slog.String("loadId", m.LoadID))
	l := delivery.RunLoad{LoadID: m.LoadID, DestinationID: m.DestinationID, Expected: m.Run.Tables, At: arrivedAt(r, h.now())}
	for _, t := range m.Notification.Tables {
		l.Tables = append(l.Tables, notify.RunTable{DestinationTableName: t.DestinationTableName, Status: m.Status,
			NumRows: t.NumRows, NumRowsRejected: t.NumRowsRejected})
	}
	run, err := h.runs.AddRunLoad(ctx, k, l)
	if err != nil {
		log.ErrorContext(ctx, "count in run failed", slog.String("error", err.Error()))
		return outcome{failed: true}
	}
	mine := delivery.SequenceHash(m.LoadID)
	var out outcome
	if run.Full() && run.LastLoad == mine {
		if run, _, err = h.runs.ClaimRun(ctx, k); err != nil {
			log.ErrorContext(ctx, "claim run failed", slog.String("error", err.Error()))
			return outcome{failed: true}
		}
		out.msgs = append(out.msgs, h.summaryOut(run))
	}
	if run.FirstLoad == mine && !run.Claimed {
		out.msgs = append(out.msgs, h.runTimerOut(delivery.RunTimerMessage{Kind: delivery.KindRunTimer, ClientID: k.ClientID,
			IntegrationName: k.IntegrationName, RunID: k.RunID, DueAt: run.StartedAt.Add(h.cfg.RunWait)}))
	}
	return out
}

// processRunTimer handles one run timer record; it reports whether the
// record failed (SQS delivers it again). Early, it is put back for what is
// left of the wait; when due, it claims the run's summary with what
// arrived, and queues it unless a complete run claimed it (that run's last
// arrival queues it).
func (h *handler) processRunTimer(ctx context.Context, r events.SQSMessage) bool {
	m, err := delivery.DecodeRunTimer([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, r, "invalid run timer message: "+err.Error())
	}
	log := h.log.With(slog.String("messageId", r.MessageId), slog.Int64("clientId", m.ClientID))
	if m.DueAt.After(h.now()) {
		return !h.sendLogged(ctx, log, h.runTimerOut(m))
	}
	run, claimed, err := h.runs.ClaimRun(ctx, m.Key())
	switch {
	case errors.Is(err, hook.ErrNotFound):
		log.WarnContext(ctx, "run timer: no such run")
		return false
	case err != nil:
		log.ErrorContext(ctx, "claim run failed", slog.String("error", err.Error()))
		return true
	case !claimed && run.Complete:
		return false
	}
	return !h.sendLogged(ctx, log, h.summaryOut(run))
}

// sendLogged queues m and reports whether it was queued (a failure is
// logged).
func (h *handler) sendLogged(ctx context.Context, log *slog.Logger, m outgoing) bool {
	if err := h.send(ctx, m); err != nil {
		log.ErrorContext(ctx, "enqueue failed", slog.String("queue", m.queue), slog.String("error", err.Error()))
		return false
	}
	return true
}

// summaryOut is the event message of run's summary.
func (h *handler) summaryOut(run delivery.Run) outgoing {
	m := delivery.EventMessage{Kind: delivery.KindEvent, ClientID: run.Key.ClientID, DestinationID: run.DestinationID,
		Event: notify.EventRunCompleted, EventID: run.Key.EventID(), Body: run.Summary().Encode()}
	return outgoing{queueURL: h.cfg.RetryQueueURL, queue: "event", body: string(m.Encode()), group: notify.MessageGroupID(m.ClientID)}
}

// runTimerOut is timer m, delayed until its due time (at most SQS's 15
// minutes: a longer wait is a chain).
func (h *handler) runTimerOut(m delivery.RunTimerMessage) outgoing {
	return outgoing{queueURL: h.cfg.RetryQueueURL, queue: "run_timer", body: string(m.Encode()),
		delay: delivery.DigestDelay(m.DueAt, h.now()), group: notify.MessageGroupID(m.ClientID)}
}
