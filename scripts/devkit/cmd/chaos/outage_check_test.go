package main

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/mail"
)

// addOutageRun adds to o an outage where every invariant holds: hook 9 of
// client 2 answers 503 until 11 s; loads O1 and O3 are exhausted (O1
// alerted at once, O3 in a digest), O2 came while the hook was disabled
// (7 s) and was skipped; a probe is answered 2xx at 11.5 s and each of
// the three arrives once after it, with its webhook-id.
func addOutageRun(o *observed) {
	alerts := []string{"ops-out@example.com", "oncall-out@example.com"}
	var ps []pair
	for _, l := range []string{"O1", "O2", "O3"} {
		ps = append(ps, pair{ClientID: 2, LoadID: l, HookID: 9, Slot: "outage-0", WebhookID: "msg_" + l, AlertTo: alerts, Table: "orders"})
	}
	o.Pairs = append(o.Pairs, ps...)
	failed := func(n int) []delivery.Attempt {
		var as []delivery.Attempt
		for range n {
			as = append(as, delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503})
		}
		return as
	}
	for i, id := range []string{"msg_O1", "msg_O2", "msg_O3"} {
		seq := int64(i + 1)
		tries := map[string]int{"msg_O1": 6, "msg_O2": 0, "msg_O3": 6}[id]
		for k := range tries {
			o.Receipts = append(o.Receipts, receipt{Slot: "outage-0", WebhookID: id, BodyHash: "h" + id, SigOK: true, Status: 503, At: at(1 + float64(k)), Sequence: seq})
		}
		o.Receipts = append(o.Receipts, receipt{Slot: "outage-0", WebhookID: id, BodyHash: "h" + id, SigOK: true, Status: 200, At: at(12 + float64(i)/2), Sequence: seq})
		attempts := append(failed(tries), delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 200})
		o.Records[id] = &record{Status: delivery.StatusDelivered, Attempt: 1, Successes: 1, Sequence: seq,
			Exhausted: exhaustedSequences(delivery.StatusDelivered, attempts, o.MaxAttempts)}
	}
	o.Emails = append(o.Emails,
		email{To: alerts[:1], WebhookID: "msg_O1"}, email{To: alerts[1:], WebhookID: "msg_O1"},
		email{To: alerts[:1], Kind: mailDigest, Listed: []string{"msg_O3"}, HookID: 9, ClientID: 2},
		email{To: alerts[1:], Kind: mailDigest, Listed: []string{"msg_O3"}, HookID: 9, ClientID: 2},
		email{To: alerts[:1], Kind: mailDisabled, HookID: 9, ClientID: 2, WebhookID: "(none)"},
		email{To: alerts[1:], Kind: mailDisabled, HookID: 9, ClientID: 2, WebhookID: "(none)"},
		email{To: alerts[:1], Kind: mailReenabled, HookID: 9, ClientID: 2, WebhookID: "(none)", SentAgain: 3},
		email{To: alerts[1:], Kind: mailReenabled, HookID: 9, ClientID: 2, WebhookID: "(none)", SentAgain: 3},
	)
	o.Outage = &outageObserved{
		ClientID: 2, HookID: 9, Slot: "outage-0", AlertTo: alerts, MinExhausted: 2,
		Run:        outageRun{DisabledSeen: at(7), Reason: hook.DisabledForFailing, UpAt: at(11), EnabledSeen: at(11.6), Sent: 2, Skipped: 1, SkippedSeen: 1},
		Pings:      []receipt{{Slot: "outage-0", SigOK: true, Status: 503, At: at(9)}, {Slot: "outage-0", SigOK: true, Status: 200, At: at(11.5)}},
		EndEnabled: true, AutoDisabled: 1, AutoEnabled: 1,
	}
}

const (
	rowHealth  = "outage hook disabled once (failing), probed, re-enabled once"
	rowReplay  = "outage deliveries replayed once, with their webhook-id"
	rowEmails  = "one email per alert address per exhausted pair"
	rowRepeats = "2xx repeats only in a crash window"
)

