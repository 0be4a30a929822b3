package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/store"
)

const alertLease = time.Minute

// alertItem reads the raw alert item of (cid, load, hook).
func (f *fixture) alertItem(t *testing.T, cid int64, load string, hookID int64) map[string]types.AttributeValue {
	t.Helper()
	return f.rawItem(t, "ALERT#"+strconv.FormatInt(cid, 10)+"#"+load, "HOOK#"+leftPad(hookID))
}

func attrString(t *testing.T, item map[string]types.AttributeValue, name string) string {
	t.Helper()
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case nil:
		return ""
	default:
		t.Fatalf("attribute %s: unexpected type %T", name, v)
		return ""
	}
}

func TestAlertSentOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	c, err := f.store.ClaimAlert(ctx, 116078, "load-1", 8, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	if c.Sent("ops@example.com") {
		t.Errorf("fresh claim: Sent(ops) = true, want false")
	}
	if err := f.store.AlertSentTo(ctx, &c, "ops@example.com"); err != nil {
		t.Fatalf("AlertSentTo: %v", err)
	}
	if !c.Sent(" OPS@example.com ") {
		t.Errorf("after AlertSentTo: Sent(OPS) = false, want true (addresses compare trimmed, case-insensitively)")
	}
	item := f.alertItem(t, 116078, "load-1", 8)
	if got := attrString(t, item, "status"); got != "sending" {
		t.Errorf("status while claimed = %q, want sending", got)
	}
	if err := f.store.FinishAlert(ctx, c); err != nil {
		t.Fatalf("FinishAlert: %v", err)
	}

	_, err = f.store.ClaimAlert(ctx, 116078, "load-1", 8, alertLease)
	if !errors.Is(err, store.ErrAlertSent) {
		t.Errorf("ClaimAlert after FinishAlert: err = %v, want ErrAlertSent", err)
	}
	f.clock.Advance(24 * time.Hour)
	_, err = f.store.ClaimAlert(ctx, 116078, "load-1", 8, alertLease)
	if !errors.Is(err, store.ErrAlertSent) {
		t.Errorf("ClaimAlert a day later: err = %v, want ErrAlertSent", err)
	}

	item = f.alertItem(t, 116078, "load-1", 8)
	if got := attrString(t, item, "status"); got != "sent" {
		t.Errorf("status = %q, want sent", got)
	}
	for _, gone := range []string{"claim", "lease_until"} {
		if _, ok := item[gone]; ok {
			t.Errorf("sent item still has %s", gone)
		}
	}
	// The record keeps a hash of the address, never the address.
	set, ok := item["sent_to"].(*types.AttributeValueMemberSS)
	if !ok {
		t.Fatalf("sent_to = %T, want SS", item["sent_to"])
	}
	if diff := cmp.Diff(set.Value, []string{store.RecipientKey("ops@example.com")}); diff != "" {
		t.Errorf("sent_to mismatch (-got +want):\n%s", diff)
	}
	for name, v := range item {
		if s, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(s.Value, "@") {
			t.Errorf("attribute %s holds an email address", name)
		}
	}
}

