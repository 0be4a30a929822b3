package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// The invariants: pure functions of what the run observed, so each one is
// unit-tested with hand-made observations (check_test.go), violations
// included.

// pair is one (load, enabled hook) pair the run expects to be handled.
type pair struct {
	ClientID  int64
	LoadID    string
	HookID    int64
	Slot      string // receiver path of the hook
	WebhookID string
	AlertTo   []string // the account's alert addresses
	Table     string   // destination_root_table_name of the load (integration "chaos")
	Summary   bool     // a run's summary rather than a load (runs.go): LoadID is its event id
}

// receipt is one request a receiver got.
type receipt struct {
	Slot      string // the hook's receiver path
	WebhookID string
	BodyHash  string
	SigOK     bool
	Status    int // status answered; 0 when it hung until the client gave up
	At        time.Time
	Sequence  int64 // the webhook-sequence header; 0 when it had none
}

// record is a delivery record as the store holds it at the end.
type record struct {
	Status    string
	Attempt   int
	Successes int   // attempts recorded with outcome success
	Sequence  int64 // the load's webhook-sequence as the record keeps it
	Exhausted int   // sequences of attempts that ended exhausted (exhaustedSequences)
}

// email is one email in the SES emulator: who got it, what kind it is and
// what it names.
type email struct {
	To        []string
	Kind      string   // mailAlert, mailDigest, mailDisabled, mailReenabled
	WebhookID string   // an alert's pair
	Listed    []string // a digest's pairs, by webhook-id (one per load line)
	More      int      // loads a digest counts without listing them
	HookID    int64    // the hook a digest or health email is about
	ClientID  int64
	SentAgain int // a re-enabled email's count of deliveries sent again
}

// Kinds of email.
const (
	mailAlert     = "" // one exhausted delivery, mailed at once
	mailDigest    = "digest"
	mailDisabled  = "disabled"
	mailReenabled = "reenabled"
)

// window is a span of time in which a fault was active.
type window struct {
	Name       string
	From, Till time.Time
}

func (w window) contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.Till) }

// faults is what the fault injector did.
type faults struct {
	Served5xx     int
	DownWindow    *window // the receiver that was down, nil if it never went down
	Kills         []window
	KillsMidBatch int // kills made while a delivery was in flight
	DBRestart     *window
	DupSends      int
	Poison        int
}

// observed is everything the checks look at.
type observed struct {
	Pairs         []pair
	DisabledSlots []string
	Receipts      []receipt
	Records       map[string]*record // by webhook-id; missing: no record
	Emails        []email
	MainQueued    map[string]int // messages left per main queue (visible + in flight + delayed)
	DLQBodies     map[string][]string
	WantDLQ       map[string][]string // the poison bodies expected per DLQ
	Quiescent     bool
	MaxAttempts   int           // 1 + number of retries
	CrashMargin   time.Duration // the dispatcher's function timeout
	Faults        faults
	Runs          []runSpec         // the runs of the loads (runs.go)
	Summaries     map[string][]byte // each summary's body as its record keeps it, by webhook-id
	Outage        *outageObserved   // the outage hook (outage.go); nil: the scenario did not run
}

// row is one line of the invariant table.
type row struct {
	Name   string
	Counts string
	Pass   bool
	Detail []string // examples of violations
}

func checkAll(o observed) []row {
	return []row{
		checkFaults(o),
		checkDeliveredOrAlerted(o),
		checkEmails(o),
		checkWebhookIDs(o),
		checkDuplicates(o),
		checkRecords(o),
		checkNothingStuck(o),
		checkDLQs(o),
		checkDisabled(o),
		checkSequences(o),
		checkRunSummaries(o),
		checkOutageHealth(o),
		checkOutageReplays(o),
	}
}

// maxDetail bounds the examples printed per failed row.
const maxDetail = 5

func addDetail(r *row, format string, args ...any) {
	if len(r.Detail) < maxDetail {
		r.Detail = append(r.Detail, fmt.Sprintf(format, args...))
	}
}

