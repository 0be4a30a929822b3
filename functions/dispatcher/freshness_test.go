package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// A load of a table with a freshness rule records its last successful
// load, with no read beyond the account read every load makes, once per
// table per batch; other loads write nothing.

func TestSuccessfulLoadOfRuledTableRecordsIt(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.PutFreshnessRules(context.Background(), hook.Principal{ClientID: testClient, MemberID: "m"},
		[]hook.FreshnessRule{{IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", Interval: 2 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	k := hook.FreshnessKey{Integration: "shopify", Table: "orders"}
	lastLoad := func() time.Time {
		t.Helper()
		_, states, err := e.store.FreshnessCheck(context.Background(), testClient)
		if err != nil {
			t.Fatal(err)
		}
		return states[k].LastLoadedAt
	}

	e.store.ResetCalls()
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L1b", "succeeded")))
	if got, want := lastLoad(), e.clock.now(); !got.Equal(want) {
		t.Errorf("last load %v, want %v", got, want)
	}
	for method, want := range map[string]int{"AccountWithHooks": 1, "RecordTableLoad": 1, "FreshnessCheck": 1} {
		if got := e.store.Calls(method); got != want {
			t.Errorf("store calls of %q = %d, want %d", method, got, want)
		}
	}

	// Rejected (no row loaded) and failed loads do not count.
	before := e.clock.now()
	e.clock.t = e.clock.t.Add(time.Minute)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L2", "rejected"), loadMessage(testClient, "L3", "failed")))
	if got := lastLoad(); !got.Equal(before) {
		t.Errorf("after rejected and failed loads: last load %v, want %v", got, before)
	}

	// A table without a rule: no write.
	e.store.ResetCalls()
	e.mustRun(t, sqsEvent(`{"client_id":116078,"load_id":"L4","status":"succeeded","notification":{"integration_name":"shopify","new_version":false,`+
		`"source_root_table_name":"customers","destination_root_table_name":"customers","table_version":0,"tables":[{"source_table_name":"customers",`+
		`"destination_table_name":"customers","num_rows":1,"num_rows_rejected":0}]}}`))
	if n := e.store.Calls("RecordTableLoad"); n != 0 {
		t.Errorf("RecordTableLoad calls for a table without a rule = %d, want 0", n)
	}
}

func TestRecordLoadFailureFailsTheRecord(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.PutFreshnessRules(context.Background(), hook.Principal{ClientID: testClient, MemberID: "m"},
		[]hook.FreshnessRule{{IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", Interval: 2 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	e.store.Fail("RecordTableLoad", errors.New("throttled"))
	failed, _ := e.run(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	if len(failed) != 1 {
		t.Fatalf("failed records %v, want the one record", failed)
	}
	if n := len(e.hooks.calls()); n != 0 {
		t.Errorf("%d requests before the load was recorded, want 0 (the redelivery sends them)", n)
	}
}
