package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

func TestLoadDeliveries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	recs, err := f.store.LoadDeliveries(ctx, 116078, "load-1")
	if err != nil || len(recs) != 0 {
		t.Fatalf("LoadDeliveries before any claim = %v, %v; want none", recs, err)
	}
	load := func(cid int64, loadID string) delivery.Load {
		return delivery.Load{ClientID: cid, LoadID: loadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: lrBody}
	}
	claims, _, err := f.store.ClaimLoad(ctx, load(116078, "load-1"), []int64{12, 3}, "tok", time.Minute)
	if err != nil || len(claims) != 2 {
		t.Fatalf("ClaimLoad: %v, %v", claims, err)
	}
	var rs []delivery.Result
	for _, c := range claims {
		rs = append(rs, delivery.Result{Claim: c, Attempt: delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeSuccess, StatusCode: 200, LatencyMs: 5}, Status: delivery.StatusDelivered})
	}
	recs, errs := f.store.RecordResults(ctx, rs)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("RecordResults: %v", errs)
	}
	want := []delivery.Record{recs[1], recs[0]} // hook order: 3 before 12
	// Another load of the same account, and the same load id of another account.
	for _, l := range []delivery.Load{load(116078, "load-2"), load(116079, "load-1")} {
		if _, _, err := f.store.ClaimLoad(ctx, l, []int64{3}, "other", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.store.LoadDeliveries(ctx, 116078, "load-1")
	if err != nil {
		t.Fatalf("LoadDeliveries: %v", err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("LoadDeliveries (-got +want):\n%s", diff)
	}
}

func TestAlertStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	status := func(hookID int64) string {
		t.Helper()
		s, err := f.store.AlertStatus(ctx, 116078, "load-1", hookID)
		if err != nil {
			t.Fatalf("AlertStatus: %v", err)
		}
		return s
	}
	if got := status(8); got != "" {
		t.Errorf("AlertStatus before a claim = %q, want \"\"", got)
	}
	c, err := f.store.ClaimAlert(ctx, 116078, "load-1", 8, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	if got := status(8); got != "sending" {
		t.Errorf("AlertStatus while claimed = %q, want sending", got)
	}
	if err := f.store.FinishAlert(ctx, c); err != nil {
		t.Fatalf("FinishAlert: %v", err)
	}
	if got := status(8); got != "sent" {
		t.Errorf("AlertStatus after FinishAlert = %q, want sent", got)
	}
	if got := status(9); got != "" {
		t.Errorf("AlertStatus of another hook = %q, want \"\"", got)
	}
}

func TestImportMember(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const token = hook.TokenPrefix + "imported-token-1"
	m := hook.Member{ID: "0123456789abcdef0123456789abcdef", ClientID: 116078, Email: "ana@example.com"}
	if err := f.store.ImportMember(ctx, m, token); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("ImportMember without the account: %v, want ErrNotFound", err)
	}
	f.createAccount(t, 116078, "advanced")
	if err := f.store.ImportMember(ctx, m, token); err != nil {
		t.Fatalf("ImportMember: %v", err)
	}
	p, err := f.store.Authenticate(ctx, token)
	if err != nil || p != (hook.Principal{ClientID: 116078, MemberID: m.ID}) {
		t.Errorf("Authenticate(imported token) = %+v, %v; want the member", p, err)
	}
	members, err := f.store.ListMembers(ctx, 116078)
	if err != nil {
		t.Fatal(err)
	}
	m.CreatedAt = f.clock.Now()
	if diff := cmp.Diff(members, []hook.Member{m}); diff != "" {
		t.Errorf("ListMembers (-got +want):\n%s", diff)
	}
	for _, item := range f.scan(t) {
		for _, s := range itemStrings(item) {
			if s == token {
				t.Errorf("the token is stored in clear: %v", item)
			}
		}
	}
	if err := f.store.ImportMember(ctx, m, token); !errors.Is(err, hook.ErrConflict) {
		t.Errorf("ImportMember again: %v, want ErrConflict", err)
	}
}