func checkFaults(o observed) row {
	f := o.Faults
	r := row{Name: "faults were injected"}
	down := "no"
	if f.DownWindow != nil {
		down = f.DownWindow.Till.Sub(f.DownWindow.From).Round(100 * time.Millisecond).String()
	}
	db := "no"
	if f.DBRestart != nil {
		db = f.DBRestart.Till.Sub(f.DBRestart.From).Round(100 * time.Millisecond).String()
	}
	r.Counts = fmt.Sprintf("5xx=%d receiver-down=%s dispatcher-kills=%d (mid-batch %d) dynamodb-restart=%s resent-loads=%d poison=%d",
		f.Served5xx, down, len(f.Kills), f.KillsMidBatch, db, f.DupSends, f.Poison)
	r.Pass = f.Served5xx > 0 && f.DownWindow != nil && len(f.Kills) > 0 && f.KillsMidBatch > 0 &&
		f.DBRestart != nil && f.DupSends > 0 && f.Poison > 0
	if !r.Pass {
		addDetail(&r, "a planned fault did not happen, so the run proves less than it claims")
	}
	return r
}

// byID indexes receipts by webhook-id.
func byID(rs []receipt) map[string][]receipt {
	m := map[string][]receipt{}
	for _, r := range rs {
		m[r.WebhookID] = append(m[r.WebhookID], r)
	}
	return m
}

func got2xx(rs []receipt) int {
	n := 0
	for _, r := range rs {
		if r.Status >= 200 && r.Status < 300 {
			n++
		}
	}
	return n
}

// mailsFor counts, for each webhook-id, how often each recipient was told
// of its exhausted delivery: in an alert of its own, or in a digest that
// lists its load.
func mailsFor(es []email) map[string]map[string]int {
	m := map[string]map[string]int{}
	note := func(id string, to []string) {
		if m[id] == nil {
			m[id] = map[string]int{}
		}
		for _, a := range to {
			m[id][strings.ToLower(a)]++
		}
	}
	for _, e := range es {
		switch e.Kind {
		case mailAlert:
			note(e.WebhookID, e.To)
		case mailDigest:
			for _, id := range e.Listed {
				note(id, e.To)
			}
		}
	}
	return m
}

func checkDeliveredOrAlerted(o observed) row {
	r := row{Name: "every (load, enabled hook) pair delivered or alerted"}
	recv, mails := byID(o.Receipts), mailsFor(o.Emails)
	var delivered, alerted, both, neither int
	for _, p := range o.Pairs {
		d, a := got2xx(recv[p.WebhookID]) > 0, len(mails[p.WebhookID]) > 0
		switch {
		case d && a:
			both++
		case d:
			delivered++
		case a:
			alerted++
		default:
			neither++
			addDetail(&r, "load %s hook %d (%s): no 2xx and no alert", p.LoadID, p.HookID, p.WebhookID)
		}
	}
	r.Counts = fmt.Sprintf("pairs=%d delivered=%d alerted=%d both=%d neither=%d", len(o.Pairs), delivered, alerted, both, neither)
	r.Pass = neither == 0 && len(o.Pairs) > 0
	return r
}

// checkEmails: every exhausted sequence of a pair is told to each alert
// address once, in an alert of its own or in one digest that lists its
// load; nothing else is.
func checkEmails(o observed) row {
	r := row{Name: "one email per alert address per exhausted pair"}
	mails := mailsFor(o.Emails)
	known := map[string]bool{}
	exhausted, want, bad := 0, 0, 0
	for _, p := range o.Pairs {
		known[p.WebhookID] = true
		rec := o.Records[p.WebhookID]
		got := mails[p.WebhookID]
		if rec != nil && rec.Exhausted > 0 {
			exhausted++
			want += len(p.AlertTo) * rec.Exhausted
			for _, to := range p.AlertTo {
				if n := got[strings.ToLower(to)]; n != rec.Exhausted {
					bad++
					addDetail(&r, "load %s hook %d: told %d times to %s (alert or digest), want %d", p.LoadID, p.HookID, n, to, rec.Exhausted)
				}
			}
			if len(got) > len(p.AlertTo) {
				bad++
				addDetail(&r, "load %s hook %d: mail to %d addresses, the account has %d", p.LoadID, p.HookID, len(got), len(p.AlertTo))
			}
			continue
		}
		if len(got) > 0 {
			bad++
			addDetail(&r, "load %s hook %d: alerted but its record is not exhausted", p.LoadID, p.HookID)
		}
	}
	for id := range mails {
		if !known[id] {
			bad++
			addDetail(&r, "an email names webhook-id %q of no pair of this run", id)
		}
	}
	told, atOnce, digests := 0, 0, 0
	for _, per := range mails {
		for _, n := range per {
			told += n
		}
	}
	for _, e := range o.Emails {
		if e.Kind == mailAlert {
			atOnce += len(e.To)
		}
		if e.Kind == mailDigest {
			digests += len(e.To)
			if e.More > 0 {
				bad++
				addDetail(&r, "a digest of hook %d lists %d loads and counts %d more: those cannot be checked", e.HookID, len(e.Listed), e.More)
			}
		}
	}
	r.Counts = fmt.Sprintf("exhausted=%d told=%d want=%d wrong=%d (emails: %d alerts, %d digests)", exhausted, told, want, bad, atOnce, digests)
	r.Pass = bad == 0
	return r
}

