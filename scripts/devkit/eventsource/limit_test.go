package eventsource

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

// TestLimitSharedByQueues: two queues feeding one function of concurrency 6
// (each mapping allowing 8) start 6 workers between them, at least one
// each; with a backlog on both, the invocations in flight reach 6 and never
// more, every message is deleted, and the workers fall back once the
// queues are empty, giving the Limit back.
func TestLimitSharedByQueues(t *testing.T) {
	const size = 6
	fn := newGatedFunction(300 * time.Millisecond)
	p, rec, q := concurrentSetup(t, 30, fn)
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	p2, err := New(t.Context(), rec, q.Retry, devstack.Region, &Invoker{URL: srv.URL, Client: srv.Client()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	limit := NewLimit(size)
	var mu sync.Mutex
	batches := map[*Poller]int{}
	for _, pp := range []*Poller{p, p2} {
		pp.BatchSize, pp.MaxConcurrency, pp.Wait, pp.VisibilityTimeout, pp.Function = 1, 8, time.Second, 30, limit
		pp.OnBatch = func(res BatchResult, err error) {
			if err == nil && res.Received > 0 {
				mu.Lock()
				batches[pp]++
				mu.Unlock()
			}
		}
	}
	start(t, p)
	eventually(t, 5*time.Second, "the first queue's five workers", func() bool { return p.running() == initialWorkers })
	start(t, p2)
	eventually(t, 5*time.Second, "the second queue's one worker", func() bool { return p2.running() == 1 })
	if got := limit.Running(); got != size {
		t.Errorf("%d workers at the start, want the Limit's %d", got, size)
	}

	var bodies []string
	for i := range 30 {
		bodies = append(bodies, fmt.Sprintf("ok-%d", i))
	}
	send(t, rec.Client, q.Notifications, bodies...)
	send(t, rec.Client, q.Retry, bodies...)
	eventually(t, 60*time.Second, "all 60 deleted", func() bool { return len(rec.deletions()) == 60 })
	if _, most, _ := fn.stats(); most != size {
		t.Errorf("at most %d invocations in flight, want the Limit's %d", most, size)
	}
	if got := limit.Most(); got != size {
		t.Errorf("at most %d workers, want the Limit's %d", got, size)
	}
	mu.Lock()
	got1, got2 := batches[p], batches[p2]
	mu.Unlock()
	if got1+got2 < 60 || got2 == 0 {
		t.Errorf("OnBatch saw %d + %d batches, want at least 60 with some from each queue", got1, got2)
	}
	eventually(t, 10*time.Second, "back to the initial workers once the queues are empty", func() bool {
		return p.running()+p2.running() <= size && limit.Running() == p.running()+p2.running()
	})
}
