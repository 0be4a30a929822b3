package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
)

// Raw items of the load record: key layout, TTL, what an entry keeps, and
// when the record enters the history's index.

// mustClaim claims attempt 1 of k in a new or existing load record.
func mustClaim(t *testing.T, f *fixture, k delivery.Key, n int) delivery.Claim {
	t.Helper()
	l := delivery.Load{ClientID: k.ClientID, LoadID: k.LoadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: lrBody}
	claims, conflicts, err := f.store.ClaimLoad(context.Background(), l, []int64{k.HookID}, "tok-"+strconv.Itoa(n), lrLease)
	if err != nil || len(claims) != 1 {
		t.Fatalf("ClaimLoad(%+v) = %v, %v, %v; want claimed", k, claims, conflicts, err)
	}
	return claims[0]
}

// rawDelivery is the raw load record of k's load (nil when there is none).
func rawDelivery(t *testing.T, f *fixture, k delivery.Key) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "DELIVERY#" + strconv.FormatInt(k.ClientID, 10) + "#" + k.LoadID},
			"sk": &types.AttributeValueMemberS{Value: "LOAD"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func numAttr(t *testing.T, item map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s: %T, want N", name, item[name])
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// entryOf is hook id's raw entry.
func entryOf(t *testing.T, item map[string]types.AttributeValue, id int64) map[string]types.AttributeValue {
	t.Helper()
	h, ok := item["h"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("attribute h: %T", item["h"])
	}
	e, ok := h.Value[strconv.FormatInt(id, 10)].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("no entry for hook %d", id)
	}
	return e.Value
}

func TestLoadRecordItem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "raw", HookID: 7}
	c := mustClaim(t, f, k, 1)
	raw := rawDelivery(t, f, k)
	if _, ok := raw["gpk"]; ok {
		t.Error("a record whose first attempts are in flight is in the history index")
	}
	if got, want := stringAttr(raw, "gsk"), store.CreatedKey(f.clock.Now(), "raw"); got != want {
		t.Errorf("gsk = %q, want %q", got, want)
	}
	if b, ok := raw["b"].(*types.AttributeValueMemberB); !ok || len(b.Value) >= len(lrBody) {
		t.Errorf("body = %v, want it compressed", raw["b"])
	}
	if d, err := f.store.GetDelivery(ctx, k); err != nil || string(d.Body) != string(lrBody) {
		t.Errorf("GetDelivery body = %q, %v; want the exact bytes", d.Body, err)
	}
	e := entryOf(t, raw, 7)
	if numAttr(t, e, "l") != f.clock.Now().Add(lrLease).UnixMilli() || stringAttr(e, "c") != c.Token || stringAttr(e, "s") != "a" {
		t.Errorf("claimed entry = %v", e)
	}

	f.clock.Advance(time.Minute)
	ok := delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeSuccess, StatusCode: 200, LatencyMs: 9, Snippet: "not kept", Error: "none"}
	if _, errs := f.store.RecordResults(ctx, []delivery.Result{{Claim: c, Attempt: ok, Status: delivery.StatusDelivered}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	raw = rawDelivery(t, f, k)
	if got := stringAttr(raw, "gpk"); got != "DELIVERIES#1" {
		t.Errorf("gpk after the first result = %q", got)
	}
	if got, want := numAttr(t, raw, "expires_at"), f.clock.Now().Add(store.DeliveryTTL).Unix(); got != want {
		t.Errorf("expires_at = %d, want %d (30 days after the last write)", got, want)
	}
	e = entryOf(t, raw, 7)
	if _, ok := e["l"]; ok {
		t.Error("lease kept after the result")
	}
	a := e["a"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value
	if _, ok := a["r"]; ok {
		t.Error("a successful attempt keeps its response snippet")
	}
	if _, ok := a["e"]; ok {
		t.Error("a successful attempt keeps an error class")
	}
	if numAttr(t, a, "sc") != 200 || numAttr(t, a, "ms") != 9 {
		t.Errorf("successful attempt = %v, want its status code and latency", a)
	}
}