// checkWebhookIDs: every request names a pair of the hook it reached, with a
// valid signature, and every repeat of a webhook-id carries the same body.
func checkWebhookIDs(o observed) row {
	r := row{Name: "receiver repeats carry the same webhook-id"}
	slotOf := map[string]string{}
	for _, p := range o.Pairs {
		slotOf[p.WebhookID] = p.Slot
	}
	bodies := map[string]string{}
	bad, repeats := 0, 0
	seen := map[string]bool{}
	for _, rc := range o.Receipts {
		if slices.Contains(o.DisabledSlots, rc.Slot) {
			continue // counted by checkDisabled
		}
		if seen[rc.WebhookID] {
			repeats++
		}
		seen[rc.WebhookID] = true
		switch slot, ok := slotOf[rc.WebhookID]; {
		case !ok:
			bad++
			addDetail(&r, "receiver %s got webhook-id %q of no pair", rc.Slot, rc.WebhookID)
		case slot != rc.Slot:
			bad++
			addDetail(&r, "webhook-id %s of hook %s arrived at hook %s", rc.WebhookID, slot, rc.Slot)
		}
		if !rc.SigOK {
			bad++
			addDetail(&r, "webhook-id %s at %s: signature does not verify", rc.WebhookID, rc.Slot)
		}
		if b, ok := bodies[rc.WebhookID]; ok && b != rc.BodyHash {
			bad++
			addDetail(&r, "webhook-id %s: a repeat carried another body", rc.WebhookID)
		}
		bodies[rc.WebhookID] = rc.BodyHash
	}
	r.Counts = fmt.Sprintf("requests=%d webhook-ids=%d repeats=%d wrong=%d", len(o.Receipts), len(seen), repeats, bad)
	r.Pass = bad == 0
	return r
}

// checkDuplicates: a pair may be answered 2xx more than once only when the
// earlier 2xx were lost to a crash: the store recorded no success for them
// (the result write never happened) and each fell while a fault hit, at most
// one function timeout before the dispatcher was killed or DynamoDB went
// down (the invocation that made it was still running), or while DynamoDB
// was down. The last 2xx is the one the store recorded.
func checkDuplicates(o observed) row {
	r := row{Name: "2xx repeats only in a crash window"}
	wins := crashWindows(o)
	recv := byID(o.Receipts)
	dups, explained := 0, 0
	why := map[string]int{}
	for _, p := range o.Pairs {
		var ok []receipt
		for _, rc := range recv[p.WebhookID] {
			if rc.Status >= 200 && rc.Status < 300 {
				ok = append(ok, rc)
			}
		}
		if len(ok) < 2 {
			continue
		}
		dups++
		recorded := 0
		if rec := o.Records[p.WebhookID]; rec != nil {
			recorded = rec.Successes
		}
		if recorded > 1 {
			addDetail(&r, "load %s hook %d: the store recorded %d successes", p.LoadID, p.HookID, recorded)
			continue
		}
		sort.Slice(ok, func(i, j int) bool { return ok[i].At.Before(ok[j].At) })
		lost := ok[:len(ok)-recorded]
		cause, fine := "", true
		for _, rc := range lost {
			in := ""
			for _, w := range wins {
				if w.contains(rc.At) {
					in = w.Name
					break
				}
			}
			if in == "" {
				fine = false
				addDetail(&r, "load %s hook %d got %d 2xx; the one at %s was not recorded and is in no crash window",
					p.LoadID, p.HookID, len(ok), rc.At.Format("15:04:05.000"))
				break
			}
			cause = in
		}
		if fine {
			explained++
			why[cause]++
		}
	}
	var causes []string
	for name, n := range why {
		causes = append(causes, fmt.Sprintf("%s: %d", name, n))
	}
	sort.Strings(causes)
	r.Counts = fmt.Sprintf("pairs-with-2xx-repeats=%d explained=%d unexplained=%d", dups, explained, dups-explained)
	if len(causes) > 0 {
		r.Counts += " (" + strings.Join(causes, ", ") + ")"
	}
	r.Pass = dups == explained
	return r
}

