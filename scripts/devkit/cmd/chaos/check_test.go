package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
)

var t0 = time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// goodRun is a small run where every invariant holds: pair a delivered
// (after one 5xx), pair b exhausted and alerted to both addresses, and the
// outage of outageRun.
func goodRun() observed {
	alerts := []string{"ops@example.com", "oncall@example.com"}
	a := pair{ClientID: 1, LoadID: "L1", HookID: 1, Slot: "flaky-2", WebhookID: "msg_a", AlertTo: alerts, Table: "orders"}
	b := pair{ClientID: 1, LoadID: "L1", HookID: 2, Slot: "hang-1", WebhookID: "msg_b", AlertTo: alerts, Table: "orders"}
	o := observed{
		Pairs:         []pair{a, b},
		DisabledSlots: []string{"off-4"},
		Receipts: []receipt{
			{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 503, At: at(1), Sequence: 1},
			{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(3), Sequence: 1},
			{Slot: "hang-1", WebhookID: "msg_b", BodyHash: "h1", SigOK: true, Status: 0, At: at(4), Sequence: 1},
		},
		Records: map[string]*record{
			"msg_a": {Status: delivery.StatusDelivered, Attempt: 2, Successes: 1, Sequence: 1},
			"msg_b": {Status: delivery.StatusExhausted, Attempt: 6, Sequence: 1, Exhausted: 1},
		},
		Emails: []email{
			{To: []string{"ops@example.com"}, WebhookID: "msg_b"},
			{To: []string{"oncall@example.com"}, WebhookID: "msg_b"},
		},
		MainQueued:  map[string]int{"post-load-notifications": 0, "post-load-retries": 0},
		DLQBodies:   map[string][]string{"post-load-notifications-dlq": {"p2", "p1"}, "post-load-retries-dlq": nil},
		WantDLQ:     map[string][]string{"post-load-notifications-dlq": {"p1", "p2"}},
		Quiescent:   true,
		MaxAttempts: 6,
		CrashMargin: 5 * time.Second,
		Faults: faults{
			Served5xx: 1, DownWindow: &window{From: at(1), Till: at(7)},
			Kills: []window{{From: at(10), Till: at(11)}}, KillsMidBatch: 1,
			DBRestart: &window{From: at(20), Till: at(25)}, DupSends: 2, Poison: 2,
		},
	}
	addOutageRun(&o)
	return o
}

