package main

import (
	"sync"
	"time"
)

// Everything an invocation does at once runs on long-lived goroutines: its
// records, their HTTP attempts, and the store and queue calls it makes
// concurrently. net/http and the SDK's middleware grow the stack of the
// goroutine that makes a request, and a new goroutine per job paid that
// stack copy every time (about a tenth of a delivery's CPU in
// BenchmarkDelivery with the in-memory store for the attempts, and 5 % with
// DynamoDB Local for the rest, 1 % now); a worker keeps its grown stack for
// the next job. A
// worker that has waited workerIdle for one ends, so the workers of a burst
// do not outlive it for long. Handing over a job never waits (a new worker
// starts when none is idle), so a record can hand its attempts to the same
// pool. The number of attempts at once is bounded by each invocation
// (invocation.attempts), not here.

const workerIdle = 10 * time.Second

// idleWorkers hands a job to a worker waiting for one.
var idleWorkers = make(chan job)

// job is one record or attempt f, part of wg. It is handed over by value:
// no closure to allocate per job.
type job struct {
	wg *sync.WaitGroup
	f  func()
}

func (j job) run() {
	defer j.wg.Done()
	j.f()
}

// goWork runs f as part of wg, on an idle worker or on a new one.
func goWork(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	j := job{wg, f}
	select {
	case idleWorkers <- j:
	default:
		go worker(j)
	}
}

// worker runs j, then each job handed to it, until it has waited
// workerIdle for one.
func worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		j.run()
		j = job{} // what the job used is not kept while the worker waits
		idle.Reset(workerIdle)
		select {
		case j = <-idleWorkers:
		case <-idle.C:
			return
		}
	}
}