// crashWindows are the spans in which a 2xx may have been lost to a crash:
// up to one function timeout before each kill of the dispatcher, and from
// one function timeout before DynamoDB went down until just after it was
// back.
func crashWindows(o observed) []window {
	var wins []window
	for _, k := range o.Faults.Kills {
		wins = append(wins, window{Name: "dispatcher killed", From: k.From.Add(-o.CrashMargin), Till: k.From})
	}
	if w := o.Faults.DBRestart; w != nil {
		wins = append(wins, window{Name: "dynamodb restarted", From: w.From.Add(-o.CrashMargin), Till: w.Till.Add(time.Second)})
	}
	return wins
}

// inCrashWindow reports whether t fell in one of wins.
func inCrashWindow(wins []window, t time.Time) bool {
	for _, w := range wins {
		if w.contains(t) {
			return true
		}
	}
	return false
}

// checkRecords: the store's records agree with the receivers: delivered
// only after a 2xx, exhausted only after every attempt.
func checkRecords(o observed) row {
	r := row{Name: "delivery records agree with receivers"}
	recv := byID(o.Receipts)
	var delivered, exhausted, bad int
	for _, p := range o.Pairs {
		rec := o.Records[p.WebhookID]
		if rec == nil {
			continue // counted by checkNothingStuck
		}
		switch rec.Status {
		case delivery.StatusDelivered:
			delivered++
			if got2xx(recv[p.WebhookID]) == 0 {
				bad++
				addDetail(&r, "load %s hook %d: delivered but no receiver answered 2xx", p.LoadID, p.HookID)
			}
		case delivery.StatusExhausted:
			exhausted++
			if rec.Attempt != o.MaxAttempts {
				bad++
				addDetail(&r, "load %s hook %d: exhausted after %d attempts, want %d", p.LoadID, p.HookID, rec.Attempt, o.MaxAttempts)
			}
		}
	}
	r.Counts = fmt.Sprintf("delivered=%d exhausted=%d (after %d attempts) wrong=%d", delivered, exhausted, o.MaxAttempts, bad)
	r.Pass = bad == 0
	return r
}

func checkNothingStuck(o observed) row {
	r := row{Name: "no message stuck"}
	queued := 0
	var names []string
	for q := range o.MainQueued {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		if n := o.MainQueued[q]; n > 0 {
			queued += n
			addDetail(&r, "queue %s still holds %d messages", q, n)
		}
	}
	missing, open := 0, 0
	for _, p := range o.Pairs {
		rec := o.Records[p.WebhookID]
		switch {
		case rec == nil:
			missing++
			addDetail(&r, "load %s hook %d: no delivery record", p.LoadID, p.HookID)
		case rec.Status != delivery.StatusDelivered && rec.Status != delivery.StatusExhausted:
			open++
			addDetail(&r, "load %s hook %d: record still %s at attempt %d", p.LoadID, p.HookID, rec.Status, rec.Attempt)
		}
	}
	if !o.Quiescent {
		addDetail(&r, "the run never became quiescent within its time limit")
	}
	r.Counts = fmt.Sprintf("queued=%d records-missing=%d records-not-final=%d quiescent=%t", queued, missing, open, o.Quiescent)
	r.Pass = queued == 0 && missing == 0 && open == 0 && o.Quiescent
	return r
}

