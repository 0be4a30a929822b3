package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
)

const testLease = 35 * time.Second

// testDigest is the body digest of the test deliveries.
var testDigest = delivery.BodyDigest([]byte(`{"version":"1.0"}`))

func mustClaim(t *testing.T, f *fixture, k delivery.Key, n int) delivery.Claim {
	t.Helper()
	c := delivery.NewClaim(k, n)
	claimed, cur, err := f.store.ClaimAttempt(context.Background(), c, "msg_x", testDigest, testLease)
	if err != nil || !claimed {
		t.Fatalf("ClaimAttempt(%d) = %v, %+v, %v; want claimed", n, claimed, cur, err)
	}
	return c
}

func claimConflict(t *testing.T, f *fixture, k delivery.Key, n int) *delivery.Record {
	t.Helper()
	claimed, cur, err := f.store.ClaimAttempt(context.Background(), delivery.NewClaim(k, n), "msg_x", testDigest, testLease)
	if err != nil || claimed {
		t.Fatalf("ClaimAttempt(%d) = %v, %+v, %v; want a conflict", n, claimed, cur, err)
	}
	return cur
}

// rawDelivery reads the delivery item as stored.
func rawDelivery(t *testing.T, f *fixture, k delivery.Key) map[string]types.AttributeValue {
	t.Helper()
	return f.rawItem(t, "DELIVERY#"+strconv.FormatInt(k.ClientID, 10)+"#"+k.LoadID, "HOOK#"+leftPad(k.HookID))
}

func numAttr(t *testing.T, item map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s = %#v, want N", name, item[name])
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestClaimNeedsTheFirstBody is the forged-retry attack at the store: a retry
// message whose body is not the one the first attempt sent claims nothing,
// and the conflict shows the record's own digest.
func TestClaimNeedsTheFirstBody(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 116078, LoadID: "forged-1", HookID: 3}
	c1 := mustClaim(t, f, k, 1)
	if _, err := f.store.RecordAttempt(ctx, c1, delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeTimeout}, delivery.StatusWaiting); err != nil {
		t.Fatal(err)
	}
	forged := delivery.BodyDigest([]byte(`{"version":"1.0","integration_name":"forged"}`))
	claimed, cur, err := f.store.ClaimAttempt(ctx, delivery.NewClaim(k, 2), "msg_x", forged, testLease)
	if err != nil || claimed || cur == nil {
		t.Fatalf("ClaimAttempt(forged body) = %v, %+v, %v; want a conflict", claimed, cur, err)
	}
	if cur.BodyDigest != testDigest || cur.Status != delivery.StatusWaiting {
		t.Errorf("conflict record = %+v, want waiting with the first body's digest", cur)
	}
	mustClaim(t, f, k, 2) // the genuine retry still claims
}

// TestClaimOfARecordWithoutDigest: a record written before body digests
// were kept (a retry in flight across the deploy) is claimed by its next
// retry, which binds it to that body from then on.
func TestClaimOfARecordWithoutDigest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 116078, LoadID: "legacy-1", HookID: 3}
	c1 := mustClaim(t, f, k, 1)
	if _, err := f.store.RecordAttempt(ctx, c1, delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeTimeout}, delivery.StatusWaiting); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(f.table),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "DELIVERY#116078#legacy-1"}, "sk": &types.AttributeValueMemberS{Value: "HOOK#" + leftPad(3)}},
		UpdateExpression: aws.String("REMOVE body_digest"),
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, f, k, 2)
	if got := rawDelivery(t, f, k)["body_digest"]; got == nil {
		t.Fatal("the claim of a legacy record kept no digest")
	}
}

func TestDeliveryLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 116078, LoadID: "load#1", HookID: 3}
	start := f.clock.Now()

	stale := mustClaim(t, f, k, 1)
	cur := claimConflict(t, f, k, 1) // duplicate loader message
	want := &delivery.Record{Key: k, Status: delivery.StatusAttempting, Attempt: 1,
		LeaseUntil: start.Add(testLease).Truncate(time.Millisecond), WebhookID: "msg_x", BodyDigest: testDigest}
	if diff := cmp.Diff(cur, want); diff != "" {
		t.Fatalf("record after claim (-got +want):\n%s", diff)
	}
	if got := numAttr(t, rawDelivery(t, f, k), "expires_at"); got != start.Add(store.DeliveryTTL).Unix() {
		t.Errorf("expires_at after claim = %d, want %d", got, start.Add(store.DeliveryTTL).Unix())
	}

	// The invocation died: once its lease is over, the redelivered message takes over.
	f.clock.Advance(testLease + time.Millisecond)
	c1 := mustClaim(t, f, k, 1)
	if claimConflict(t, f, k, 2) == nil { // retry for 2 before attempt 1 is settled
		t.Fatal("want the current record")
	}

	a1 := delivery.Attempt{At: f.clock.Now(), Outcome: "http_status", StatusCode: 503, LatencyMs: 12, Snippet: strings.Repeat("é", 600)}
	// The invocation whose lease ran out cannot record over the one that
	// took the same attempt over.
	if _, err := f.store.RecordAttempt(ctx, stale, a1, delivery.StatusWaiting); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("RecordAttempt under the expired claim = %v, want ErrClaimLost", err)
	}
	if err := f.store.Cancel(ctx, stale); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("Cancel under the expired claim = %v, want ErrClaimLost", err)
	}
	rec, err := f.store.RecordAttempt(ctx, c1, a1, delivery.StatusWaiting)
	if err != nil {
		t.Fatal(err)
	}
	a1.Snippet = strings.Repeat("é", 512) // cut to 1 KiB on a character boundary
	if diff := cmp.Diff(rec, delivery.Record{Key: k, Status: delivery.StatusWaiting, Attempt: 1, WebhookID: "msg_x", BodyDigest: testDigest,
		Attempts: []delivery.Attempt{a1}}); diff != "" {
		t.Fatalf("RecordAttempt (-got +want):\n%s", diff)
	}
	// The same claim writing the same result again (a retried write) gets
	// the record as written; another result under it is refused.
	if again, err := f.store.RecordAttempt(ctx, c1, a1, delivery.StatusWaiting); err != nil {
		t.Fatalf("RecordAttempt repeated = %v, want the record", err)
	} else if diff := cmp.Diff(again, rec); diff != "" {
		t.Fatalf("RecordAttempt repeated (-got +want):\n%s", diff)
	}
	if _, err := f.store.RecordAttempt(ctx, c1, a1, delivery.StatusDelivered); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("RecordAttempt of another result = %v, want ErrClaimLost", err)
	}
	if cur := claimConflict(t, f, k, 1); cur.Status != delivery.StatusWaiting || cur.Attempt != 1 {
		t.Fatalf("duplicate first message sees %+v", cur)
	}
	if cur := claimConflict(t, f, k, 3); cur.Status != delivery.StatusWaiting {
		t.Fatalf("early retry 3 sees %+v", cur)
	}

	f.clock.Advance(time.Minute)
	c2 := mustClaim(t, f, k, 2)
	a2 := delivery.Attempt{At: f.clock.Now(), Outcome: "timeout", Error: "deadline exceeded", LatencyMs: 30000}
	rec, err = f.store.RecordAttempt(ctx, c2, a2, delivery.StatusExhausted)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec.Attempts, []delivery.Attempt{a1, a2}); diff != "" {
		t.Errorf("history (-got +want):\n%s", diff)
	}
	if rec.Status != delivery.StatusExhausted || rec.Attempt != 2 || !rec.LeaseUntil.IsZero() {
		t.Errorf("record = %+v, want exhausted at 2 without lease", rec)
	}
	raw := rawDelivery(t, f, k)
	if got, want := numAttr(t, raw, "expires_at"), f.clock.Now().Add(store.DeliveryTTL).Unix(); got != want {
		t.Errorf("expires_at = %d, want %d", got, want)
	}
	if _, ok := raw["lease_until"]; ok {
		t.Error("lease_until kept after the result")
	}
	if cur := claimConflict(t, f, k, 2); cur.Status != delivery.StatusExhausted {
		t.Errorf("redelivered retry sees %+v", cur)
	}
}

func TestDeliveryClaimWithoutRecord(t *testing.T) {
	f := newFixture(t)
	k := delivery.Key{ClientID: 1, LoadID: "gone", HookID: 1}
	if cur := claimConflict(t, f, k, 2); cur != nil {
		t.Fatalf("retry without record sees %+v, want nil", cur)
	}
	if item := rawDelivery(t, f, k); item != nil {
		t.Fatalf("failed claim wrote %v", item)
	}
}

func TestDeliveryCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "c", HookID: 9}
	if err := f.store.Cancel(ctx, delivery.NewClaim(k, 1)); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("Cancel without claim = %v, want ErrClaimLost", err)
	}
	c := mustClaim(t, f, k, 1)
	if err := f.store.Cancel(ctx, delivery.Claim{Key: k, Attempt: 2, Token: c.Token}); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("Cancel of another attempt = %v, want ErrClaimLost", err)
	}
	if err := f.store.Cancel(ctx, delivery.NewClaim(k, 1)); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("Cancel under another claim's token = %v, want ErrClaimLost", err)
	}
	if err := f.store.Cancel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.RecordAttempt(ctx, c, delivery.Attempt{At: f.clock.Now(), Outcome: "success"}, delivery.StatusDelivered); !errors.Is(err, delivery.ErrClaimLost) {
		t.Fatalf("RecordAttempt after cancel = %v, want ErrClaimLost", err)
	}
	f.clock.Advance(time.Hour)
	for n := 1; n <= 3; n++ {
		if cur := claimConflict(t, f, k, n); cur.Status != delivery.StatusCancelled {
			t.Errorf("claim %d after cancel sees %+v", n, cur)
		}
	}
}

func TestDeliveryDeliveredIsFinal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 2, LoadID: "d", HookID: 1}
	c := mustClaim(t, f, k, 1)
	if _, err := f.store.RecordAttempt(ctx, c, delivery.Attempt{At: f.clock.Now(), Outcome: "success", StatusCode: 200}, delivery.StatusDelivered); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	for n := 1; n <= 2; n++ {
		if cur := claimConflict(t, f, k, n); cur.Status != delivery.StatusDelivered {
			t.Errorf("claim %d after delivery sees %+v", n, cur)
		}
	}
}
