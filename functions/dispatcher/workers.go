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
var idleWorkers = make(chan job)

// job is one attempt f, part of wg. It is handed over by value: no closure
// to allocate per attempt.
type job struct {
	wg *sync.WaitGroup
	f  func()
}

func (j job) run() {
	defer j.wg.Done()
	j.f()
}

// goAttempt runs f as part of wg, on an idle worker or on a new one.
func goAttempt(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	j := job{wg, f}
	select {
	case idleWorkers <- j:
	default:
		go worker(j)
	}
}

// worker runs j, then each attempt handed to it, until it has waited
// workerIdle for one.
func worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		j.run()
		j = job{} // what the attempt used is not kept while the worker waits
		idle.Reset(workerIdle)
		select {
		case j = <-idleWorkers:
		case <-idle.C:
			return
		}
	}
}
