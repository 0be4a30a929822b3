package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/deadletter"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/store"
)

// claimLease is how long one invocation holds an alert. It outlasts the
// function's 30 s timeout, so a live invocation never loses its claim, and
// is shorter than the alerts queue's 180 s visibility timeout, so the
// redelivery that follows a crashed invocation finds the claim free.
const claimLease = 90 * time.Second

// accounts finds the account of an alert (store.Store).
type accounts interface {
	// Account returns the account, or an error wrapping hook.ErrNotFound.
	Account(ctx context.Context, clientID int64) (hook.Account, error)
}

// alertLedger keeps which alerts were sent to whom (store.Store); see
// store.ClaimAlert for the errors.
type alertLedger interface {
	ClaimAlert(ctx context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (store.AlertClaim, error)
	AlertSentTo(ctx context.Context, c *store.AlertClaim, recipient string) error
	FinishAlert(ctx context.Context, c store.AlertClaim) error
	ReleaseAlert(ctx context.Context, c store.AlertClaim) error
}

// digestBook places exhausted deliveries in their hook's alert window and
// takes a window's digest (store.Store); see store.NoteExhausted.
type digestBook interface {
	NoteExhausted(ctx context.Context, clientID, hookID int64, e store.DigestEntry, window time.Duration) (store.DigestWindow, bool, error)
	SealDigest(ctx context.Context, w store.DigestWindow) ([]store.DigestEntry, error)
}

// emailSender sends one email (the SES v2 client).
type emailSender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// messageSender puts one message on an SQS queue (the SQS client).
type messageSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// handler handles batches of the alerts queue.
type handler struct {
	accounts accounts
	alerts   alertLedger
	digests  digestBook
	ses      emailSender
	queue    messageSender
	from     string
	// alertQueueARN is the only event source whose records are read.
	alertQueueARN string
	// deadLetterURL is the alerts queue's dead-letter queue.
	deadLetterURL string
	// alertQueueURL is the alerts queue, for the delayed digest messages.
	alertQueueURL string
	// window is the digest window (HOOKS_DIGEST_WINDOW).
	window time.Duration
	// health keeps the hooks' health; nil turns auto-disable off (no
	// retry queue to queue probes on).
	health      hookHealth
	autoDisable hook.AutoDisable
	// probes is the dispatcher's probe schedule, as the disable email
	// names it.
	probes hook.ProbeSchedule
	// retryQueueURL is the dispatcher's retry queue, where probes go.
	retryQueueURL string
	// links makes each recipient's links (web app, unsubscribe).
	links linkMaker
	// fresh and events are the freshness check's rules and states, and
	// where its event notifications go (nil events: the check is off);
	// checkEvery is the schedule's period (HOOKS_FRESHNESS_CHECK_EVERY).
	fresh      freshnessBook
	events     eventQueuer
	checkEvery time.Duration
	log        *slog.Logger
	now        func() time.Time
}

// event is what the alerter is invoked with: a batch of the alerts queue
// (Records), or the freshness schedule's event (source "aws.events",
// detail-type "Scheduled Event").
type event struct {
	Records    []events.SQSMessage `json:"Records"`
	Source     string              `json:"source"`
	DetailType string              `json:"detail-type"`
}

// isSchedule reports whether ev is the scheduled event.
func (ev event) isSchedule() bool {
	return len(ev.Records) == 0 && ev.Source == "aws.events" && ev.DetailType == "Scheduled Event"
}

// invoke runs a freshness check for the scheduled event (answering null,
// or an error when the check could not finish everything: the next one
// carries on), and handles any other event as a batch of the alerts queue.
func (h *handler) invoke(ctx context.Context, ev event) (*events.SQSEventResponse, error) {
	if !ev.isSchedule() {
		resp, err := h.handle(ctx, events.SQSEvent{Records: ev.Records})
		return &resp, err
	}
	if h.events == nil {
		h.log.ErrorContext(ctx, "freshness check is off: HOOKS_RETRY_QUEUE_URL is not set")
		return nil, nil
	}
	return nil, h.checkFreshness(ctx)
}

// handle processes every record of the batch on its own, in order, and
// reports the ones to retry. It never fails the whole batch. Alerts are
// rare, so records are handled one after the other: a duplicate of a
// message in the same batch then simply finds the alert sent.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// An empty list, not null: every record succeeded.
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range ev.Records {
		if !h.process(ctx, r) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// process handles one record and reports whether it is done (true: delete
// it from the queue) or must be retried (false: a batch item failure, which
// the queue redelivers after its visibility timeout and moves to the DLQ
// after maxReceiveCount receives).
func (h *handler) process(ctx context.Context, r events.SQSMessage) bool {
	start := h.now()
	log := h.log.With(slog.String("messageId", r.MessageId))

	kind, err := h.kindOf(r)
	if err != nil {
		// Never valid, however often it is retried.
		return h.deadLetter(ctx, log, r, err.Error())
	}
	switch kind {
	case delivery.KindDigest:
		return h.processDigest(ctx, log, r, start)
	case delivery.KindReenabled:
		return h.processReenabled(ctx, log, r)
	}
	msg, err := delivery.DecodeAlert([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, log, r, err.Error())
	}
	log = log.With(slog.Int64("clientId", msg.ClientID), slog.String("loadId", msg.LoadID), slog.Int64("hookId", msg.HookID))
	if !h.checkHealth(ctx, log, msg) {
		return false
	}

	to, ok, done := h.recipientsOf(ctx, log, msg.ClientID)
	if !ok {
		return done
	}

	// With digests on, the first exhausted delivery of a window is mailed
	// now and the others wait for the window's digest.
	if h.window > 0 {
		if sendNow, ok := h.noteForDigest(ctx, log, msg); !sendNow {
			return ok
		}
	}
	render := func(rcpt string) (mail.Email, error) {
		return mail.RenderFor(msg, h.now(), h.links.forRecipient(msg.ClientID, rcpt, h.now())), nil
	}
	// One alert per exhausted sequence: a resent delivery exhausted again
	// is alerted again, a duplicate message is not.
	sent, ok := h.sendOnce(ctx, log, msg.ClientID, delivery.AlertLoadID(msg.LoadID, msg.AttemptCount), msg.HookID, to, render)
	if !ok {
		return false
	}
	log.InfoContext(ctx, "alert sent", slog.Int("recipients", len(to)), slog.Int("sent", sent),
		slog.Int64("durationMs", h.now().Sub(start).Milliseconds()))
	return true
}

// noteForDigest places the exhausted delivery in its hook's window.
// sendNow is true when it is the window's first, to be mailed now (its
// digest message is queued first), false when it is kept for the digest;
// ok is false when the record must be retried.
func (h *handler) noteForDigest(ctx context.Context, log *slog.Logger, msg delivery.AlertMessage) (sendNow, ok bool) {
	w, first, err := h.digests.NoteExhausted(ctx, msg.ClientID, msg.HookID, entryOf(msg), h.window)
	if err != nil {
		log.ErrorContext(ctx, "place alert in its window failed", slog.String("error", err.Error()))
		return false, false
	}
	if !first {
		log.InfoContext(ctx, "alert kept for the digest", slog.Time("windowEnd", w.End))
		return false, true
	}
	// Before the email: if this fails the message is retried, finds itself
	// first again and queues the digest message again (the digest is sent
	// once however many messages ask for it).
	if err := h.queueDigest(ctx, delivery.DigestMessage{Kind: delivery.KindDigest, ClientID: msg.ClientID, HookID: msg.HookID,
		HookURL: hookurl.Redact(msg.HookURL), WindowStart: w.Start, WindowEnd: w.End}); err != nil {
		log.ErrorContext(ctx, "queue digest failed", slog.String("error", err.Error()))
		return false, false
	}
	return true, true
}

// recipientsOf returns the alert addresses of the account. When ok is false
// there is nothing to send, and done says whether the record is finished
// (an unknown account or one without addresses: logged, acknowledged) or
// must be retried (the lookup failed).
func (h *handler) recipientsOf(ctx context.Context, log *slog.Logger, clientID int64) (to []string, ok, done bool) {
	acct, err := h.accounts.Account(ctx, clientID)
	if errors.Is(err, hook.ErrNotFound) {
		log.WarnContext(ctx, "alert for unknown account, dropped")
		return nil, false, true
	}
	if err != nil {
		log.ErrorContext(ctx, "account lookup failed", slog.String("error", err.Error()))
		return nil, false, false
	}
	to = recipients(acct.AlertEmails)
	if len(to) == 0 {
		log.WarnContext(ctx, "account has no alert addresses, alert dropped")
		return nil, false, true
	}
	return to, true, true
}

// sendOnce sends the email that render makes for each recipient, each
// address at most once for the alert (clientID, loadID, hookID) however
// often it is called (the alert ledger). It returns how many it sent now
// and whether the record is done.
func (h *handler) sendOnce(ctx context.Context, log *slog.Logger, clientID int64, loadID string, hookID int64, to []string, render func(rcpt string) (mail.Email, error)) (int, bool) {
	claim, err := h.alerts.ClaimAlert(ctx, clientID, loadID, hookID, claimLease)
	switch {
	case errors.Is(err, store.ErrAlertSent):
		log.InfoContext(ctx, "alert already sent, duplicate message acknowledged")
		return 0, true
	case errors.Is(err, store.ErrAlertBusy):
		log.WarnContext(ctx, "alert being sent by another invocation, retry later")
		return 0, false
	case err != nil:
		log.ErrorContext(ctx, "claim alert failed", slog.String("error", err.Error()))
		return 0, false
	}

	sent, done := h.sendAll(ctx, log, &claim, to, render)
	if !done {
		if err := h.alerts.ReleaseAlert(ctx, claim); err != nil {
			// The lease runs out on its own; the retry waits for it.
			log.WarnContext(ctx, "release alert claim failed", slog.String("error", err.Error()))
		}
		return sent, false
	}
	if err := h.alerts.FinishAlert(ctx, claim); err != nil {
		// Every recipient is recorded: the retry sends nothing more and
		// finishes.
		log.ErrorContext(ctx, "finish alert failed", slog.String("error", err.Error()))
		return sent, false
	}
	return sent, true
}

// deadLetter moves a malformed record to the alerts queue's dead-letter
// queue with its reason, and acknowledges it (package deadletter). If that
// send fails the record is reported as failed, so SQS redelivers it (and
// the queue's redrive policy ends the loop).
func (h *handler) deadLetter(ctx context.Context, log *slog.Logger, r events.SQSMessage, reason string) bool {
	log.WarnContext(ctx, "malformed message", slog.String("reason", reason))
	if err := deadletter.Send(ctx, h.queue, h.deadLetterURL, r.Body, reason); err != nil {
		log.ErrorContext(ctx, "dead-letter send failed", slog.String("error", err.Error()))
		return false
	}
	return true
}

// recipients returns the addresses to alert: trimmed, without empty ones,
// each address once (compared case-insensitively), in the account's order.
func recipients(emails []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range emails {
		e = strings.TrimSpace(e)
		k := store.RecipientKey(e)
		if e == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
