package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// The load record's contract (one record per load, see loadrecord.go), run
// against DynamoDB Local and memstore like the rest of the contract.

type loadRecordStore interface {
	ClaimLoad(ctx context.Context, l delivery.Load, hookIDs []int64, token string, lease time.Duration) ([]delivery.Claim, map[int64]*delivery.Record, error)
	ClaimHook(ctx context.Context, c delivery.Claim, bodyDigest string, lease time.Duration) (bool, *delivery.Record, error)
	RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error)
	CancelHook(ctx context.Context, c delivery.Claim) error
	SkipHook(ctx context.Context, c delivery.Claim) error

	ListDeliveries(ctx context.Context, q delivery.ListQuery) (delivery.Page, error)
	GetDelivery(ctx context.Context, k delivery.Key) (delivery.Delivery, error)
	Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error)
	UndoResend(ctx context.Context, k delivery.Key, ended delivery.Ended) error
	ExhaustedDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error)
	RecordTest(ctx context.Context, k delivery.Key, body []byte, a delivery.Attempt) error
}

var (
	_ loadRecordStore = (*store.Store)(nil)
	_ loadRecordStore = (*memstore.Store)(nil)
)

type lrContract struct {
	s     loadRecordStore
	clock *testClock
}

func TestContractLoadRecordDynamoDB(t *testing.T) {
	runLoadRecordContract(t, func(t *testing.T) lrContract {
		f := newFixture(t)
		return lrContract{s: f.store, clock: f.clock}
	})
}

func TestContractLoadRecordMemstore(t *testing.T) {
	runLoadRecordContract(t, func(*testing.T) lrContract {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		return lrContract{s: memstore.New(clock.Now), clock: clock}
	})
}

func runLoadRecordContract(t *testing.T, open func(t *testing.T) lrContract) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c lrContract)
	}{
		{"ClaimLoadOnceForEveryHook", lrClaimOnce},
		{"ClaimLoadAddsHooks", lrClaimAddsHooks},
		{"ClaimLoadOtherBody", lrClaimOtherBody},
		{"LeaseTakeover", lrTakeover},
		{"RecordResultsAndRetries", lrResults},
		{"RecordResultsClaimLost", lrResultsLost},
		{"RecordResultsRepeated", lrResultsRepeated},
		{"Cancel", lrCancel},
		{"History", lrHistory},
		{"HistoryCursor", lrCursor},
		{"Resend", lrResend},
		{"ResendUndone", lrResendUndone},
		{"ResendOfATest", lrResendTest},
		{"Exhausted", lrExhausted},
		{"TestDelivery", lrTest},
		{"ConcurrentClaimsOneWinsPerHook", lrConcurrent},
		{"KeptWithinTTL", lrTTL},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

const lrLease = 30 * time.Second

var lrBody = []byte(`{"version":"1.0","minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"shopify",` +
	`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,` +
	`"tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":100,"num_rows_rejected":11,` +
	`"bookmark_metadata":null,"max_time_extracted":"2026-07-15T14:43:09.030Z"}]}`)

func lrLoad(loadID string) delivery.Load {
	return delivery.Load{ClientID: cClient, LoadID: loadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: lrBody}
}

func lrKey(loadID string, hookID int64) delivery.Key {
	return delivery.Key{ClientID: cClient, LoadID: loadID, HookID: hookID}
}

func (c lrContract) claimLoad(t *testing.T, loadID string, hooks ...int64) []delivery.Claim {
	t.Helper()
	claims, conflicts, err := c.s.ClaimLoad(context.Background(), lrLoad(loadID), hooks, "tok-"+loadID, lrLease)
	if err != nil || len(conflicts) != 0 || len(claims) != len(hooks) {
		t.Fatalf("ClaimLoad(%s, %v) = %v, %v, %v; want every hook claimed", loadID, hooks, claims, conflicts, err)
	}
	return claims
}

func ok(at time.Time) delivery.Attempt {
	return delivery.Attempt{At: at, Outcome: delivery.OutcomeSuccess, StatusCode: 200, LatencyMs: 12, Snippet: "kept only on failure"}
}

func (c lrContract) record(t *testing.T, rs ...delivery.Result) []delivery.Record {
	t.Helper()
	recs, errs := c.s.RecordResults(context.Background(), rs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("RecordResults result %d: %v", i, err)
		}
	}
	return recs
}

