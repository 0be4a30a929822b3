// Command eventsource is the local stand-in for Lambda's SQS event source
// mapping (package scripts/devkit/eventsource, run on its own).
// It long-polls one or more queues on a local SQS emulator (goaws), hands each
// batch of up to 10 messages to a function as an events.SQSEvent, and then
// does what Lambda does with the answer: with ReportBatchItemFailures it
// deletes the records the function did not report, leaves the reported ones
// to reappear after the visibility timeout, and leaves the whole batch when
// the invocation fails.
//
// Like Lambda it runs batches concurrently, each on its own: every queue
// starts with five workers (each receives a batch, invokes the function and
// deletes what succeeded), gains one each time a worker receives messages and
// loses the extra ones when the queue is empty, never more than
// -max-concurrency per queue (ScalingConfig.MaximumConcurrency) and never more
// than -function-concurrency for all the queues together (the function's
// concurrency: the -size of its riepool, so no worker receives messages while
// every emulator is busy), so a batch stuck on a hanging endpoint holds up
// nothing but itself. After a failed
// invocation a worker waits (1 s, doubling up to 30 s) and an extra one
// leaves, as Lambda backs off when the function fails: a function that is
// down does not use up the receive count of the whole backlog at once. aws-lambda-rie
// runs one invocation at a time, so -function-url names a scripts/devkit/cmd/riepool
// sized for the queues' concurrency together, as scripts/dev and
// scripts/chaos start it.
//
// It does not redrive to dead-letter queues: that is the queue's own job and
// goaws does it (a message whose visibility times out maxReceiveCount times
// moves to the DLQ). It is a development tool and is never deployed.
//
//	eventsource -function-url http://127.0.0.1:9101/2015-03-31/functions/function/invocations \
//	    -max-concurrency 10 -function-concurrency 20 \
//	    -queue http://127.0.0.1:4100/000000000000/post-load-notifications \
//	    -queue http://127.0.0.1:4100/000000000000/post-load-retries
//
// With -schedule it polls no queue: it is the local EventBridge schedule of a
// SAM Schedule event, and invokes the function with a scheduled event every
// period (package eventsource's Schedule), as scripts/dev runs the freshness
// check:
//
//	eventsource -function-url http://127.0.0.1:9103/2015-03-31/functions/function/invocations \
//	    -schedule 1m -rule FreshnessCheck
//
// AWS settings (region, credentials, AWS_ENDPOINT_URL_SQS) come from the
// environment, as for every SDK client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/eventsource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "eventsource:", err)
		os.Exit(1)
	}
}

// queueList collects repeated -queue flags.
type queueList []string

func (q *queueList) String() string { return strings.Join(*q, ",") }
func (q *queueList) Set(v string) error {
	*q = append(*q, v)
	return nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("eventsource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var queues queueList
	fs.Var(&queues, "queue", "queue URL to poll (repeatable)")
	functionURL := fs.String("function-url", "", "the function's RIE invoke URL (…/2015-03-31/functions/function/invocations)")
	batchSize := fs.Int("batch-size", 10, "BatchSize of the event source mapping (1-10)")
	wait := fs.Duration("wait", 20*time.Second, "long-poll wait per ReceiveMessage (0-20s)")
	timeout := fs.Duration("function-timeout", 60*time.Second, "the function's timeout; an invocation taking longer fails the batch")
	maxConcurrency := fs.Int("max-concurrency", eventsource.DefaultMaxConcurrency, "most batches in flight per queue, as ScalingConfig.MaximumConcurrency (2-1000)")
	functionConcurrency := fs.Int("function-concurrency", 0, "most batches in flight for all the queues together: the function's concurrency, the -size of its riepool (default: -max-concurrency times the number of queues)")
	name := fs.String("name", "", "name used in log lines (default: the function URL)")
	schedule := fs.Duration("schedule", 0, "instead of polling queues, invoke the function with a scheduled event this often (a SAM Schedule event)")
	rule := fs.String("rule", "Schedule", "with -schedule: the schedule's name, in the event's resources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *schedule != 0 {
		return runSchedule(ctx, *functionURL, *schedule, *rule, *timeout, *name, stderr, len(queues))
	}
	var missing []string
	if *functionURL == "" {
		missing = append(missing, "-function-url")
	}
	if len(queues) == 0 {
		missing = append(missing, "-queue")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if *batchSize < 1 || *batchSize > 10 {
		return fmt.Errorf("-batch-size %d: want 1 to 10", *batchSize)
	}
	if *maxConcurrency < 2 || *maxConcurrency > 1000 {
		return fmt.Errorf("-max-concurrency %d: want 2 to 1000", *maxConcurrency)
	}
	if *functionConcurrency == 0 {
		*functionConcurrency = *maxConcurrency * len(queues)
	}
	if *functionConcurrency < len(queues) {
		return fmt.Errorf("-function-concurrency %d: want at least one per queue (%d)", *functionConcurrency, len(queues))
	}
	if *wait < 0 || *wait > 20*time.Second {
		return fmt.Errorf("-wait %s: want 0 to 20s", *wait)
	}
	if *name == "" {
		*name = *functionURL
	}

	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("function", *name)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	client := sqs.NewFromConfig(cfg)
	inv := &eventsource.Invoker{URL: *functionURL, Client: &http.Client{
		Timeout:   *timeout + 10*time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *functionConcurrency},
	}}
	limit := eventsource.NewLimit(*functionConcurrency)

	var pollers []*eventsource.Poller
	for _, q := range queues {
		p, err := eventsource.New(ctx, client, q, cfg.Region, inv, log)
		if err != nil {
			return err
		}
		p.BatchSize, p.Wait, p.MaxConcurrency, p.Function = int32(*batchSize), *wait, *maxConcurrency, limit
		pollers = append(pollers, p)
	}
	log.Info("polling", "queues", []string(queues), "maxConcurrency", *maxConcurrency, "functionConcurrency", *functionConcurrency)

	var wg sync.WaitGroup
	for _, p := range pollers {
		wg.Go(func() { p.Run(ctx) })
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}

// runSchedule is the -schedule mode: the local EventBridge schedule
// (eventsource.Schedule).
func runSchedule(ctx context.Context, functionURL string, every time.Duration, rule string, timeout time.Duration, name string, stderr io.Writer, queues int) error {
	switch {
	case functionURL == "":
		return errors.New("missing -function-url")
	case queues > 0:
		return errors.New("-schedule and -queue: give one or the other")
	case every < time.Second:
		return fmt.Errorf("-schedule %s: want at least 1s", every)
	}
	if name == "" {
		name = functionURL
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("function", name)
	inv := &eventsource.Invoker{URL: functionURL, Client: &http.Client{Timeout: timeout + 10*time.Second}}
	log.Info("scheduling", "rule", rule, "every", every.String())
	eventsource.Schedule(ctx, inv, rule, every, log)
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}