// checkDLQs: each DLQ holds exactly the poison injected into its queue.
// One more copy of a poison message per dispatcher kill is allowed: the
// invocation that dead-lettered it may have been killed before its batch was
// answered, and the redelivered message is dead-lettered again (SQS is at
// least once). goaws stamps SentTimestamp when a message is received, so the
// copies cannot be placed in time as checkDuplicates places 2xx repeats.
func checkDLQs(o observed) row {
	r := row{Name: "DLQs hold only the injected poison"}
	var names []string
	for q := range o.DLQBodies {
		names = append(names, q)
	}
	for q := range o.WantDLQ {
		if _, ok := o.DLQBodies[q]; !ok {
			names = append(names, q)
		}
	}
	sort.Strings(names)
	var parts []string
	bad, repeats := 0, 0
	for _, q := range names {
		copies := map[string]int{}
		for _, b := range o.DLQBodies[q] {
			copies[b]++
		}
		want := map[string]bool{}
		for _, b := range o.WantDLQ[q] {
			want[b] = true
			if copies[b] == 0 {
				bad++
				addDetail(&r, "%s lacks an injected poison message (%d bytes)", q, len(b))
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%d/%d", q, len(o.DLQBodies[q]), len(o.WantDLQ[q])))
		var bodies []string
		for b := range copies {
			bodies = append(bodies, b)
		}
		sort.Strings(bodies)
		for _, b := range bodies {
			switch n := copies[b]; {
			case !want[b]:
				bad++
				addDetail(&r, "%s holds %d copies of a message not injected into it (%d bytes)", q, n, len(b))
			case n-1 > len(o.Faults.Kills):
				bad++
				addDetail(&r, "%s holds %d copies of a poison message, more than 1 + %d dispatcher kills", q, n, len(o.Faults.Kills))
			default:
				repeats += n - 1
			}
		}
	}
	r.Counts = strings.Join(parts, " ") + fmt.Sprintf(" (got/want), repeats-after-a-kill=%d", repeats)
	r.Pass = bad == 0
	return r
}

func checkDisabled(o observed) row {
	r := row{Name: "disabled hooks got nothing"}
	n := 0
	for _, rc := range o.Receipts {
		if slices.Contains(o.DisabledSlots, rc.Slot) {
			n++
			addDetail(&r, "disabled hook %s got webhook-id %s", rc.Slot, rc.WebhookID)
		}
	}
	r.Counts = fmt.Sprintf("disabled-hooks=%d requests=%d", len(o.DisabledSlots), n)
	r.Pass = n == 0
	return r
}

// checkSequences: per (account, table) the loads' numbers, as their
// records keep them, are exactly 1..n, one per load; every request of a
// load, on every hook and attempt, carries its record's number.
func checkSequences(o observed) row {
	r := row{Name: "no sequence gap or repeat"}
	type table struct {
		client int64
		name   string
	}
	loadSeq := map[string]int64{} // client/load -> number
	byWebhook := map[string]string{}
	perTable := map[table]map[int64][]string{}
	for _, p := range o.Pairs {
		if p.Summary {
			continue // a run's summary carries no sequence
		}
		load := fmt.Sprintf("%d/%s", p.ClientID, p.LoadID)
		byWebhook[p.WebhookID] = load
		rec := o.Records[p.WebhookID]
		if rec == nil || rec.Status == delivery.StatusAttempting {
			continue // reported by the other rows
		}
		if rec.Sequence <= 0 {
			addDetail(&r, "load %s hook %d: recorded without a number", p.LoadID, p.HookID)
			continue
		}
		if n, ok := loadSeq[load]; ok {
			if n != rec.Sequence {
				addDetail(&r, "load %s: entries keep %d and %d", p.LoadID, n, rec.Sequence)
			}
			continue
		}
		loadSeq[load] = rec.Sequence
		t := table{p.ClientID, p.Table}
		if perTable[t] == nil {
			perTable[t] = map[int64][]string{}
		}
		perTable[t][rec.Sequence] = append(perTable[t][rec.Sequence], p.LoadID)
	}
	maxN := int64(0)
	for t, nums := range perTable {
		for n := int64(1); n <= int64(len(nums)); n++ {
			if len(nums[n]) == 0 {
				addDetail(&r, "client %d table %q: number %d skipped", t.client, t.name, n)
			}
		}
		for n, loads := range nums {
			maxN = max(maxN, n)
			if len(loads) > 1 {
				addDetail(&r, "client %d table %q: number %d used by %d loads (%s)", t.client, t.name, n, len(loads), strings.Join(loads, ", "))
			}
			if n > int64(len(nums)) {
				addDetail(&r, "client %d table %q: number %d past the %d loads", t.client, t.name, n, len(nums))
			}
		}
	}
	checked := 0
	for _, rc := range o.Receipts {
		load, ok := byWebhook[rc.WebhookID]
		if !ok {
			continue
		}
		want, ok := loadSeq[load]
		if !ok {
			continue
		}
		checked++
		if rc.Sequence != want {
			addDetail(&r, "request %s carried webhook-sequence %d, its record keeps %d", rc.WebhookID, rc.Sequence, want)
		}
	}
	r.Counts = fmt.Sprintf("tables=%d loads=%d highest=%d requests-checked=%d", len(perTable), len(loadSeq), maxN, checked)
	r.Pass = len(r.Detail) == 0 && len(loadSeq) > 0
	return r
}

// printTable writes the table and, last, "N passed, M failed". It reports
// whether every row passed.
func printTable(w io.Writer, rows []row) bool {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	passed, failed := 0, 0
	fmt.Fprintln(w)
	for _, r := range rows {
		mark := "PASS"
		if r.Pass {
			passed++
		} else {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s  %-*s  %s\n", mark, width, r.Name, r.Counts)
		if !r.Pass {
			for _, d := range r.Detail {
				fmt.Fprintf(w, "        - %s\n", d)
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return failed == 0
}