func lrClaimOnce(t *testing.T, c lrContract) {
	ctx := context.Background()
	claims := c.claimLoad(t, "L1", 1, 2, 3)
	for _, cl := range claims {
		if cl.Attempt != 1 || cl.Token != "tok-L1" || cl.ClientID != cClient || cl.LoadID != "L1" {
			t.Errorf("claim = %+v", cl)
		}
	}
	// A duplicate of the load message, by another invocation.
	got, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2, 3}, "other", lrLease)
	if err != nil || len(got) != 0 || len(conflicts) != 3 {
		t.Fatalf("second ClaimLoad = %v, %v, %v; want three conflicts", got, conflicts, err)
	}
	for id, rec := range conflicts {
		if rec == nil || rec.Status != delivery.StatusAttempting || rec.Attempt != 1 ||
			rec.WebhookID != hook.WebhookID(cClient, "L1", id) || delivery.OnClaimConflict(rec, 1, c.clock.Now()) != delivery.Later {
			t.Errorf("conflict of hook %d = %+v, want attempting attempt 1 under a live lease", id, rec)
		}
	}
	// The same claim again (the SDK retried a write whose answer was lost).
	again, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2, 3}, "tok-L1", lrLease)
	if err != nil || len(again) != 3 || len(conflicts) != 0 {
		t.Fatalf("repeated ClaimLoad = %v, %v, %v; want its own claims", again, conflicts, err)
	}
}

func lrClaimAddsHooks(t *testing.T, c lrContract) {
	ctx := context.Background()
	cl := c.claimLoad(t, "L1", 1)
	c.record(t, delivery.Result{Claim: cl[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered})
	// The same load again with a hook added since: only the new hook is claimed.
	claims, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2}, "t2", lrLease)
	if err != nil || len(claims) != 1 || claims[0].HookID != 2 {
		t.Fatalf("ClaimLoad = %v, %v, %v; want hook 2 claimed", claims, conflicts, err)
	}
	if rec := conflicts[1]; rec == nil || rec.Status != delivery.StatusDelivered || delivery.OnClaimConflict(rec, 1, c.clock.Now()) != delivery.Ack {
		t.Errorf("conflict of hook 1 = %+v, want delivered", rec)
	}
}

func lrClaimOtherBody(t *testing.T, c lrContract) {
	c.claimLoad(t, "L1", 1)
	other := lrLoad("L1")
	other.Body = []byte(`{"version":"1.0","other":true}`)
	claims, conflicts, err := c.s.ClaimLoad(context.Background(), other, []int64{1, 2}, "t2", lrLease)
	if err != nil || len(claims) != 0 || len(conflicts) != 2 {
		t.Fatalf("ClaimLoad with another body = %v, %v, %v; want nothing claimed", claims, conflicts, err)
	}
	if conflicts[2] != nil {
		t.Errorf("conflict of hook 2 = %+v, want none (no entry)", conflicts[2])
	}
}

func lrTakeover(t *testing.T, c lrContract) {
	ctx := context.Background()
	old := c.claimLoad(t, "L1", 1, 2)
	c.clock.Advance(lrLease + time.Second)
	// The invocation holding the claims died: another takes them over.
	claims, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2}, "t2", lrLease)
	if err != nil || len(claims) != 2 || len(conflicts) != 0 {
		t.Fatalf("takeover = %v, %v, %v; want both hooks", claims, conflicts, err)
	}
	_, errs := c.s.RecordResults(ctx, []delivery.Result{{Claim: old[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered}})
	if !errors.Is(errs[0], delivery.ErrClaimLost) {
		t.Errorf("result under the expired claim: %v, want ErrClaimLost", errs[0])
	}
}

