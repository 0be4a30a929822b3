package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/notify"
)

// summaryBody is a run_completed body of run r1 listing tables.
func summaryBody(complete bool, tables ...string) []byte {
	rc := notify.RunCompleted{IntegrationName: "chaos", RunID: "r1", Complete: complete, StartedAt: t0, FinishedAt: t0.Add(time.Second)}
	for _, name := range tables {
		rc.Tables = append(rc.Tables, notify.RunTable{DestinationTableName: name, Status: notify.StatusSucceeded, NumRows: 1})
	}
	return rc.Encode()
}

// withRun adds to goodRun a run of two loads (orders, customers) whose
// summary reached both hooks.
func withRun(o observed) observed {
	alerts := o.Pairs[0].AlertTo
	o.Runs = []runSpec{{ClientID: 1, ID: "r1", EventID: "run-1", Tables: []string{"orders", "customers"}}}
	o.Summaries = map[string][]byte{}
	for _, p := range []pair{
		{ClientID: 1, LoadID: "run-1", HookID: 1, Slot: "flaky-2", WebhookID: "msg_r1", AlertTo: alerts, Summary: true},
		{ClientID: 1, LoadID: "run-1", HookID: 2, Slot: "hang-1", WebhookID: "msg_r2", AlertTo: alerts, Summary: true},
	} {
		o.Pairs = append(o.Pairs, p)
		o.Receipts = append(o.Receipts, receipt{Slot: p.Slot, WebhookID: p.WebhookID, BodyHash: "s1", SigOK: true, Status: 200, At: at(5)})
		o.Records[p.WebhookID] = &record{Status: delivery.StatusDelivered, Attempt: 1, Successes: 1}
		o.Summaries[p.WebhookID] = summaryBody(true, "customers", "orders")
	}
	return o
}

func TestCheckRunSummaries(t *testing.T) {
	const row = "one summary per run and subscribed hook, right tables"
	for _, tt := range []struct {
		name   string
		change func(o *observed)
		fails  bool
	}{
		{"a good run with a run passes", func(*observed) {}, false},
		{"incomplete, saying so", func(o *observed) {
			o.Summaries["msg_r1"], o.Summaries["msg_r2"] = summaryBody(false, "orders"), summaryBody(false, "orders")
		}, false},
		{"two hooks, two summaries", func(o *observed) { o.Summaries["msg_r2"] = summaryBody(true, "orders", "customers") }, true},
		{"a table twice", func(o *observed) {
			o.Summaries["msg_r1"], o.Summaries["msg_r2"] = summaryBody(true, "orders", "orders"), summaryBody(true, "orders", "orders")
		}, true},
		{"complete with a table missing", func(o *observed) {
			o.Summaries["msg_r1"], o.Summaries["msg_r2"] = summaryBody(true, "orders"), summaryBody(true, "orders")
		}, true},
		{"incomplete with every table", func(o *observed) {
			o.Summaries["msg_r1"], o.Summaries["msg_r2"] = summaryBody(false, "orders", "customers"), summaryBody(false, "orders", "customers")
		}, true},
		{"a table of no load of the run", func(o *observed) {
			o.Summaries["msg_r1"], o.Summaries["msg_r2"] = summaryBody(true, "orders", "customers", "x"), summaryBody(true, "orders", "customers", "x")
		}, true},
		{"a hook without its summary", func(o *observed) { delete(o.Summaries, "msg_r2") }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := withRun(goodRun())
			tt.change(&o)
			failed := failing(checkAll(o))
			if got := slices.Contains(failed, row); got != tt.fails {
				t.Errorf("failing rows %v; want %q failing: %t", failed, row, tt.fails)
			}
			if others := slices.DeleteFunc(failed, func(n string) bool { return n == row }); len(others) > 0 {
				t.Errorf("other rows failed: %v", others)
			}
		})
	}
}

func TestRunOf(t *testing.T) {
	var got []string
	for i := range 10 {
		id, n := runOf(i, 10)
		got = append(got, id+"/"+string(rune('0'+n)))
	}
	// Loads 0..9 but the large one (3): 9 loads in runs of 4, 4 and 1.
	want := "run-0/4 run-0/4 run-0/4 /0 run-0/4 run-1/4 run-1/4 run-1/4 run-1/4 run-2/1"
	if strings.Join(got, " ") != want {
		t.Errorf("runs = %s, want %s", strings.Join(got, " "), want)
	}
}
