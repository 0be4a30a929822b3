package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// One invocation processes each record of its batch on its own, all at
// once, and each record's story is told in one place (process):
//
//  1. classify.go: the record is a load message, a retry message, or
//     malformed (dead-lettered with its reason);
//  2. accounts.go: its account and hooks, read once per invocation for all
//     the batch's records of that client;
//  3. deliver.go: a load message claims attempt 1 of every enabled hook of
//     its destination in one write of the load's delivery record, makes
//     those attempts concurrently and records every result in one write; a
//     retry message claims, attempts and records its one hook;
//  4. run.go: a load message that names its run is counted in it, when a
//     hook wants run summaries; a run timer claims its run's summary;
//  5. enqueue.go: the retries (each with its own delay) and alerts those
//     results call for, and a run's timer and summary, are queued.
//
// The record's fate is decided there: acknowledged, reported in
// batchItemFailures when a step that must not be lost did not finish (a
// store or queue error, or an attempt another invocation is still making;
// SQS redelivers it and the delivery record makes the replay skip what was
// done), or dead-lettered. A record identical to another of the same batch
// (a duplicate delivery by SQS) shares that record's processing and fate.

// accountReader reads an account and all its hooks in one consistent read.
type accountReader interface {
	AccountWithHooks(ctx context.Context, clientID int64) (hook.Account, []hook.Hook, error)
}

// deliveryStore keeps the delivery records, one per load (see package
// store).
type deliveryStore interface {
	ClaimLoad(ctx context.Context, l delivery.Load, hookIDs []int64, token string, lease time.Duration) ([]delivery.Claim, map[int64]*delivery.Record, error)
	ClaimHook(ctx context.Context, c delivery.Claim, bodyDigest string, lease time.Duration) (bool, *delivery.Record, error)
	RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error)
	CancelHook(ctx context.Context, c delivery.Claim) error
	// ClaimLoadDeferring is ClaimLoad leaving the hooks that got no
	// in-flight slot waiting for attempt 1 (inflight.go).
	ClaimLoadDeferring(ctx context.Context, l delivery.Load, hookIDs, deferIDs []int64, token string, lease time.Duration) ([]delivery.Claim, []int64, map[int64]*delivery.Record, error)
	slotStore
	sequenceWriter
}

// loadClock records a ruled table's last successful load (store.Store's
// RecordTableLoad), which starts its freshness rule's clock again.
type loadClock interface {
	RecordTableLoad(ctx context.Context, clientID int64, k hook.FreshnessKey, at time.Time) error
}

// webhookSender makes one signed HTTP attempt.
type webhookSender interface {
	Deliver(ctx context.Context, r webhook.Request) delivery.Attempt
}

// messageSender puts one message on an SQS queue; it must be safe for
// concurrent use (the SDK client is).
type messageSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// leaseMargin is added to the attempt timeout to make the claim's lease:
// the time the store and clock need beyond the HTTP attempt itself.
const leaseMargin = 5 * time.Second

// maxConcurrentJobs bounds the HTTP attempts run at once. It is the most one
// batch can hold (10 records x 10 hooks), so every attempt of a batch runs
// in parallel and a batch of timeouts still ends within one attempt timeout,
// well inside the function's 60 s.
const maxConcurrentJobs = 10 * hook.MaxHooks

// errNothingProcessed is returned (with the response) when every record of a
// non-empty batch failed, so the whole batch is retried.
var errNothingProcessed = errors.New("no record of the batch could be processed")

type handler struct {
	cfg        config
	accounts   accountReader
	deliveries deliveryStore
	freshness  loadClock
	webhooks   webhookSender
	queue      messageSender
	health     healthStore // health.go
	runs       runStore    // run.go
	log        *slog.Logger
	metrics    *metrics
	now        func() time.Time
	rand       func() float64 // in [0, 1), for retry jitter
}

// invocation is what the records of one batch share: the account cache,
// the bounds on attempts and sends in flight, and the fate of each distinct record.
type invocation struct {
	accounts *accountCache
	loads    *loadClocks
	attempts chan struct{}
	sends    chan struct{}
	mu       sync.Mutex
	records  map[recordKey]*fate
	seq      *sequencer   // the numbers of the batch's loads (sequence.go)
	slots    *gate        // the batch's in-flight slots (inflight.go)
	tally    tally        // its attempts, for the delivery metrics (metrics.go)
	keys     webhook.Keys // its attempts' signing MACs, one keying per hook secret
}

// recordKey tells identical records apart from others: same queue, same
// body.
type recordKey struct{ source, body string }

