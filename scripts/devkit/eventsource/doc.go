// Package eventsource is the local stand-in for Lambda's SQS event source
// mapping, the one scripts/dev and scripts/chaos run (through the
// eventsource command) and the tests and benchmarks use in process.
//
// A Poller receives batches of up to 10 messages from one queue on the SQS
// emulator (goaws), hands each to a Function as an events.SQSEvent (with the
// attributes Lambda adds, among them an ApproximateReceiveCount goaws does
// not keep), and then does what Lambda does with the answer: with
// ReportBatchItemFailures it deletes the records the function did not
// report, leaves the reported ones to reappear after the visibility
// timeout, and leaves the whole batch when the invocation fails; an empty
// or unknown itemIdentifier fails the whole batch.
//
// Run works as a mapping does: five workers at first, one more each time a
// worker receives messages, the extra ones gone once the queue is empty,
// never more than MaxConcurrency, and with the pollers of the function's
// other queues never more than the function's concurrency (a shared Limit,
// sized as its pool of emulators); after a failed invocation a worker waits
// (1 s, doubling up to 30 s) and an extra one leaves. OnBatch reports each
// batch's outcome, for benchmarks that run the event source as scripts/dev
// does. PollOnce is one
// receive, invoke and delete, for tests that step the event source
// themselves.
//
// Schedule is the local stand-in for an EventBridge schedule (a SAM
// Schedule event): it invokes a function with the scheduled event every
// period, one invocation after the other, as scripts/dev runs the freshness
// check.
//
// It does not redrive to dead-letter queues: that is the queue's own job and
// goaws does it. It is a development tool and is never deployed.
package eventsource
