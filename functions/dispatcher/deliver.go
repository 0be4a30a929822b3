package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Step 3: every job of the batch at once: claim the attempt, re-check the
// hook and plan, make one HTTP attempt, record its result. What must follow
// (a retry or an alert message) is returned for step 4.

// result is what a job leaves for the enqueue step.
type result struct {
	srcs   []int // the job's record and its duplicates
	failed bool  // report the source record in batchItemFailures
	// deadLetter, when set, is why the source records go to the
	// dead-letter queue.
	deadLetter string
	retry      *delivery.RetryMessage
	delay      time.Duration
	alert      *delivery.AlertMessage
}

func (h *handler) deliverAll(ctx context.Context, jobs []job) []result {
	results := make([]result, len(jobs))
	sem := make(chan struct{}, maxConcurrentJobs)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = h.deliver(ctx, j)
			results[i].srcs = j.srcs
		})
	}
	wg.Wait()
	return results
}

func (h *handler) deliver(ctx context.Context, j job) result {
	log := jobLog{h.log, &j}
	claim := delivery.NewClaim(j.key, j.n)
	claimed, cur, err := h.deliveries.ClaimAttempt(ctx, claim, j.webhookID, j.digest, h.cfg.AttemptTimeout+leaseMargin)
	if err != nil {
		log.at(ctx, slog.LevelError, "claim failed", slog.String("error", err.Error()))
		return result{failed: true}
	}
	if !claimed {
		return h.onConflict(ctx, log, j, cur)
	}

	if !j.active {
		switch err := h.deliveries.Cancel(ctx, claim); {
		case errors.Is(err, delivery.ErrClaimLost):
			log.at(ctx, slog.LevelWarn, "claim lost")
		case err != nil:
			log.at(ctx, slog.LevelError, "cancel failed", slog.String("error", err.Error()))
			return result{failed: true}
		default:
			log.at(ctx, slog.LevelInfo, "delivery cancelled")
		}
		return result{}
	}

	a := h.webhooks.Deliver(ctx, webhook.Request{ClientID: j.key.ClientID, URL: j.hook.URL, LoadID: j.key.LoadID, WebhookID: j.webhookID, Secret: j.hook.Secret,
		PreviousSecret: j.hook.PreviousSecret, PreviousSecretExpiresAt: j.hook.PreviousSecretExpiresAt, Body: j.body})
	d := h.cfg.Schedule.Decide(j.n, a, h.rand)
	log.at(ctx, slog.LevelInfo, "delivery attempt", slog.String("outcome", a.Outcome), slog.Int("statusCode", a.StatusCode),
		slog.Int64("durationMs", a.LatencyMs), slog.String("next", d.Action.String()))

	rec, err := h.deliveries.RecordAttempt(ctx, claim, a, d.Status)
	switch {
	case errors.Is(err, delivery.ErrClaimLost):
		// Our lease ran out and another invocation took the attempt over: it
		// owns what follows.
		log.at(ctx, slog.LevelWarn, "claim lost")
		return result{}
	case err != nil:
		log.at(ctx, slog.LevelError, "record attempt failed", slog.String("error", err.Error()))
		return result{failed: true}
	}
	switch d.Action {
	case delivery.Retry:
		return result{retry: h.retryMessage(j, j.n+1), delay: d.Delay}
	case delivery.Exhausted:
		return result{alert: h.alertMessage(j, rec)}
	}
	return result{}
}

// jobLog writes a job's log lines, each with the job's identifying keys.
// Unlike slog.Logger.With, which formats those keys once per job whether or
// not it logs, it formats them only for lines actually written (most jobs
// write one).
type jobLog struct {
	log *slog.Logger
	j   *job
}

func (l jobLog) at(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !l.log.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, 5+len(attrs))
	all = append(all,
		slog.String("messageId", l.j.messageID),
		slog.Int64("clientId", l.j.key.ClientID),
		slog.String("loadId", l.j.key.LoadID),
		slog.Int64("hookId", l.j.key.HookID),
		slog.Int("attempt", l.j.n))
	l.log.LogAttrs(ctx, level, msg, append(all, attrs...)...)
}

// onConflict handles a failed claim (see delivery.OnClaimConflict). A claim
// that failed because the record keeps another body repairs nothing: a load
// re-sent with another body keeps its first one, and a retry message with
// another body is not the service's own (dead-lettered).
func (h *handler) onConflict(ctx context.Context, log jobLog, j job, cur *delivery.Record) result {
	if cur != nil && cur.BodyDigest != j.digest {
		if j.n > 1 {
			log.at(ctx, slog.LevelWarn, "retry body does not match its delivery")
			return result{deadLetter: "invalid retry message: body: not the body of its delivery"}
		}
		log.at(ctx, slog.LevelInfo, "load re-sent with another body, first body kept", slog.String("status", cur.Status))
		return result{}
	}
	action := delivery.OnClaimConflict(cur, j.n, h.now())
	status := "missing"
	if cur != nil {
		status = cur.Status
	}
	log.at(ctx, slog.LevelInfo, "attempt not claimed", slog.String("status", status), slog.String("action", action.String()))
	switch action {
	case delivery.Later:
		return result{failed: true}
	case delivery.ReenqueueRetry:
		next := cur.Attempt + 1
		m := h.retryMessage(j, next)
		if len(cur.Attempts) > 0 {
			m.FirstAttemptAt = cur.Attempts[0].At
		}
		return result{retry: m, delay: h.cfg.Schedule.Delay(next, h.rand)}
	case delivery.ReenqueueAlert:
		if !j.active {
			return result{} // deleted or disabled since: no alert
		}
		return result{alert: h.alertMessage(j, *cur)}
	}
	return result{}
}

func (h *handler) retryMessage(j job, n int) *delivery.RetryMessage {
	return &delivery.RetryMessage{
		Kind:           delivery.KindRetry,
		ClientID:       j.key.ClientID,
		LoadID:         j.key.LoadID,
		HookID:         j.key.HookID,
		Attempt:        n,
		WebhookID:      j.webhookID,
		FirstAttemptAt: j.firstAttemptAt,
		Body:           j.body,
	}
}

func (h *handler) alertMessage(j job, rec delivery.Record) *delivery.AlertMessage {
	return &delivery.AlertMessage{
		Kind:            delivery.KindExhausted,
		ClientID:        j.key.ClientID,
		LoadID:          j.key.LoadID,
		HookID:          j.key.HookID,
		HookURL:         hookurl.Redact(j.hook.URL),
		WebhookID:       j.webhookID,
		IntegrationName: j.notification.IntegrationName,
		Tables:          j.notification.TableNames(),
		Attempts:        delivery.LastAttempts(rec.Attempts),
	}
}
