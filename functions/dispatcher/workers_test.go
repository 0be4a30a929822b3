package main

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestGoAttemptRunsEveryJobOnce hands bursts of jobs to the workers, each
// burst once the one before has ended (so its workers are idle and take
// jobs of the next) and larger than the one before (so new workers start
// too): every job runs exactly once, and wg.Wait returns when all have.
func TestGoAttemptRunsEveryJobOnce(t *testing.T) {
	for _, size := range []int{1, 50, 100, 300} {
		ran := make([]atomic.Int32, size)
		var wg sync.WaitGroup
		for j := range size {
			goAttempt(&wg, func() { ran[j].Add(1) })
		}
		wg.Wait()
		for j := range size {
			if n := ran[j].Load(); n != 1 {
				t.Fatalf("burst of %d: job %d ran %d times, want 1", size, j, n)
			}
		}
	}
}