// fate is the outcome of one distinct record, shared by its duplicates.
type fate struct {
	done   chan struct{}
	failed bool
}

func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	inv := &invocation{
		accounts: newAccountCache(h),
		loads:    &loadClocks{h: h, m: map[loadClockKey]*loadClockWrite{}},
		attempts: make(chan struct{}, maxConcurrentJobs),
		sends:    make(chan struct{}, maxConcurrentSends),
		records:  map[recordKey]*fate{},
	}
	loads := map[recordKey]bool{}
	for _, r := range ev.Records {
		if r.EventSourceARN == h.cfg.NotificationsQueueARN {
			loads[recordKey{r.EventSourceARN, r.Body}] = true
		}
	}
	inv.seq = newSequencer(h.deliveries, len(loads))
	inv.slots = newGate(h, len(ev.Records))
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, r := range ev.Records {
		goWork(&wg, func() { failed[i] = h.processOnce(ctx, inv, r) }) // workers.go
	}
	wg.Wait()
	inv.slots.release(ctx)
	h.metrics.attempts(&inv.tally)

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, r := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	if len(ev.Records) > 0 && len(resp.BatchItemFailures) == len(ev.Records) {
		h.log.ErrorContext(ctx, "batch failed", "records", len(ev.Records))
		return resp, errNothingProcessed
	}
	return resp, nil
}

// processOnce processes r, or waits for the identical record of the batch
// that is being processed and takes its fate. It reports whether r failed.
func (h *handler) processOnce(ctx context.Context, inv *invocation, r events.SQSMessage) bool {
	k := recordKey{r.EventSourceARN, r.Body}
	slot := inv.slots.arrival()
	defer slot.pass(ctx) // a record that attempts nothing still lets the batch through
	inv.mu.Lock()
	f, dup := inv.records[k]
	if !dup {
		f = &fate{done: make(chan struct{})}
		inv.records[k] = f
	}
	inv.mu.Unlock()
	if dup {
		slot.pass(ctx)
		<-f.done
		return f.failed
	}
	st := inv.seq.seat()
	f.failed = h.process(ctx, inv, slot, r, st)
	if r.EventSourceARN == h.cfg.NotificationsQueueARN {
		st.leave(ctx)
	}
	close(f.done)
	return f.failed
}

// process is one record's story; it reports whether the record failed
// (SQS redelivers it). A load record takes its in-flight slots through
// slot (inflight.go), and asks the invocation's sequencer for its number
// through st, or leaves it (sequence.go).
func (h *handler) process(ctx context.Context, inv *invocation, slot *arrival, r events.SQSMessage, st *seat) bool {
	if r.EventSourceARN == h.cfg.RetryQueueARN && delivery.IsProbe([]byte(r.Body)) {
		return h.processProbe(ctx, inv, r) // probe.go
	}
	if r.EventSourceARN == h.cfg.RetryQueueARN && delivery.IsRunTimer([]byte(r.Body)) {
		return h.processRunTimer(ctx, r) // run.go
	}
	w, reason := h.classify(r)
	if reason != "" {
		return h.deadLetter(ctx, r, reason)
	}
	failed := w.load != nil && w.load.Status == notify.StatusFailed
	if failed {
		h.skip(ctx, r.MessageId, w.load.ClientID, w.load.LoadID, skipLoadFailed)
		if w.load.Run == nil || w.load.Notification == nil {
			return false
		}
		// Sent to no hook, but counted in its run (below).
	}
	acct := inv.accounts.get(ctx, w.clientID())
	if acct.err != nil && !errors.Is(acct.err, hook.ErrNotFound) {
		h.log.ErrorContext(ctx, "account read failed", "messageId", r.MessageId, "clientId", w.clientID(), "error", acct.err.Error())
		return true
	}
	var out outcome
	switch {
	case w.load != nil:
		if !failed {
			out = h.deliverLoad(ctx, inv, slot, r.MessageId, w, acct, st)
		}
		if !out.failed && out.deadLetter == "" {
			out.add(h.countInRun(ctx, r, w.load, acct)) // run.go
		}
	case w.event != nil:
		out = h.deliverEvent(ctx, inv, slot, r.MessageId, w, acct) // event.go
	default:
		out = h.deliverRetry(ctx, inv, slot, r.MessageId, w, acct)
	}
	if out.deadLetter != "" {
		return h.deadLetter(ctx, r, out.deadLetter)
	}
	if !h.enqueue(ctx, inv, r.MessageId, out.msgs) {
		return true
	}
	return out.failed
}
