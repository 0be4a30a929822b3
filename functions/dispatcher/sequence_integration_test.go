package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Concurrent loads of one table on DynamoDB Local, through the real
// handler and store: four invocations at once, each a batch of 10 loads of
// the same table, neighbouring batches sharing two loads (a load delivered
// twice, in two invocations at once). Every load is sent once, with one
// number; the numbers are exactly 1..n.
func TestDispatcherConcurrentLoadsOfOneTable(t *testing.T) {
	t.Parallel() // own table, queues and receiver
	rcv := newReceiver(t, http.StatusNoContent)
	s := newStack(t, rcv.caFile(t), testDelays)
	_, hk := s.seed(t, 510, rcv.url+"/hook")
	// Room for all 40 requests at once: the in-flight cap (20 by default)
	// would defer some, and this test is about numbers, not the cap.
	if _, err := s.st.SetMaxInFlight(context.Background(), 510, hk.ID, 100); err != nil {
		t.Fatal(err)
	}
	const batches = 4
	var wg sync.WaitGroup
	failures := make([]int, batches)
	for b := range batches {
		wg.Go(func() {
			var ev events.SQSEvent
			for i := b * 8; i < b*8+10; i++ {
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("b%d-%d", b, i),
					Body: load(510, fmt.Sprintf("conc-%02d", i)), EventSourceARN: s.queues.NotificationsARN})
			}
			resp, err := s.h.handle(context.Background(), ev)
			if err != nil {
				failures[b] = len(ev.Records)
				return
			}
			failures[b] = len(resp.BatchItemFailures)
		})
	}
	wg.Wait()
	loads := (batches-1)*8 + 10
	seqOf := map[string]string{}
	for _, r := range rcv.requests() {
		if old, ok := seqOf[r.loadID]; ok {
			t.Errorf("load %s sent twice (%s, %s)", r.loadID, old, r.seq)
		}
		seqOf[r.loadID] = r.seq
	}
	// A load claimed by one invocation while the other still attempts it is
	// reported failed by the other (a live lease): it was sent once anyway.
	if len(seqOf) != loads {
		t.Fatalf("%d loads sent, want %d (failures per batch %v)", len(seqOf), loads, failures)
	}
	var nums []int
	for id, v := range seqOf {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("load %s: webhook-sequence %q", id, v)
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("numbers = %v, want 1..%d each once", nums, loads)
		}
	}
	for id, v := range seqOf {
		recs, err := s.st.LoadDeliveries(context.Background(), 510, id)
		if err != nil || len(recs) != 1 || strconv.FormatInt(recs[0].Sequence, 10) != v {
			t.Errorf("record of %s = %+v, %v; want sequence %s", id, recs, err, v)
		}
	}
}