// replayOf is the index in o.Receipts of the 2xx of webhook-id id.
func replayOf(o *observed, id string) int {
	return slices.IndexFunc(o.Receipts, func(r receipt) bool { return r.WebhookID == id && r.Status == 200 })
}

func TestCheckOutage(t *testing.T) {
	tests := []checkCase{
		{name: "a good outage passes", change: func(*observed) {}},
		{
			name:   "the scenario did not run",
			change: func(o *observed) { o.Outage = nil },
			want:   []string{rowHealth, rowReplay},
		},
		{
			name:   "disabled twice",
			change: func(o *observed) { o.Outage.AutoDisabled = 2 },
			want:   []string{rowHealth},
		},
		{
			name:   "re-enabled twice",
			change: func(o *observed) { o.Outage.AutoEnabled = 2 },
			want:   []string{rowHealth},
		},
		{
			name: "never disabled",
			change: func(o *observed) {
				o.Outage.AutoDisabled, o.Outage.Run.DisabledSeen, o.Outage.Run.Reason = 0, time.Time{}, ""
			},
			want: []string{rowHealth},
		},
		{
			name:   "disabled for another reason",
			change: func(o *observed) { o.Outage.Run.Reason = hook.DisabledByMember },
			want:   []string{rowHealth},
		},
		{
			name:   "ends disabled",
			change: func(o *observed) { o.Outage.EndEnabled, o.Outage.EndReason = false, hook.DisabledForFailing },
			want:   []string{rowHealth},
		},
		{
			name:   "disabled before the policy allows",
			change: func(o *observed) { o.Outage.MinExhausted = 3 },
			want:   []string{rowHealth},
		},
		{
			name:   "no probe answered 2xx",
			change: func(o *observed) { o.Outage.Pings = o.Outage.Pings[:1] },
			want:   []string{rowHealth},
		},
		{
			name:   "no probe found the endpoint down",
			change: func(o *observed) { o.Outage.Pings = o.Outage.Pings[1:] },
			want:   []string{rowHealth},
		},
		{
			name:   "a load sent while disabled not kept as skipped",
			change: func(o *observed) { o.Outage.Run.SkippedSeen = 0 },
			want:   []string{rowHealth},
		},
		{
			name:   "a probe answered 2xx while the endpoint was down",
			change: func(o *observed) { o.Outage.Pings[1].At = at(10) },
			want:   []string{rowHealth},
		},
		{
			name: "a disable email missing",
			change: func(o *observed) {
				o.Emails = slices.DeleteFunc(o.Emails, func(e email) bool { return e.Kind == mailDisabled && e.To[0] == "ops-out@example.com" })
			},
			want: []string{rowHealth},
		},
		{
			name: "a re-enabled email twice",
			change: func(o *observed) {
				o.Emails = append(o.Emails, email{To: []string{"OPS-out@example.com"}, Kind: mailReenabled, HookID: 9, ClientID: 2, SentAgain: 3})
			},
			want: []string{rowHealth},
		},
		{
			name: "a replay dropped by the receiver",
			change: func(o *observed) {
				o.Receipts = slices.Delete(o.Receipts, replayOf(o, "msg_O2"), replayOf(o, "msg_O2")+1)
			},
			want: []string{"every (load, enabled hook) pair delivered or alerted", "delivery records agree with receivers", rowReplay},
		},
		{
			name:   "a replay counted twice (-break dup-replay)",
			change: func(o *observed) { o.Receipts = append(o.Receipts, o.Receipts[replayOf(o, "msg_O2")]) },
			want:   []string{rowRepeats, rowReplay},
		},
		{
			name: "a replay twice, the first lost while DynamoDB was down",
			change: func(o *observed) {
				o.Receipts[replayOf(o, "msg_O2")].At = at(22)
				o.Receipts = append(o.Receipts, receipt{Slot: "outage-0", WebhookID: "msg_O2", BodyHash: "hmsg_O2", SigOK: true, Status: 200, At: at(30), Sequence: 2})
			},
		},
		{
			name:   "a replay with a new webhook-id",
			change: func(o *observed) { o.Receipts[replayOf(o, "msg_O1")].WebhookID = "msg_new" },
			want:   []string{"receiver repeats carry the same webhook-id", "delivery records agree with receivers", rowReplay},
		},
		{
			name:   "a replay before the endpoint recovered",
			change: func(o *observed) { o.Receipts[replayOf(o, "msg_O2")].At = at(10.5) },
			want:   []string{rowReplay},
		},
		{
			name:   "a replay left skipped",
			change: func(o *observed) { o.Records["msg_O2"].Status = delivery.StatusSkipped },
			want:   []string{"no message stuck", rowReplay},
		},
		{
			name:   "the re-enabled email counts fewer sent again than were exhausted or skipped",
			change: func(o *observed) { o.Emails[len(o.Emails)-1].SentAgain, o.Emails[len(o.Emails)-2].SentAgain = 2, 2 },
			want:   []string{rowReplay},
		},
		{
			name:   "the re-enabled email counts more sent again than the hook had",
			change: func(o *observed) { o.Emails[len(o.Emails)-1].SentAgain, o.Emails[len(o.Emails)-2].SentAgain = 4, 4 },
			want:   []string{rowReplay},
		},
		{
			name: "a delivery sent by its own retry after the recovery, not by the replay",
			change: func(o *observed) {
				o.Outage.Run.SkippedSeen = 0
				o.Outage.Run.Skipped = 0
				for i := range o.Emails {
					if o.Emails[i].Kind == mailReenabled {
						o.Emails[i].SentAgain = 2
					}
				}
			},
			want: []string{rowHealth},
		},
		{
			name: "a load in a digest and in an alert of its own",
			change: func(o *observed) {
				o.Emails = append(o.Emails, email{To: []string{"ops-out@example.com"}, WebhookID: "msg_O3"})
			},
			want: []string{rowEmails},
		},
		{
			name: "an exhausted load in no email",
			change: func(o *observed) {
				o.Emails = slices.DeleteFunc(o.Emails, func(e email) bool { return e.Kind == mailDigest })
			},
			want: []string{rowEmails},
		},
		{
			name: "a digest that counts loads it does not list",
			change: func(o *observed) {
				o.Emails[slices.IndexFunc(o.Emails, func(e email) bool { return e.Kind == mailDigest })].More = 4
			},
			want: []string{rowEmails},
		},
		{
			name: "a skipped load alerted",
			change: func(o *observed) {
				o.Emails = append(o.Emails, email{To: []string{"ops-out@example.com"}, Kind: mailDigest, Listed: []string{"msg_O2"}, HookID: 9, ClientID: 2})
			},
			want: []string{rowEmails},
		},
	}
	runCheckCases(t, tests)
}