func lrResults(t *testing.T, c lrContract) {
	ctx := context.Background()
	claims := c.claimLoad(t, "L1", 1, 2)
	fail := delivery.Attempt{At: c.clock.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, LatencyMs: 3, Snippet: "boom"}
	recs := c.record(t,
		delivery.Result{Claim: claims[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered},
		delivery.Result{Claim: claims[1], Attempt: fail, Status: delivery.StatusWaiting})
	// Attempt times are kept at millisecond precision; a success keeps no
	// snippet.
	wantOK, wantFail := ok(c.clock.Now()), fail
	wantOK.Snippet = ""
	wantOK.At, wantFail.At = wantOK.At.Truncate(time.Millisecond), wantFail.At.Truncate(time.Millisecond)
	if diff := cmp.Diff(recs[0].Attempts, []delivery.Attempt{wantOK}); diff != "" || recs[0].Status != delivery.StatusDelivered {
		t.Errorf("hook 1: status %s, attempts (-got +want):\n%s", recs[0].Status, diff)
	}
	if diff := cmp.Diff(recs[1].Attempts, []delivery.Attempt{wantFail}); diff != "" || recs[1].Status != delivery.StatusWaiting {
		t.Errorf("hook 2: status %s, attempts (-got +want):\n%s", recs[1].Status, diff)
	}
	// The retry of hook 2.
	digest := delivery.BodyDigest(lrBody)
	if claimed, _, err := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("L1", 2), 3), digest, lrLease); claimed || err != nil {
		t.Fatalf("ClaimHook of a future attempt = %v, %v", claimed, err)
	}
	if claimed, _, err := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("L1", 2), 2), "another", lrLease); claimed || err != nil {
		t.Fatalf("ClaimHook with another body = %v, %v", claimed, err)
	}
	retry := delivery.NewClaim(lrKey("L1", 2), 2)
	if claimed, cur, err := c.s.ClaimHook(ctx, retry, digest, lrLease); !claimed || err != nil {
		t.Fatalf("ClaimHook = %v, %+v, %v", claimed, cur, err)
	}
	if claimed, _, err := c.s.ClaimHook(ctx, retry, digest, lrLease); !claimed || err != nil {
		t.Fatalf("repeated ClaimHook = %v, %v; want its own claim", claimed, err)
	}
	if claimed, cur, _ := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("L1", 2), 2), digest, lrLease); claimed || cur == nil || cur.Status != delivery.StatusAttempting {
		t.Fatalf("duplicate ClaimHook = %v, %+v", claimed, cur)
	}
	c.clock.Advance(time.Second)
	recs = c.record(t, delivery.Result{Claim: retry, Attempt: fail, Status: delivery.StatusExhausted})
	if len(recs[0].Attempts) != 2 || recs[0].Status != delivery.StatusExhausted || recs[0].Attempt != 2 {
		t.Errorf("after the retry: %+v", recs[0])
	}
	if claimed, _, err := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("L9", 2), 2), digest, lrLease); claimed || err != nil {
		t.Errorf("ClaimHook without a record = %v, %v", claimed, err)
	}
}