// failing returns the names of the rows that failed.
func failing(rows []row) []string {
	var out []string
	for _, r := range rows {
		if !r.Pass {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestCheckAll(t *testing.T) {
	tests := []checkCase{
		{name: "a good run passes", change: func(*observed) {}},
		{
			name: "a sequence number skipped",
			change: func(o *observed) {
				o.Records["msg_a"].Sequence, o.Records["msg_b"].Sequence = 2, 2
				for i := range o.Receipts {
					o.Receipts[i].Sequence = 2
				}
			},
			want: []string{"no sequence gap or repeat"},
		},
		{
			name: "a sequence number used by two loads",
			change: func(o *observed) {
				o.Pairs = append(o.Pairs, pair{ClientID: 1, LoadID: "L2", HookID: 1, Slot: "flaky-2", WebhookID: "msg_c", Table: "orders"})
				o.Records["msg_c"] = &record{Status: delivery.StatusDelivered, Attempt: 1, Successes: 1, Sequence: 1}
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_c", BodyHash: "h2", SigOK: true, Status: 200, At: at(5), Sequence: 1})
			},
			want: []string{"no sequence gap or repeat"},
		},
		{
			name:   "a retry with another number",
			change: func(o *observed) { o.Receipts[1].Sequence = 3 },
			want:   []string{"no sequence gap or repeat"},
		},
		{
			name: "a pair neither delivered nor alerted",
			change: func(o *observed) {
				o.Receipts[1].Status = 500
				o.Records["msg_a"] = &record{Status: delivery.StatusExhausted, Attempt: 6, Sequence: 1, Exhausted: 1}
			},
			want: []string{"every (load, enabled hook) pair delivered or alerted", "one email per alert address per exhausted pair"},
		},
		{
			name: "an alert sent twice to one address",
			change: func(o *observed) {
				o.Emails = append(o.Emails, email{To: []string{"OPS@example.com"}, WebhookID: "msg_b"})
			},
			want: []string{"one email per alert address per exhausted pair"},
		},
		{
			name: "an alert for a delivered pair",
			change: func(o *observed) {
				o.Emails = append(o.Emails, email{To: []string{"ops@example.com"}, WebhookID: "msg_a"})
			},
			want: []string{"one email per alert address per exhausted pair"},
		},
		{
			name: "a repeat with another webhook-id",
			change: func(o *observed) {
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_other", BodyHash: "h1", SigOK: true, Status: 503, At: at(5), Sequence: 1})
			},
			want: []string{"receiver repeats carry the same webhook-id"},
		},
		{
			name: "a pair's webhook-id at another hook",
			change: func(o *observed) {
				o.Receipts = append(o.Receipts, receipt{Slot: "hang-1", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, At: at(5), Sequence: 1})
			},
			want: []string{"receiver repeats carry the same webhook-id"},
		},
		{
			name:   "a bad signature",
			change: func(o *observed) { o.Receipts[0].SigOK = false },
			want:   []string{"receiver repeats carry the same webhook-id"},
		},
		{
			name:   "a repeat with another body",
			change: func(o *observed) { o.Receipts[1].BodyHash = "h2" },
			want:   []string{"receiver repeats carry the same webhook-id"},
		},
		{
			name: "a second 2xx outside every crash window",
			change: func(o *observed) {
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(40), Sequence: 1})
			},
			want: []string{"2xx repeats only in a crash window"},
		},
		{
			name: "a second 2xx after a kill just after the first",
			change: func(o *observed) {
				o.Receipts[1].At = at(9)
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(30), Sequence: 1})
			},
		},
		{
			name: "a second 2xx while DynamoDB was down",
			change: func(o *observed) {
				o.Receipts[1].At = at(22)
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(40), Sequence: 1})
			},
		},
		{
			name: "two successes recorded",
			change: func(o *observed) {
				o.Receipts[1].At = at(9)
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(30), Sequence: 1})
				o.Records["msg_a"].Successes = 2
			},
			want: []string{"2xx repeats only in a crash window"},
		},
		{
			name: "a lost 2xx just before DynamoDB went down",
			change: func(o *observed) {
				o.Receipts[1].At = at(16)
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(40), Sequence: 1})
			},
		},
		{
			name: "a lost 2xx long before DynamoDB went down",
			change: func(o *observed) {
				o.Receipts[1].At = at(14)
				o.Receipts = append(o.Receipts, receipt{Slot: "flaky-2", WebhookID: "msg_a", BodyHash: "h1", SigOK: true, Status: 200, At: at(40), Sequence: 1})
			},
			want: []string{"2xx repeats only in a crash window"},
		},
		{
			name: "delivered without a 2xx",
			change: func(o *observed) {
				o.Receipts = slices.Delete(o.Receipts, 1, 2) // pair a's 2xx
				o.Emails = append(o.Emails, o.Emails[:2]...) // pair b's alerts twice
			},
			want: []string{
				"every (load, enabled hook) pair delivered or alerted", "one email per alert address per exhausted pair",
				"delivery records agree with receivers",
			},
		},
		{
			name:   "exhausted too early",
			change: func(o *observed) { o.Records["msg_b"].Attempt = 3 },
			want:   []string{"delivery records agree with receivers"},
		},
		{
			name:   "a message left on a queue",
			change: func(o *observed) { o.MainQueued["post-load-retries"] = 1 },
			want:   []string{"no message stuck"},
		},
		{
			name:   "a record still waiting",
			change: func(o *observed) { o.Records["msg_a"].Status = delivery.StatusWaiting },
			want:   []string{"no message stuck"},
		},
		{
			name:   "a record missing",
			change: func(o *observed) { delete(o.Records, "msg_a") },
			want:   []string{"no message stuck"},
		},
		{
			name:   "never quiescent",
			change: func(o *observed) { o.Quiescent = false },
			want:   []string{"no message stuck"},
		},
		{
			name: "an extra DLQ message",
			change: func(o *observed) {
				o.DLQBodies["post-load-notifications-dlq"] = append(o.DLQBodies["post-load-notifications-dlq"], "p3")
			},
			want: []string{"DLQs hold only the injected poison"},
		},
		{
			name: "a poison message dead-lettered again after a kill",
			change: func(o *observed) {
				o.DLQBodies["post-load-notifications-dlq"] = append(o.DLQBodies["post-load-notifications-dlq"], "p1")
			},
		},
		{
			name: "a poison message dead-lettered more often than the kills explain",
			change: func(o *observed) {
				o.DLQBodies["post-load-notifications-dlq"] = append(o.DLQBodies["post-load-notifications-dlq"], "p1", "p1")
			},
			want: []string{"DLQs hold only the injected poison"},
		},
		{
			name: "a poison message dead-lettered twice with no kill",
			change: func(o *observed) {
				o.Faults.Kills, o.Faults.KillsMidBatch = nil, 0
				o.DLQBodies["post-load-notifications-dlq"] = append(o.DLQBodies["post-load-notifications-dlq"], "p1")
			},
			want: []string{"faults were injected", "DLQs hold only the injected poison"},
		},
		{
			name:   "a retry in a DLQ",
			change: func(o *observed) { o.DLQBodies["post-load-retries-dlq"] = []string{"r"} },
			want:   []string{"DLQs hold only the injected poison"},
		},
		{
			name:   "a poison message missing from its DLQ",
			change: func(o *observed) { o.DLQBodies["post-load-notifications-dlq"] = []string{"p1"} },
			want:   []string{"DLQs hold only the injected poison"},
		},
		{
			name: "a disabled hook called",
			change: func(o *observed) {
				o.Receipts = append(o.Receipts, receipt{Slot: "off-4", WebhookID: "msg_x", SigOK: true, Status: 200, At: at(2), Sequence: 1})
			},
			want: []string{"disabled hooks got nothing"},
		},
		{
			name:   "a fault that did not happen",
			change: func(o *observed) { o.Faults.KillsMidBatch = 0 },
			want:   []string{"faults were injected"},
		},
	}
	runCheckCases(t, tests)
}