func TestExhaustedSequences(t *testing.T) {
	f := delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503}
	ok := delivery.Attempt{Outcome: delivery.OutcomeSuccess}
	rep := func(a delivery.Attempt, n int) []delivery.Attempt { return slices.Repeat([]delivery.Attempt{a}, n) }
	tests := []struct {
		name     string
		status   string
		attempts []delivery.Attempt
		want     int
	}{
		{"delivered at once", delivery.StatusDelivered, []delivery.Attempt{ok}, 0},
		{"delivered after 5 failures", delivery.StatusDelivered, append(rep(f, 5), ok), 0},
		{"exhausted", delivery.StatusExhausted, rep(f, 6), 1},
		{"exhausted, then replayed", delivery.StatusDelivered, append(rep(f, 6), ok), 1},
		{"cut short by the disable, then replayed", delivery.StatusDelivered, append(rep(f, 3), ok), 0},
		{"exhausted twice", delivery.StatusExhausted, rep(f, 12), 2},
		{"exhausted, with its history cut", delivery.StatusExhausted, rep(f, 2), 1},
	}
	for _, tt := range tests {
		if got := exhaustedSequences(tt.status, tt.attempts, 6); got != tt.want {
			t.Errorf("%s: %d exhausted sequences, want %d", tt.name, got, tt.want)
		}
	}
}

