package eventsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsAPI is the part of the SQS client the poller uses.
type sqsAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Function is what a Poller invokes with each batch: an Invoker posting to
// aws-lambda-rie, or a handler in process (Handler).
type Function interface {
	// Invoke runs the function on the event and returns the message ids it
	// reported in batchItemFailures. An error means the invocation failed
	// and the whole batch must be left on the queue.
	Invoke(ctx context.Context, ev events.SQSEvent) (failed []string, err error)
}

// Poller feeds one queue to one function, as one event source mapping does:
// several workers, each receiving a batch, invoking the function with it and
// deleting what succeeded, independently of the others, so that a slow batch
// holds up only its own messages.
type Poller struct {
	sqs      sqsAPI
	fn       Function
	queueURL string
	queueARN string
	region   string
	// BatchSize is the most messages per batch (the mapping's BatchSize,
	// 1 to 10; 10 unless set).
	BatchSize int32
	// Wait is the long-poll wait of each receive (0 to 20 s; 20 s unless set).
	Wait time.Duration
	// VisibilityTimeout, when not 0, is the visibility timeout (seconds) of
	// the messages a receive takes, instead of the queue's. Tests set a
	// short one: a receive whose answer the SDK lost and retried (goaws
	// under load) has hidden its messages, and they must come back within
	// the test's time.
	VisibilityTimeout int32
	// FinishBatches, when set, lets a received batch's invocation and its
	// deletes run to their end after ctx ends, as Lambda finishes an
	// invocation it started (a benchmark stops polling while batches may
	// still run). Unset, they end with ctx, so a stopped event source stops
	// at once.
	FinishBatches bool
	log           *slog.Logger
	now           func() time.Time
	// MaxConcurrency bounds the workers, and so the invocations in flight,
	// as ScalingConfig.MaximumConcurrency bounds a mapping's
	// (DefaultMaxConcurrency unless set).
	MaxConcurrency int
	// Function, when set, is the invoked function's concurrency, shared
	// with the pollers of its other queues: a worker starts only while the
	// Limit has room (see Limit).
	Function *Limit
	// OnBatch, when set, is called by Run's workers with the outcome of
	// each receive that returned messages or failed (benchmarks count
	// batches and errors with it). It must be safe for concurrent use.
	OnBatch func(BatchResult, error)

	mu sync.Mutex
	// workers is how many workers run now.
	workers int
	// receives counts how often this poller received each message: goaws
	// v0.5.4 always reports ApproximateReceiveCount 1, so the poller
	// supplies the count Lambda would see. Only this poller consumes the
	// queue locally, so its count is the queue's count.
	receives map[string]receiveCount
}

type receiveCount struct {
	n    int
	last time.Time
}

// forgetAfter bounds the receive-count memory: a message not seen for this
// long has been deleted by someone else or moved to its DLQ.
const forgetAfter = 24 * time.Hour

// initialWorkers is how many workers a mapping starts with, as Lambda starts
// with five pollers.
const initialWorkers = 5

// DefaultMaxConcurrency is the workers' bound unless set.
const DefaultMaxConcurrency = 10

// New returns a Poller of the queue at queueURL (its ARN, which the events
// carry as eventSourceARN, is read from the queue) invoking fn, logging to
// log. Set its exported fields before Run or PollOnce.
func New(ctx context.Context, c sqsAPI, queueURL, region string, fn Function, log *slog.Logger) (*Poller, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", queueURL, err)
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return nil, fmt.Errorf("queue %s: no QueueArn attribute", queueURL)
	}
	return &Poller{
		sqs: c, fn: fn, queueURL: queueURL, queueARN: arn, region: region,
		BatchSize: 10, Wait: 20 * time.Second, MaxConcurrency: DefaultMaxConcurrency,
		log: log.With("queue", queueURL), now: time.Now,
		receives: map[string]receiveCount{},
	}, nil
}

// Run polls until ctx ends, scaling with the backlog as Lambda does: it
// starts initialWorkers workers (fewer if MaxConcurrency or the Function's
// Limit is lower, never none), adds one each time a worker receives
// messages, up to MaxConcurrency and while the Function's Limit has room,
// and lets a worker beyond the initial ones go when its receive comes back
// empty.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range min(initialWorkers, p.MaxConcurrency) {
		p.grow(ctx, &wg)
	}
	wg.Wait()
}

// grow starts one more worker unless MaxConcurrency already run or the
// Function's Limit is full (the first worker starts whatever the Limit).
func (p *Poller) grow(ctx context.Context, wg *sync.WaitGroup) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers >= p.MaxConcurrency || !p.Function.take(p.workers == 0) {
		return
	}
	p.workers++
	wg.Go(func() { p.work(ctx, wg) })
}

// shrink counts the calling worker out, which must then return, if more
// than the initial ones run.
func (p *Poller) shrink() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers <= min(initialWorkers, p.MaxConcurrency) {
		return false
	}
	p.workers--
	p.Function.give()
	return true
}

// running is how many workers run now.
func (p *Poller) running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers
}

// maxBackoff bounds a worker's wait after failures.
const maxBackoff = 30 * time.Second