func TestAlertExpiresAfter30Days(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.store.ClaimAlert(ctx, 1, "load", 2, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	finishAt := f.clock.Advance(10 * time.Second)
	if err := f.store.FinishAlert(ctx, c); err != nil {
		t.Fatalf("FinishAlert: %v", err)
	}
	got := attrString(t, f.alertItem(t, 1, "load", 2), "expires_at")
	want := strconv.FormatInt(finishAt.Add(30*24*time.Hour).Unix(), 10)
	if got != want {
		t.Errorf("expires_at = %s, want %s (Unix seconds, 30 days after the last write)", got, want)
	}
}

func TestAlertLiveClaimBlocksExpiredClaimIsTakenOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	first, err := f.store.ClaimAlert(ctx, 7, "load-2", 3, alertLease)
	if err != nil {
		t.Fatalf("first ClaimAlert: %v", err)
	}
	if err := f.store.AlertSentTo(ctx, &first, "a@example.com"); err != nil {
		t.Fatalf("AlertSentTo: %v", err)
	}

	f.clock.Advance(alertLease - time.Second)
	if _, err := f.store.ClaimAlert(ctx, 7, "load-2", 3, alertLease); !errors.Is(err, store.ErrAlertBusy) {
		t.Fatalf("ClaimAlert during a live lease: err = %v, want ErrAlertBusy", err)
	}

	// The first sender died; its lease runs out and a second takes over,
	// seeing which recipients already had the email.
	f.clock.Advance(2 * time.Second)
	second, err := f.store.ClaimAlert(ctx, 7, "load-2", 3, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert after the lease ran out: %v", err)
	}
	if !second.Sent("a@example.com") || second.Sent("b@example.com") {
		t.Errorf("takeover claim: Sent(a), Sent(b) = %v, %v; want true, false", second.Sent("a@example.com"), second.Sent("b@example.com"))
	}

	// The first sender wakes up: every write of its stale claim is refused.
	if err := f.store.AlertSentTo(ctx, &first, "b@example.com"); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("AlertSentTo on a lost claim: err = %v, want ErrAlertClaimLost", err)
	}
	if err := f.store.FinishAlert(ctx, first); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("FinishAlert on a lost claim: err = %v, want ErrAlertClaimLost", err)
	}
	if err := f.store.ReleaseAlert(ctx, first); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("ReleaseAlert on a lost claim: err = %v, want ErrAlertClaimLost", err)
	}

	if err := f.store.AlertSentTo(ctx, &second, "b@example.com"); err != nil {
		t.Fatalf("AlertSentTo b: %v", err)
	}
	if err := f.store.FinishAlert(ctx, second); err != nil {
		t.Fatalf("FinishAlert: %v", err)
	}
	if err := f.store.ReleaseAlert(ctx, second); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("ReleaseAlert after FinishAlert: err = %v, want ErrAlertClaimLost", err)
	}
	if _, err := f.store.ClaimAlert(ctx, 7, "load-2", 3, alertLease); !errors.Is(err, store.ErrAlertSent) {
		t.Errorf("ClaimAlert after finish: err = %v, want ErrAlertSent", err)
	}
}

func TestAlertReleaseLetsNextClaimRetryAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.store.ClaimAlert(ctx, 9, "load-3", 1, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	if err := f.store.AlertSentTo(ctx, &c, "a@example.com"); err != nil {
		t.Fatalf("AlertSentTo: %v", err)
	}
	if err := f.store.ReleaseAlert(ctx, c); err != nil {
		t.Fatalf("ReleaseAlert: %v", err)
	}
	if got := attrString(t, f.alertItem(t, 9, "load-3", 1), "status"); got != "failed" {
		t.Errorf("status after release = %q, want failed", got)
	}
	// No clock advance: a released claim is free at once.
	next, err := f.store.ClaimAlert(ctx, 9, "load-3", 1, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert after release: %v", err)
	}
	if !next.Sent("a@example.com") {
		t.Errorf("claim after release forgot the recipient already sent")
	}
}

func TestAlertClaimsAreIndependentPerPair(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.ClaimAlert(ctx, 1, "load", 1, alertLease); err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	for _, p := range []struct {
		cid  int64
		load string
		hook int64
	}{{1, "load", 2}, {1, "load2", 1}, {2, "load", 1}, {11, "load", 1}} {
		if _, err := f.store.ClaimAlert(ctx, p.cid, p.load, p.hook, alertLease); err != nil {
			t.Errorf("ClaimAlert(%d, %s, %d) while (1, load, 1) is claimed: %v", p.cid, p.load, p.hook, err)
		}
	}
}

func TestAlertZeroClaimIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.FinishAlert(ctx, store.AlertClaim{ClientID: 1, LoadID: "x", HookID: 1}); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("FinishAlert(zero claim): err = %v, want ErrAlertClaimLost", err)
	}
}
