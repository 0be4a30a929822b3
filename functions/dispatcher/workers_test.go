package main

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestGoWorkRunsEveryJobOnce hands bursts of jobs to the workers, each
// burst once the one before has ended (so its workers are idle and take
// jobs of the next) and larger than the one before (so new workers start
// too): every job runs exactly once, and wg.Wait returns when all have.
func TestGoWorkRunsEveryJobOnce(t *testing.T) {
	for _, size := range []int{1, 50, 100, 300} {
		ran := make([]atomic.Int32, size)
		var wg sync.WaitGroup
		for j := range size {
			goWork(&wg, func() { ran[j].Add(1) })
		}
		wg.Wait()
		for j := range size {
			if n := ran[j].Load(); n != 1 {
				t.Fatalf("burst of %d: job %d ran %d times, want 1", size, j, n)
			}
		}
	}
}

// TestGoWorkNestedJobs runs jobs that hand jobs of their own to the workers
// and wait for them, as a record does with its attempts: handing over never
// waits for a free worker, so every job ends even when every worker is busy
// with a job that waits.
func TestGoWorkNestedJobs(t *testing.T) {
	const outer, inner = 10, 10
	var ran atomic.Int32
	var wg sync.WaitGroup
	for range outer {
		goWork(&wg, func() {
			var attempts sync.WaitGroup
			for range inner {
				goWork(&attempts, func() { ran.Add(1) })
			}
			attempts.Wait()
		})
	}
	wg.Wait()
	if n := ran.Load(); n != outer*inner {
		t.Fatalf("%d inner jobs ran, want %d", n, outer*inner)
	}
}