// work is one worker: it polls until ctx ends. After a failed poll or a
// failed invocation it waits, 1 s doubling up to maxBackoff, and a failed
// invocation also ends a worker beyond the initial ones: as Lambda backs off
// and scales down when the function fails, so a function that is down or
// failing does not burn the receive count (and the redrive budget) of the
// whole backlog in a moment.
func (p *Poller) work(ctx context.Context, wg *sync.WaitGroup) {
	backoff := time.Second
	for ctx.Err() == nil {
		res, err := p.PollOnce(ctx)
		if p.OnBatch != nil && (err != nil || res.Received > 0) {
			p.OnBatch(res, err)
		}
		if err == nil && !res.Failed {
			backoff = time.Second
			if res.Received > 0 {
				p.grow(ctx, wg)
			} else if p.shrink() {
				return
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.log.Warn("poll failed", "error", err.Error())
		} else if p.shrink() {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
	p.mu.Lock()
	p.workers--
	p.Function.give()
	p.mu.Unlock()
}

// BatchResult says what became of one received batch.
type BatchResult struct {
	Failed   bool // the invocation failed: the whole batch was left
	Received int
	Deleted  []string // message ids
	Left     []string // message ids left to reappear
}

// PollOnce receives at most one batch, invokes the function with it and
// deletes what succeeded. An invocation failure is not an error of the
// poller: the batch is left, as Lambda leaves it.
func (p *Poller) PollOnce(ctx context.Context) (BatchResult, error) {
	out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.queueURL),
		MaxNumberOfMessages:         p.BatchSize,
		WaitTimeSeconds:             int32(p.Wait / time.Second),
		VisibilityTimeout:           p.VisibilityTimeout,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return BatchResult{}, nil
	}
	ev := p.event(out.Messages)
	res := BatchResult{Received: len(ev.Records)}
	start := p.now()
	if p.FinishBatches {
		ctx = context.WithoutCancel(ctx)
	}
	failed, err := p.fn.Invoke(ctx, ev)
	if err == nil {
		err = checkFailures(ev, failed)
	}
	if err != nil {
		res.Failed = true
		for _, r := range ev.Records {
			res.Left = append(res.Left, r.MessageId)
		}
		p.log.Warn("invocation failed, batch left", "error", err.Error(), "messages", len(ev.Records),
			"durationMs", p.now().Sub(start).Milliseconds(), "workers", p.running())
		return res, nil
	}
	isFailed := map[string]bool{}
	for _, id := range failed {
		isFailed[id] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, r := range ev.Records {
		if isFailed[r.MessageId] {
			res.Left = append(res.Left, r.MessageId)
			continue
		}
		res.Deleted = append(res.Deleted, r.MessageId)
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)})
	}
	p.log.Info("batch done", "messages", len(ev.Records), "deleted", len(res.Deleted), "left", len(res.Left),
		"durationMs", p.now().Sub(start).Milliseconds(), "workers", p.running())
	if len(del) == 0 {
		return res, nil
	}
	dout, err := p.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: del})
	if err != nil {
		return res, fmt.Errorf("delete: %w", err)
	}
	if len(dout.Failed) > 0 {
		return res, fmt.Errorf("delete: %w: %d of %d entries (first: %s)", ErrNotDeleted, len(dout.Failed), len(del), aws.ToString(dout.Failed[0].Message))
	}
	p.forget(res.Deleted)
	return res, nil
}

// ErrNotDeleted marks a batch whose delete the queue refused for some
// entries (a receipt handle gone stale because the message became visible
// and was received again): those messages come back, as in Lambda.
var ErrNotDeleted = errors.New("messages not deleted")

// ErrBadResponse marks a batch response Lambda would reject as a whole.
var ErrBadResponse = errors.New("invalid batchItemFailures")

// checkFailures applies Lambda's rule: an empty or unknown itemIdentifier
// fails the whole batch.
func checkFailures(ev events.SQSEvent, failed []string) error {
	inBatch := map[string]bool{}
	for _, r := range ev.Records {
		inBatch[r.MessageId] = true
	}
	for _, id := range failed {
		if !inBatch[id] {
			return fmt.Errorf("%w: itemIdentifier %q is not a messageId of the batch", ErrBadResponse, id)
		}
	}
	return nil
}

// event builds the SQS event Lambda would pass for these messages.
func (p *Poller) event(msgs []types.Message) events.SQSEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for id, c := range p.receives {
		if now.Sub(c.last) > forgetAfter {
			delete(p.receives, id)
		}
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		id := aws.ToString(m.MessageId)
		c := p.receives[id]
		c.n++
		c.last = now
		p.receives[id] = c

		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		attrs[string(types.MessageSystemAttributeNameApproximateReceiveCount)] = strconv.Itoa(c.n)
		if _, ok := attrs[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)]; !ok {
			attrs[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)] = strconv.FormatInt(now.UnixMilli(), 10)
		}
		mattrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: append([]string{}, v.StringListValues...),
				BinaryListValues: append([][]byte{}, v.BinaryListValues...),
				DataType:         aws.ToString(v.DataType),
			}
			mattrs[k] = a
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              id,
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         p.queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.region,
		})
	}
	return ev
}

func (p *Poller) forget(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		delete(p.receives, id)
	}
}

// Handler makes a Function of a handler run in process, such as a
// function's handle method: the ids it reports in batchItemFailures are the
// failed records, and an error fails the invocation.
func Handler(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) Function {
	return handlerFunc(h)
}

type handlerFunc func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

func (h handlerFunc) Invoke(ctx context.Context, ev events.SQSEvent) ([]string, error) {
	resp, err := h(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFunction, err)
	}
	return failedIDs(resp)
}
