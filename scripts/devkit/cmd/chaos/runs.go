package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/store"
)

// Integration runs in the fault run: the main account's loads (all but the
// large one) are grouped into runs of runSize, each load message naming
// its run, and every hook of the account subscribes to run_completed. Each
// (run, enabled hook) is then one more pair of the run (pair.Summary), so
// every invariant of the pairs holds for summaries too (delivered or
// alerted, no repeat outside a crash window, records final), and
// checkRunSummaries adds what is a run's own: every subscribed hook got one
// and the same summary of its run, listing each of the run's tables at
// most once and nothing else, complete exactly when it lists them all.

// runSize is how many loads one run has (the last run may have fewer).
const runSize = 4

// runWait is the dispatcher's HOOKS_RUN_WAIT in the run: the loads of a
// run are sent within seconds, so most runs complete; a run whose load is
// held up past it by a fault is summed up incomplete, which the checks
// allow (complete must then be false).
const runWait = "30s"

// runSpec is one run of the main account, and the tables of its loads.
type runSpec struct {
	ClientID int64
	ID       string
	EventID  string   // the summary's id (delivery.RunKey.EventID)
	Tables   []string // destination_table_name of each load of the run
}

// runOf names the run of load i of n loads, and its size; "" for the large
// load, which is in no run (its 150,000-byte table name is past what a
// summary lists).
func runOf(i, n int) (string, int) {
	if i == largeLoad {
		return "", 0
	}
	j, others := i, n
	if n > largeLoad {
		others--
		if i > largeLoad {
			j--
		}
	}
	g := j / runSize
	return fmt.Sprintf("run-%d", g), min(runSize, others-g*runSize)
}

// joinRun puts load i of n (of clientID, its one table) into its run:
// the run's key in its body, and the table in w's run. It returns the body.
func (w *world) joinRun(clientID int64, i, n int, table, body string) string {
	id, size := runOf(i, n)
	if id == "" {
		return body
	}
	k := delivery.RunKey{ClientID: clientID, IntegrationName: "chaos", RunID: id}
	at := slices.IndexFunc(w.runs, func(r runSpec) bool { return r.ClientID == clientID && r.ID == id })
	if at < 0 {
		w.runs = append(w.runs, runSpec{ClientID: clientID, ID: id, EventID: k.EventID()})
		at = len(w.runs) - 1
	}
	w.runs[at].Tables = append(w.runs[at].Tables, table)
	return strings.Replace(body, "{", fmt.Sprintf(`{"run":{"id":%q,"tables":%d},`, id, size), 1)
}

// subscribeToRuns makes hook id of p's account take table loads and run
// summaries.
func subscribeToRuns(ctx context.Context, st *store.Store, p hook.Principal, id int64) error {
	_, err := st.SetHookSubscription(ctx, p, id, hook.SubscriptionUpdate{Events: []string{hook.EventTableLoaded, hook.EventRunCompleted}})
	if err != nil {
		return fmt.Errorf("subscribe hook %d to runs: %w", id, err)
	}
	return nil
}

// summaryPairs are the (run, enabled hook) pairs of clientID's runs.
func (w *world) summaryPairs(clientID int64, enabled []hookSpec, alerts []string) []pair {
	var out []pair
	for _, r := range w.runs {
		if r.ClientID != clientID {
			continue
		}
		for _, h := range enabled {
			out = append(out, pair{ClientID: clientID, LoadID: r.EventID, HookID: h.id, Slot: h.slot,
				WebhookID: hook.WebhookID(clientID, r.EventID, h.id), AlertTo: alerts, Summary: true})
		}
	}
	return out
}

// summaryRecords adds the delivery records of the runs' summaries to out,
// and returns each summary's body as its records keep it, by webhook-id.
func (c *chaos) summaryRecords(ctx context.Context, st *store.Store, out map[string]*record) (map[string][]byte, error) {
	bodies := map[string][]byte{}
	for _, p := range c.world.pairs {
		if !p.Summary {
			continue
		}
		d, err := st.GetDelivery(ctx, delivery.Key{ClientID: p.ClientID, LoadID: p.LoadID, HookID: p.HookID})
		if err != nil {
			continue // no record: reported by checkNothingStuck
		}
		rec := &record{Status: d.Status, Attempt: len(d.Attempts),
			Exhausted: exhaustedSequences(d.Status, d.Attempts, c.maxAttempts())}
		for _, a := range d.Attempts {
			if a.Outcome == delivery.OutcomeSuccess {
				rec.Successes++
			}
		}
		out[p.WebhookID], bodies[p.WebhookID] = rec, d.Body
	}
	return bodies, nil
}

// checkRunSummaries: every (run, subscribed hook) has a summary, the same
// one for every hook of the run, listing each of the run's tables at most
// once and no other, complete exactly when it lists them all.
func checkRunSummaries(o observed) row {
	r := row{Name: "one summary per run and subscribed hook, right tables"}
	byRun := map[string][]pair{}
	for _, p := range o.Pairs {
		if p.Summary {
			byRun[p.LoadID] = append(byRun[p.LoadID], p)
		}
	}
	complete, incomplete := 0, 0
	for _, run := range o.Runs {
		var first []byte
		for _, p := range byRun[run.EventID] {
			body, ok := o.Summaries[p.WebhookID]
			switch {
			case !ok:
				addDetail(&r, "run %s hook %d: no summary", run.ID, p.HookID)
				continue
			case first == nil:
				first = body
			case string(body) != string(first):
				addDetail(&r, "run %s: hook %d got another summary than the run's first hook", run.ID, p.HookID)
			}
		}
		if first == nil {
			if len(byRun[run.EventID]) == 0 {
				addDetail(&r, "run %s: no subscribed hook", run.ID)
			}
			continue
		}
		rc, err := notify.ParseRunCompleted(first)
		if err != nil {
			addDetail(&r, "run %s: summary unreadable: %v", run.ID, err)
			continue
		}
		left := slices.Clone(run.Tables)
		for _, t := range rc.Tables {
			i := slices.Index(left, t.DestinationTableName)
			if i < 0 {
				addDetail(&r, "run %s: table %q listed but not one of the run's, or listed twice", run.ID, t.DestinationTableName)
				continue
			}
			left = slices.Delete(left, i, i+1)
		}
		if rc.RunID != run.ID || rc.Complete != (len(left) == 0) {
			addDetail(&r, "run %s: summary of run %q says complete=%t with %d of its %d tables", run.ID, rc.RunID, rc.Complete, len(rc.Tables), len(run.Tables))
		}
		if rc.Complete {
			complete++
		} else {
			incomplete++
		}
	}
	r.Counts = fmt.Sprintf("runs=%d summary-pairs=%d complete=%d incomplete=%d", len(o.Runs), len(o.Summaries), complete, incomplete)
	r.Pass = len(r.Detail) == 0
	return r
}