// TestClassifyEmails reads the emails the alerter renders (shared/mail) as
// the run reads them from the SES emulator.
func TestClassifyEmails(t *testing.T) {
	now := at(0)
	url := "https://127.0.0.1:18420/r/outage-0"
	alert := mail.Render(delivery.AlertMessage{Kind: delivery.KindExhausted, ClientID: 116080, LoadID: "chaos-116080-0", HookID: 11,
		HookURL: url, WebhookID: hook.WebhookID(116080, "chaos-116080-0", 11), IntegrationName: "chaos", Tables: []string{"orders"},
		Attempts: []delivery.Attempt{{At: now, Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503}}}, now)
	var entries []delivery.DigestEntry
	for _, l := range []string{"chaos-116080-1", "chaos-116080-2"} {
		entries = append(entries, delivery.DigestEntry{LoadID: l, WebhookID: hook.WebhookID(116080, l, 11), Integration: "chaos", Table: "orders", At: now, ErrorClass: "HTTP 503"})
	}
	digest := mail.RenderDigest(mail.Digest{ClientID: 116080, HookID: 11, HookURL: url, WindowStart: now, WindowEnd: now.Add(5 * time.Second), Entries: entries}, now, mail.Links{})
	var many []delivery.DigestEntry
	for i := range mail.MaxDigestLoads + 3 {
		many = append(many, delivery.DigestEntry{LoadID: "L" + string(rune('a'+i%26)), Integration: "chaos", Table: "orders", At: now})
	}
	long := mail.RenderDigest(mail.Digest{ClientID: 116080, HookID: 11, HookURL: url, WindowStart: now, WindowEnd: now.Add(time.Second), Entries: many}, now, mail.Links{})
	disabled := mail.RenderHookDisabled(mail.HookDisabled{ClientID: 116080, HookID: 11, HookURL: url, FailingSince: now, Exhausted: 3, DisabledAt: now}, mail.Links{})
	reenabled := mail.RenderHookReenabled(mail.HookReenabled{ClientID: 116080, HookID: 11, HookURL: url, DisabledAt: now, ReenabledAt: now, Replayed: 7}, mail.Links{})

	tests := []struct {
		name string
		m    mail.Email
		want email
	}{
		{"alert", alert, email{Kind: mailAlert, WebhookID: hook.WebhookID(116080, "chaos-116080-0", 11), HookID: 11, ClientID: 116080}},
		{"digest", digest, email{Kind: mailDigest, WebhookID: "(none)", HookID: 11, ClientID: 116080,
			Listed: []string{hook.WebhookID(116080, "chaos-116080-1", 11), hook.WebhookID(116080, "chaos-116080-2", 11)}}},
		{"disabled", disabled, email{Kind: mailDisabled, WebhookID: "(none)", HookID: 11, ClientID: 116080}},
		{"re-enabled", reenabled, email{Kind: mailReenabled, WebhookID: "(none)", HookID: 11, ClientID: 116080, SentAgain: 7}},
	}
	for _, tt := range tests {
		if got := classify(tt.m.Subject, tt.m.Text); !cmp.Equal(got, tt.want) {
			t.Errorf("%s: %s", tt.name, cmp.Diff(got, tt.want))
		}
	}
	if got := classify(long.Subject, long.Text); got.Kind != mailDigest || len(got.Listed) != mail.MaxDigestLoads || got.More != 3 {
		t.Errorf("a digest of %d loads: kind %q, %d listed, %d more; want %d listed and 3 more", len(many), got.Kind, len(got.Listed), got.More, mail.MaxDigestLoads)
	}
}
