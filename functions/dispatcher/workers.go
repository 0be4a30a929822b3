package main

import (
	"sync"
	"time"
)

// The HTTP attempts run on long-lived goroutines. net/http grows the stack
// of the goroutine that makes a request, and a new goroutine per attempt
// paid that stack copy every time (about a tenth of a delivery's CPU in
// BenchmarkDelivery with the in-memory store); a worker keeps its grown
// stack for the next attempt. A worker that has waited workerIdle for one
// ends, so the workers of a burst do not outlive it for long. The number
// of attempts at once is bounded by each invocation (invocation.attempts),
// not here.

const workerIdle = 10 * time.Second

// idleWorkers hands an attempt to a worker waiting for one.
var idleWorkers = make(chan func())

// goAttempt runs f as part of wg, on an idle worker or on a new one.
func goAttempt(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	job := func() {
		defer wg.Done()
		f()
	}
	select {
	case idleWorkers <- job:
	default:
		go worker(job)
	}
}

// worker runs job, then each attempt handed to it, until it has waited
// workerIdle for one.
func worker(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		job = nil // what the attempt used is not kept while the worker waits
		idle.Reset(workerIdle)
		select {
		case job = <-idleWorkers:
		case <-idle.C:
			return
		}
	}
}