// checkCase is a good run changed by change, and the rows that must then
// fail.
type checkCase struct {
	name   string
	change func(o *observed)
	want   []string // failing rows
}

// runCheckCases runs checkAll on each case's run.
func runCheckCases(t *testing.T, tests []checkCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := goodRun()
			tt.change(&o)
			if diff := cmp.Diff(failing(checkAll(o)), tt.want); diff != "" {
				t.Errorf("failing rows (-got +want):\n%s", diff)
			}
		})
	}
}

func TestCheckCounts(t *testing.T) {
	rows := checkAll(goodRun())
	got := map[string]string{}
	for _, r := range rows {
		got[r.Name] = r.Counts
	}
	want := map[string]string{
		"every (load, enabled hook) pair delivered or alerted": "pairs=5 delivered=2 alerted=1 both=2 neither=0",
		"one email per alert address per exhausted pair":       "exhausted=3 told=6 want=6 wrong=0 (emails: 4 alerts, 2 digests)",
		"receiver repeats carry the same webhook-id":           "requests=18 webhook-ids=5 repeats=13 wrong=0",
		"outage hook disabled once (failing), probed, re-enabled once": "exhausted=2 auto-disabled=1 (reason failing) skipped=1 " +
			"probes=2 (5xx 1, 2xx 1) auto-enabled=1 disable-emails=2 re-enabled-emails=2",
		"outage deliveries replayed once, with their webhook-id": "pairs=3 once=3 missing=0 twice=0 in-a-crash-window=0 early=0 sent-again=3 by-own-retry=0",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: counts %q, want %q", name, got[name], w)
		}
	}
}

func TestPrintTableLastLine(t *testing.T) {
	for _, tt := range []struct {
		rows []row
		ok   bool
		last string
	}{
		{rows: []row{{Name: "a", Pass: true}, {Name: "b", Pass: true}}, ok: true, last: "2 passed, 0 failed"},
		{rows: []row{{Name: "a", Pass: true}, {Name: "b", Detail: []string{"why"}}}, ok: false, last: "1 passed, 1 failed"},
	} {
		var buf bytes.Buffer
		ok := printTable(&buf, tt.rows)
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		if ok != tt.ok || lines[len(lines)-1] != tt.last {
			t.Errorf("printTable = %t, last line %q; want %t, %q", ok, lines[len(lines)-1], tt.ok, tt.last)
		}
	}
}