func lrResultsLost(t *testing.T, c lrContract) {
	ctx := context.Background()
	claims := c.claimLoad(t, "L1", 1, 2)
	stale := claims[1]
	stale.Token = "not-mine"
	recs, errs := c.s.RecordResults(ctx, []delivery.Result{
		{Claim: claims[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered},
		{Claim: stale, Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered},
	})
	if errs[0] != nil || recs[0].Status != delivery.StatusDelivered {
		t.Errorf("result 0: %+v, %v; want written", recs[0], errs[0])
	}
	if !errors.Is(errs[1], delivery.ErrClaimLost) {
		t.Errorf("result 1: %v, want ErrClaimLost", errs[1])
	}
}

func lrResultsRepeated(t *testing.T, c lrContract) {
	claims := c.claimLoad(t, "L1", 1, 2)
	rs := []delivery.Result{
		{Claim: claims[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered},
		{Claim: claims[1], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered},
	}
	first := c.record(t, rs...)
	again := c.record(t, rs...) // the SDK retried a write that was applied
	if diff := cmp.Diff(again, first); diff != "" {
		t.Errorf("repeated RecordResults (-got +want):\n%s", diff)
	}
}

func lrCancel(t *testing.T, c lrContract) {
	ctx := context.Background()
	claims := c.claimLoad(t, "L1", 1)
	if err := c.s.CancelHook(ctx, claims[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.s.CancelHook(ctx, claims[0]); err != nil {
		t.Errorf("repeated CancelHook: %v", err)
	}
	other := claims[0]
	other.Token = "x"
	if err := c.s.CancelHook(ctx, other); !errors.Is(err, delivery.ErrClaimLost) {
		t.Errorf("CancelHook under another claim: %v, want ErrClaimLost", err)
	}
	d, err := c.s.GetDelivery(ctx, lrKey("L1", 1))
	if err != nil || d.Status != delivery.StatusCancelled {
		t.Errorf("GetDelivery = %+v, %v; want cancelled", d, err)
	}
	// SkipHook ends a delivery as skipped, under the same rules.
	skip := c.claimLoad(t, "L2", 1)
	if err := c.s.SkipHook(ctx, skip[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.s.SkipHook(ctx, skip[0]); err != nil {
		t.Errorf("repeated SkipHook: %v", err)
	}
	if err := c.s.CancelHook(ctx, skip[0]); !errors.Is(err, delivery.ErrClaimLost) {
		t.Errorf("CancelHook after SkipHook: %v, want ErrClaimLost", err)
	}
	if d, err := c.s.GetDelivery(ctx, lrKey("L2", 1)); err != nil || d.Status != delivery.StatusSkipped {
		t.Errorf("GetDelivery = %+v, %v; want skipped", d, err)
	}
}

// deliver makes load loadID of hooks, each delivered (or exhausted when
// failed), one second after the last.
func (c lrContract) deliver(t *testing.T, loadID string, status string, hooks ...int64) {
	t.Helper()
	c.clock.Advance(time.Second)
	var rs []delivery.Result
	for _, cl := range c.claimLoad(t, loadID, hooks...) {
		a := ok(c.clock.Now())
		if status != delivery.StatusDelivered {
			a = delivery.Attempt{At: c.clock.Now(), Outcome: delivery.OutcomeTimeout, Error: "timeout"}
		}
		rs = append(rs, delivery.Result{Claim: cl, Attempt: a, Status: status})
	}
	c.record(t, rs...)
}

func loadIDs(ds []delivery.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.LoadID)
	}
	return out
}

// listAll reads every page of q.
func (c lrContract) listAll(t *testing.T, q delivery.ListQuery) []string {
	t.Helper()
	var all []string
	for range 100 {
		p, err := c.s.ListDeliveries(context.Background(), q)
		if err != nil {
			t.Fatalf("ListDeliveries(%+v): %v", q, err)
		}
		if len(p.Deliveries) > q.Limit {
			t.Fatalf("page of %d deliveries, limit %d", len(p.Deliveries), q.Limit)
		}
		all = append(all, loadIDs(p.Deliveries)...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
	t.Fatal("ListDeliveries never ended")
	return nil
}

func lrHistory(t *testing.T, c lrContract) {
	ctx := context.Background()
	c.deliver(t, "L1", delivery.StatusDelivered, 1, 2)
	c.deliver(t, "L2", delivery.StatusExhausted, 1)
	c.deliver(t, "L3", delivery.StatusDelivered, 2)
	c.deliver(t, "L4", delivery.StatusDelivered, 1)
	c.claimLoad(t, "L5", 1) // first attempt in flight: not listed yet
	for _, tc := range []struct {
		hook   int64
		status string
		limit  int
		want   []string
	}{
		{1, "", 10, []string{"L4", "L2", "L1"}},
		{1, "", 1, []string{"L4", "L2", "L1"}},
		{1, "", 2, []string{"L4", "L2", "L1"}},
		{1, delivery.StatusExhausted, 10, []string{"L2"}},
		{1, delivery.StatusExhausted, 1, []string{"L2"}},
		{2, "", 10, []string{"L3", "L1"}},
		{3, "", 10, nil},
	} {
		got := c.listAll(t, delivery.ListQuery{ClientID: cClient, HookID: tc.hook, Status: tc.status, Limit: tc.limit})
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("hook %d status %q limit %d (-got +want):\n%s", tc.hook, tc.status, tc.limit, diff)
		}
	}
	p, err := c.s.ListDeliveries(ctx, delivery.ListQuery{ClientID: cClient, HookID: 1, Limit: 1})
	if err != nil || len(p.Deliveries) != 1 {
		t.Fatalf("first page = %+v, %v", p, err)
	}
	d := p.Deliveries[0]
	if d.Body != nil || d.IntegrationName != "shopify" || !cmp.Equal(d.Tables, []string{"orders"}) ||
		d.WebhookID != hook.WebhookID(cClient, "L4", 1) || d.Status != delivery.StatusDelivered || len(d.Attempts) != 1 || d.CreatedAt.IsZero() {
		t.Errorf("listed delivery = %+v", d)
	}
	// Another client sees none of them.
	if got := c.listAll(t, delivery.ListQuery{ClientID: cOther, HookID: 1, Limit: 10}); len(got) != 0 {
		t.Errorf("other client lists %v", got)
	}
	full, err := c.s.GetDelivery(ctx, lrKey("L4", 1))
	if err != nil || string(full.Body) != string(lrBody) || full.CreatedAt != d.CreatedAt {
		t.Errorf("GetDelivery = %+v, %v", full, err)
	}
	for _, k := range []delivery.Key{lrKey("L4", 2), lrKey("nope", 1), {ClientID: cOther, LoadID: "L4", HookID: 1}} {
		if _, err := c.s.GetDelivery(ctx, k); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("GetDelivery(%+v): %v, want ErrNotFound", k, err)
		}
	}
}

func lrCursor(t *testing.T, c lrContract) {
	ctx := context.Background()
	c.deliver(t, "L1", delivery.StatusDelivered, 1)
	c.deliver(t, "L2", delivery.StatusDelivered, 1)
	q := delivery.ListQuery{ClientID: cClient, HookID: 1, Limit: 1}
	p, err := c.s.ListDeliveries(ctx, q)
	if err != nil || p.Next == "" {
		t.Fatalf("first page = %+v, %v; want a next cursor", p, err)
	}
	for name, bad := range map[string]delivery.ListQuery{
		"garbage":      {ClientID: cClient, HookID: 1, Limit: 1, Cursor: "%%%"},
		"other client": {ClientID: cOther, HookID: 1, Limit: 1, Cursor: p.Next},
		"other hook":   {ClientID: cClient, HookID: 2, Limit: 1, Cursor: p.Next},
		"other status": {ClientID: cClient, HookID: 1, Status: delivery.StatusDelivered, Limit: 1, Cursor: p.Next},
		"forged":       {ClientID: cClient, HookID: 1, Limit: 1, Cursor: delivery.Cursor{ClientID: cClient, HookID: 1, After: "x", LoadID: "y"}.Encode()},
	} {
		if _, err := c.s.ListDeliveries(ctx, bad); !errors.Is(err, hook.ErrInvalidCursor) {
			t.Errorf("%s cursor: %v, want ErrInvalidCursor", name, err)
		}
	}
}

func lrResend(t *testing.T, c lrContract) {
	ctx := context.Background()
	c.deliver(t, "L1", delivery.StatusExhausted, 1)
	if _, err := c.s.Resend(ctx, lrKey("L1", 2)); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("Resend without an entry: %v, want ErrNotFound", err)
	}
	r, err := c.s.Resend(ctx, lrKey("L1", 1))
	if err != nil {
		t.Fatal(err)
	}
	want := delivery.RetryMessage{Kind: delivery.KindRetry, ClientID: cClient, LoadID: "L1", HookID: 1, Attempt: 1,
		WebhookID: hook.WebhookID(cClient, "L1", 1), Body: lrBody}
	if diff := cmp.Diff(r.Message, want); diff != "" {
		t.Errorf("retry message (-got +want):\n%s", diff)
	}
	if d := r.Delivery; d.Status != delivery.StatusAttempting || len(d.Attempts) != 1 {
		t.Errorf("resent delivery = %+v, want attempting again with its attempt kept", d)
	}
	// The history shows it attempting, and lists it under that status only.
	if d, err := c.s.GetDelivery(ctx, lrKey("L1", 1)); err != nil || d.Status != delivery.StatusAttempting {
		t.Errorf("GetDelivery after the resend = %+v, %v; want attempting", d, err)
	}
	for st, n := range map[string]int{delivery.StatusAttempting: 1, delivery.StatusWaiting: 0, delivery.StatusExhausted: 0} {
		p, err := c.s.ListDeliveries(ctx, delivery.ListQuery{ClientID: cClient, HookID: 1, Status: st, Limit: 10})
		if err != nil || len(p.Deliveries) != n {
			t.Errorf("ListDeliveries status=%s after the resend: %d, %v; want %d", st, len(p.Deliveries), err, n)
		}
	}
	if r.Ended != (delivery.Ended{Status: delivery.StatusExhausted, Attempt: 1}) {
		t.Errorf("ended = %+v, want exhausted at attempt 1", r.Ended)
	}
	if cur, err := c.s.Resend(ctx, lrKey("L1", 1)); !errors.Is(err, hook.ErrDeliveryInProgress) || cur.Delivery.Status != delivery.StatusAttempting {
		t.Errorf("second Resend = %+v, %v; want ErrDeliveryInProgress", cur, err)
	}
	// The fresh sequence starts at attempt 1.
	cl := delivery.NewClaim(lrKey("L1", 1), 1)
	if claimed, cur, err := c.s.ClaimHook(ctx, cl, delivery.BodyDigest(lrBody), lrLease); !claimed || err != nil {
		t.Fatalf("ClaimHook of the resent attempt = %v, %+v, %v", claimed, cur, err)
	}
	recs := c.record(t, delivery.Result{Claim: cl, Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered})
	if len(recs[0].Attempts) != 2 || recs[0].Status != delivery.StatusDelivered {
		t.Errorf("after the resent attempt: %+v", recs[0])
	}
}

// lrResendUndone: a resend whose message could not be queued is put back as
// the delivery had ended (exhausted again, and so replayable and resendable
// again); an undo after the resent attempt was claimed changes nothing.
func lrResendUndone(t *testing.T, c lrContract) {
	ctx := context.Background()
	c.deliver(t, "L1", delivery.StatusExhausted, 1)
	r, err := c.s.Resend(ctx, lrKey("L1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.s.UndoResend(ctx, lrKey("L1", 1), r.Ended); err != nil {
		t.Fatal(err)
	}
	d, err := c.s.GetDelivery(ctx, lrKey("L1", 1))
	if err != nil || d.Status != delivery.StatusExhausted || len(d.Attempts) != 1 {
		t.Fatalf("after the undo: %+v, %v; want exhausted as before", d, err)
	}
	if ds, err := c.s.ExhaustedDeliveries(ctx, cClient, 1, c.clock.Now().Add(-time.Hour), c.clock.Now().Add(time.Hour), 10); err != nil || len(ds) != 1 {
		t.Errorf("exhausted after the undo: %d, %v; want it replayable", len(ds), err)
	}
	// Resent again, its attempt claimed: an undo (a lost queue answer
	// whose message did arrive) leaves the attempt alone.
	r, err = c.s.Resend(ctx, lrKey("L1", 1))
	if err != nil || r.Ended.Status != delivery.StatusExhausted {
		t.Fatalf("Resend after the undo: %+v, %v", r, err)
	}
	cl := delivery.NewClaim(lrKey("L1", 1), 1)
	if claimed, _, err := c.s.ClaimHook(ctx, cl, delivery.BodyDigest(lrBody), lrLease); !claimed || err != nil {
		t.Fatalf("ClaimHook: %v %v", claimed, err)
	}
	if err := c.s.UndoResend(ctx, lrKey("L1", 1), r.Ended); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.s.GetDelivery(ctx, lrKey("L1", 1)); d.Status != delivery.StatusAttempting {
		t.Errorf("undo after the claim: %s, want attempting", d.Status)
	}
	if err := c.s.UndoResend(ctx, lrKey("none", 1), r.Ended); err != nil {
		t.Errorf("undo of no delivery: %v", err)
	}
}

// lrResendTest: a test notification is never resent; it stays as it was.
func lrResendTest(t *testing.T, c lrContract) {
	ctx := context.Background()
	fail := delivery.Attempt{At: c.clock.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, Error: "http_status"}
	if err := c.s.RecordTest(ctx, lrKey("test-r", 1), lrBody, fail); err != nil {
		t.Fatal(err)
	}
	if r, err := c.s.Resend(ctx, lrKey("test-r", 1)); !errors.Is(err, hook.ErrTestDelivery) || r.Message.Kind != "" {
		t.Errorf("Resend of a test = %+v, %v; want ErrTestDelivery and no message", r, err)
	}
	if _, err := c.s.Resend(ctx, lrKey("test-none", 1)); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("Resend of an unknown test: %v, want ErrNotFound", err)
	}
	if d, err := c.s.GetDelivery(ctx, lrKey("test-r", 1)); err != nil || d.Status != delivery.StatusExhausted {
		t.Errorf("test delivery after the refused resend: %+v, %v", d, err)
	}
}

func lrExhausted(t *testing.T, c lrContract) {
	ctx := context.Background()
	start := c.clock.Now()
	for i := range 5 {
		status := delivery.StatusExhausted
		if i == 2 {
			status = delivery.StatusDelivered
		}
		c.deliver(t, fmt.Sprintf("L%d", i), status, 1)
	}
	if err := c.s.RecordTest(ctx, lrKey("test-1", 1), lrBody, delivery.Attempt{At: c.clock.Now(), Outcome: delivery.OutcomeTimeout}); err != nil {
		t.Fatal(err)
	}
	end := c.clock.Now()
	for _, tc := range []struct {
		since, until time.Time
		max          int
		want         []string
	}{
		{start, end.Add(time.Second), 100, []string{"L0", "L1", "L3", "L4"}},
		{start, end.Add(time.Second), 2, []string{"L0", "L1"}},
		{start.Add(2 * time.Second), end, 100, []string{"L1", "L3"}},
	} {
		got, err := c.s.ExhaustedDeliveries(ctx, cClient, 1, tc.since, tc.until, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(loadIDs(got), tc.want); diff != "" {
			t.Errorf("ExhaustedDeliveries(%v, %v, %d) (-got +want):\n%s", tc.since.Sub(start), tc.until.Sub(start), tc.max, diff)
		}
	}
	if got, _ := c.s.ExhaustedDeliveries(ctx, cOther, 1, start, end.Add(time.Second), 100); len(got) != 0 {
		t.Errorf("other client: %v", loadIDs(got))
	}
}

func lrTest(t *testing.T, c lrContract) {
	ctx := context.Background()
	a := delivery.Attempt{At: c.clock.Now(), Outcome: delivery.OutcomeSuccess, StatusCode: 204, LatencyMs: 5}
	if err := c.s.RecordTest(ctx, lrKey("test-abc", 1), lrBody, a); err != nil {
		t.Fatal(err)
	}
	d, err := c.s.GetDelivery(ctx, lrKey("test-abc", 1))
	if err != nil || d.Status != delivery.StatusDelivered || string(d.Body) != string(lrBody) || len(d.Attempts) != 1 || d.IntegrationName != "shopify" {
		t.Errorf("test delivery = %+v, %v", d, err)
	}
	if got := c.listAll(t, delivery.ListQuery{ClientID: cClient, HookID: 1, Limit: 10}); !cmp.Equal(got, []string{"test-abc"}) {
		t.Errorf("history = %v, want the test delivery", got)
	}
}

func lrConcurrent(t *testing.T, c lrContract) {
	ctx := context.Background()
	type res struct {
		claims []delivery.Claim
		err    error
	}
	out := make(chan res, 8)
	for i := range 8 {
		go func() {
			claims, _, err := c.s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2, 3}, fmt.Sprintf("t%d", i), lrLease)
			out <- res{claims, err}
		}()
	}
	won := map[int64]int{}
	for range 8 {
		r := <-out
		if r.err != nil {
			t.Fatalf("ClaimLoad: %v", r.err)
		}
		for _, cl := range r.claims {
			won[cl.HookID]++
		}
	}
	if won[1] != 1 || won[2] != 1 || won[3] != 1 {
		t.Errorf("claims won per hook = %v, want one each", won)
	}
}

func lrTTL(t *testing.T, c lrContract) {
	claims := c.claimLoad(t, "L1", 1)
	c.record(t, delivery.Result{Claim: claims[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered})
	c.clock.Advance(store.DeliveryTTL - 24*time.Hour)
	if d, err := c.s.GetDelivery(context.Background(), lrKey("L1", 1)); err != nil || d.Status != delivery.StatusDelivered {
		t.Errorf("delivery a day before its TTL: %+v, %v", d, err)
	}
}
