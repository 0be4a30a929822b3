package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// chaosDest is the destination of every account and hook the fault runs
// seed.
const chaosDest = 12345

// The run's accounts, hooks and loads, seeded through the store.

const mainClient, lostClient = 116078, 116079

type hookSpec struct {
	slot     string
	server   string // receiver: flaky, down or hang
	behavior behavior
	enabled  bool
	clientID int64
	id       int64
	secret   string
}

type loadSpec struct {
	clientID int64
	id       string
	body     string
}

type world struct {
	accounts      []int64
	hooks         []hookSpec
	disabledSlots []string
	loads         []loadSpec
	pairs         []pair    // the outage's too, once its driver is done (addOutageLoads)
	runs          []runSpec // the main account's runs (runs.go)
	outage        outageWorld
}

// plannedHooks lays out n hooks of the main account: one on the receiver
// that goes down, one on the receiver that hangs, the last one disabled and
// the rest on the flaky receiver.
func plannedHooks(n int) []hookSpec {
	var hs []hookSpec
	for i := range n {
		h := hookSpec{slot: fmt.Sprintf("flaky-%d", i), server: "flaky", behavior: flaky, enabled: true, clientID: mainClient}
		switch {
		case i == 0:
			h.slot, h.server = "down-0", "down"
		case i == 1:
			h.slot, h.server, h.behavior = "hang-1", "hang", hang
		case i == n-1:
			h.slot, h.enabled = fmt.Sprintf("off-%d", i), false
		}
		hs = append(hs, h)
	}
	return hs
}

// loadBody is a valid loader message for the load.
func loadBody(clientID int64, loadID string, i int) string {
	return fmt.Sprintf(`{"client_id":%d,"destination_id":%d,"load_id":%q,"status":"succeeded","notification":{"version":"1.0",`+
		`"minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"chaos","new_version":false,`+
		`"source_root_table_name":%[4]q,"destination_root_table_name":%[4]q,"table_version":0,`+
		`"tables":[{"source_table_name":%[4]q,"destination_table_name":%[4]q,"num_rows":%[5]d,"num_rows_rejected":0,`+
		`"bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],`+
		`"max_time_extracted":"2026-07-15T14:43:09.030Z"}]}}`, clientID, chaosDest, loadID, loadTable(i), 100+i)
}

// loadTable is the table of load i: two tables, so that each account's
// loads make two webhook-sequence counters, each taken by concurrent loads.
func loadTable(i int) string {
	if i%2 == 1 {
		return "customers"
	}
	return "orders"
}

// largeLoad is the index of the load sent as largeLoadBody: one that no
// wave sends twice (see loadWaves), so no batch of sends holds two.
const largeLoad = 3

// largeLoadBody is the once-lost pair: a valid loader message of about
// 150 KB whose table name is 150,000 '<' (each of which json.Marshal used
// to write as six bytes in retry messages, past SQS's limit). Its pairs must
// be delivered or alerted like every other.
func largeLoadBody(clientID int64, loadID string) string {
	return fmt.Sprintf(`{"client_id":%d,"load_id":%q,"status":"succeeded","notification":{"integration_name":"chaos",`+
		`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,`+
		`"tables":[{"source_table_name":"orders","destination_table_name":%q,"num_rows":1,"num_rows_rejected":0}]}}`,
		clientID, loadID, strings.Repeat("<", 150_000))
}

func seed(ctx context.Context, db *dynamodb.Client, table string, s settings, rid string) (world, error) {
	st := store.New(db, table, time.Now)
	var w world
	type account struct {
		cid    int64
		alerts []string
		hooks  []hookSpec
		loads  int
	}
	accts := []account{{
		cid:    mainClient,
		alerts: []string{"ops-" + rid + "@example.com", "oncall-" + rid + "@example.com"},
		hooks:  plannedHooks(s.hooks),
		loads:  s.loads,
	}}
	if s.breakMode == "lost-pair" {
		// A hook that always fails, on an account with no alert address: the
		// alerter drops its alert, so the pair is neither delivered nor
		// alerted and the first invariant must fail.
		accts = append(accts, account{cid: lostClient, hooks: []hookSpec{
			{slot: "lost-0", server: "flaky", behavior: broken, enabled: true, clientID: lostClient},
		}, loads: 1})
	}
	for _, a := range accts {
		// Auto-disable is off here: only the outage's account has it
		// (outage.go).
		if _, err := st.CreateAccount(ctx, hook.Account{ClientID: a.cid, Plan: "advanced", AlertEmails: a.alerts, NoAutoDisable: true,
			Destinations: []hook.Destination{{ID: chaosDest, Type: "s3"}}}); err != nil {
			return w, fmt.Errorf("create account %d: %w", a.cid, err)
		}
		m, _, err := st.CreateMember(ctx, a.cid, fmt.Sprintf("chaos-%s@example.com", rid))
		if err != nil {
			return w, fmt.Errorf("create member of %d: %w", a.cid, err)
		}
		p := hook.Principal{ClientID: a.cid, MemberID: m.ID}
		w.accounts = append(w.accounts, a.cid)
		var enabled []hookSpec
		for _, h := range a.hooks {
			port := s.receiverPort + map[string]int{"flaky": 0, "down": 1, "hang": 2}[h.server]
			h.secret = hook.NewSecret()
			created, err := st.CreateHook(ctx, p, chaosDest, fmt.Sprintf("https://127.0.0.1:%d/r/%s", port, h.slot), h.secret)
			if err != nil {
				return w, fmt.Errorf("create hook %s: %w", h.slot, err)
			}
			h.id = created.ID
			if a.cid == mainClient {
				if err := subscribeToRuns(ctx, st, p, h.id); err != nil {
					return w, err
				}
			}
			if !h.enabled {
				if _, err := st.SetHookEnabled(ctx, p, h.id, false); err != nil {
					return w, fmt.Errorf("disable hook %d: %w", h.id, err)
				}
				w.disabledSlots = append(w.disabledSlots, h.slot)
			} else {
				enabled = append(enabled, h)
			}
			w.hooks = append(w.hooks, h)
		}
		for i := range a.loads {
			id := fmt.Sprintf("chaos-%d-%d", a.cid, i) // the table is the run's own: same ids, same seeded 5xx
			body := loadBody(a.cid, id, i)
			if i == largeLoad {
				body = largeLoadBody(a.cid, id)
			}
			table := loadTable(i)
			if i == largeLoad {
				table = "orders" // largeLoadBody's root table
			}
			if a.cid == mainClient {
				body = w.joinRun(a.cid, i, a.loads, table, body)
			}
			w.loads = append(w.loads, loadSpec{clientID: a.cid, id: id, body: body})
			for _, h := range enabled {
				w.pairs = append(w.pairs, pair{
					ClientID: a.cid, LoadID: id, HookID: h.id, Slot: h.slot,
					WebhookID: hook.WebhookID(a.cid, id, h.id), AlertTo: a.alerts, Table: table,
				})
			}
		}
		w.pairs = append(w.pairs, w.summaryPairs(a.cid, enabled, a.alerts)...)
	}
	var err error
	w.outage, err = seedOutage(ctx, st, s, rid)
	if err != nil {
		return w, err
	}
	w.accounts = append(w.accounts, outageClient)
	w.hooks = append(w.hooks, w.outage.hook)
	return w, nil
}
