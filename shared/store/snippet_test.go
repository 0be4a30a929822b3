package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// errorPage is an edge proxy's error page of about 1.3 KiB, with the
// request's id near the top: every answer differs, but only there.
func errorPage(requestID string) string {
	return `<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">` +
		`<title>orders-sync.example.com | 502: Bad gateway</title><meta name="request-id" content="` + requestID + `">` +
		`<style>body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Arial,sans-serif;color:#404040}` +
		`.wrap{max-width:60rem;margin:0 auto;padding:2.5rem 1rem}h1{font-size:2.25rem;font-weight:300;margin:0 0 .5rem}` +
		`.status{display:flex;gap:2rem;margin:2rem 0;border-top:1px solid #eee;padding-top:1.5rem}.ok{color:#2c7a3f}.err{color:#bd2426}</style>` +
		`</head><body><div class="wrap"><h1>Bad gateway <span>Error code 502</span></h1>` +
		`<p>Visit <a href="https://status.example.com">our status page</a> for more information.</p>` +
		`<div class="status"><div><h2>You</h2><p class="ok">Browser: Working</p></div><div><h2>Edge, Frankfurt</h2>` +
		`<p class="ok">Working</p></div><div><h2>orders-sync.example.com</h2><p class="err">Host: Error</p></div></div>` +
		`<h2>What happened?</h2><p>The web server reported a bad gateway error. The origin did not answer in time.</p>` +
		`<h2>What can I do?</h2><p>Please try again in a few minutes.</p><footer>Request ID: ` + requestID + `</footer></div></body></html>`
}

// failAttempt records a failed attempt of claim c answered with page, the
// entry left waiting for the next attempt, and returns the kept snippet.
func failAttempt(t *testing.T, f *fixture, c delivery.Claim, page string) string {
	t.Helper()
	f.clock.Advance(time.Minute)
	a := delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 502, LatencyMs: 40, Snippet: page}
	if _, errs := f.store.RecordResults(context.Background(), []delivery.Result{{Claim: c, Attempt: a, Status: delivery.StatusWaiting}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	return delivery.TruncateUTF8(page, delivery.SnippetBytes)
}

// claimRetry claims attempt n of k and returns the claim as the
// dispatcher holds it: with the attempts the claim found.
func claimRetry(t *testing.T, f *fixture, k delivery.Key, n int) delivery.Claim {
	t.Helper()
	f.clock.Advance(time.Minute)
	c := delivery.NewClaim(k, n)
	claimed, cur, err := f.store.ClaimHook(context.Background(), c, delivery.BodyDigest(lrBody), lrLease)
	if err != nil || !claimed || cur == nil {
		t.Fatalf("ClaimHook(%+v, %d) = %v, %v, %v", k, n, claimed, cur, err)
	}
	c.Prior = cur.Attempts
	return c
}

// rawAttempt is attempt i of hook id's raw entry.
func rawAttempt(t *testing.T, item map[string]types.AttributeValue, id int64, i int) map[string]types.AttributeValue {
	t.Helper()
	return entryOf(t, item, id)["a"].(*types.AttributeValueMemberL).Value[i].(*types.AttributeValueMemberM).Value
}

func zLen(a map[string]types.AttributeValue) int {
	z, ok := a["z"].(*types.AttributeValueMemberB)
	if !ok {
		return -1
	}
	return len(z.Value)
}

// A failed attempt's snippet is kept compressed, against the entry's
// previous snippet when the claim knew it, and reads back exactly, through
// the record and through the history's index.
func TestLoadRecordSnippetsCompressed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "snippets", HookID: 7}
	want := []string{failAttempt(t, f, mustClaim(t, f, k, 1), errorPage("8f2c1a9e7b3d4c51"))}
	want = append(want, failAttempt(t, f, claimRetry(t, f, k, 2), errorPage("1b77e0c2aa9d3f08")))
	blind := claimRetry(t, f, k, 3)
	blind.Prior = nil // a claimer that does not know the entry's attempts
	want = append(want, failAttempt(t, f, blind, errorPage("c0ffee0000000003")))
	want = append(want, failAttempt(t, f, claimRetry(t, f, k, 4), `{"error":"down"}`))

	raw := rawDelivery(t, f, k)
	for i, check := range []struct {
		dict    bool // compressed against an earlier snippet
		maxZ    int  // bytes of the compressed snippet at most; -1: kept as text
		because string
	}{
		{false, 800, "the first page, compressed alone"},
		{true, 80, "a page like the one before, kept as its difference"},
		{false, 800, "its claim knew no earlier attempts"},
		{false, -1, "a short answer, as text"},
	} {
		a := rawAttempt(t, raw, 7, i)
		_, hasDict := a["zk"]
		switch n := zLen(a); {
		case check.maxZ < 0 && (n >= 0 || stringAttr(a, "r") != want[i]):
			t.Errorf("attempt %d (%s): kept as %v, want the text", i+1, check.because, a)
		case check.maxZ >= 0 && (n < 0 || n > check.maxZ || hasDict != check.dict):
			t.Errorf("attempt %d (%s): %d compressed bytes, dictionary %t; want at most %d, dictionary %t", i+1, check.because, n, hasDict, check.maxZ, check.dict)
		}
	}

	d, err := f.store.GetDelivery(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.store.ListDeliveries(ctx, delivery.ListQuery{ClientID: 1, HookID: 7, Limit: 10})
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("ListDeliveries = %+v, %v", page, err)
	}
	for name, got := range map[string][]delivery.Attempt{"GetDelivery": d.Attempts, "ListDeliveries": page.Deliveries[0].Attempts} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d attempts, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i].Snippet != want[i] {
				t.Errorf("%s attempt %d snippet = %.60q..., want %.60q...", name, i+1, got[i].Snippet, want[i])
			}
		}
	}
}

// A stored snippet that does not rebuild to the text it was made from (its
// checksum differs, or the snippet it was built on is gone) is dropped, and
// the rest of the record reads and works as before.
func TestLoadRecordSnippetDamaged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "damaged", HookID: 7}
	first := failAttempt(t, f, mustClaim(t, f, k, 1), errorPage("8f2c1a9e7b3d4c51"))
	failAttempt(t, f, claimRetry(t, f, k, 2), errorPage("1b77e0c2aa9d3f08"))
	failAttempt(t, f, claimRetry(t, f, k, 3), errorPage("c0ffee0000000003"))
	if _, ok := rawAttempt(t, rawDelivery(t, f, k), 7, 2)["zk"]; !ok {
		t.Fatal("attempt 3 was not compressed against attempt 2's snippet")
	}
	setRaw(t, f, k, "SET h.#e.a[1].zc = :v", &types.AttributeValueMemberN{Value: "1"}) // attempt 2's checksum
	d, err := f.store.GetDelivery(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{d.Attempts[0].Snippet, d.Attempts[1].Snippet, d.Attempts[2].Snippet}; got[0] != first || got[1] != "" || got[2] != "" {
		t.Errorf("snippets = %.40q; want attempt 1's, then two dropped (attempt 3 is built on attempt 2's)", got)
	}
	if d.Attempts[1].StatusCode != 502 || d.Attempts[2].StatusCode != 502 {
		t.Errorf("attempts = %+v; want the rest of each attempt kept", d.Attempts)
	}
	// The record still claims and records: attempt 4 is built on the
	// latest snippet its claim found, attempt 1's.
	fourth := failAttempt(t, f, claimRetry(t, f, k, 4), errorPage("0000000000000004"))
	if d, err = f.store.GetDelivery(ctx, k); err != nil || len(d.Attempts) != 4 || d.Attempts[3].Snippet != fourth {
		t.Errorf("after the damage, attempts = %+v, %v; want attempt 4 with its snippet", d.Attempts, err)
	}
}

// A snippet stored as text, as every one was before compression, reads as
// it is, and a later attempt is built on it.
func TestLoadRecordSnippetText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "text", HookID: 7}
	failAttempt(t, f, mustClaim(t, f, k, 1), "short")
	old := errorPage("8f2c1a9e7b3d4c51")[:delivery.SnippetBytes]
	setRaw(t, f, k, "SET h.#e.a[0].r = :v", &types.AttributeValueMemberS{Value: old})
	second := failAttempt(t, f, claimRetry(t, f, k, 2), errorPage("1b77e0c2aa9d3f08"))
	if n := zLen(rawAttempt(t, rawDelivery(t, f, k), 7, 1)); n < 0 || n > 80 {
		t.Errorf("attempt 2: %d compressed bytes; want it built on attempt 1's text", n)
	}
	d, err := f.store.GetDelivery(ctx, k)
	if err != nil || len(d.Attempts) != 2 {
		t.Fatalf("GetDelivery = %d attempts, %v; want 2", len(d.Attempts), err)
	}
	if d.Attempts[0].Snippet != old || d.Attempts[1].Snippet != second {
		t.Errorf("snippets = %.40q, %.40q; want both as written", d.Attempts[0].Snippet, d.Attempts[1].Snippet)
	}
}

// setRaw applies update, with :v as v and #e as hook 7, to k's raw record.
func setRaw(t *testing.T, f *fixture, k delivery.Key, update string, v types.AttributeValue) {
	t.Helper()
	_, err := f.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.table), Key: rawKey(k), UpdateExpression: aws.String(update),
		ExpressionAttributeNames:  map[string]string{"#e": strconv.FormatInt(k.HookID, 10)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": v},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rawKey(k delivery.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "DELIVERY#" + strconv.FormatInt(k.ClientID, 10) + "#" + k.LoadID},
		"sk": &types.AttributeValueMemberS{Value: "LOAD"},
	}
}

// claimHooks claims attempt 1 of hooks ids of a new load.
func claimHooks(t *testing.T, f *fixture, loadID string, ids ...int64) []delivery.Claim {
	t.Helper()
	l := delivery.Load{ClientID: 1, LoadID: loadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: lrBody}
	claims, _, err := f.store.ClaimLoad(context.Background(), l, ids, "tok-"+loadID, lrLease)
	if err != nil || len(claims) != len(ids) {
		t.Fatalf("ClaimLoad(%v) = %v, %v", ids, claims, err)
	}
	return claims
}

// failed is a failed result of c answered with page, waiting for a retry.
func failed(f *fixture, c delivery.Claim, page string) delivery.Result {
	return delivery.Result{Claim: c, Status: delivery.StatusWaiting,
		Attempt: delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 502, LatencyMs: 40, Snippet: page}}
}

// In one write, a hook with no snippet of its own before is compressed
// against the first snippet of the write (another hook's, often from the
// same receiver); a result written alone, as when the combined write fails
// for another hook's lost claim, is not built on a snippet that write did
// not keep.
func TestLoadRecordSnippetsAcrossHooks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	claims := claimHooks(t, f, "across", 1, 2, 3)
	pages := []string{errorPage("1111111111111111"), errorPage("2222222222222222"), errorPage("3333333333333333")}
	var rs []delivery.Result
	for i, c := range claims {
		rs = append(rs, failed(f, c, pages[i]))
	}
	if _, errs := f.store.RecordResults(ctx, rs); errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatal(errs)
	}
	raw := rawDelivery(t, f, delivery.Key{ClientID: 1, LoadID: "across"})
	if _, ok := rawAttempt(t, raw, 1, 0)["zk"]; ok {
		t.Error("the write's first snippet is built on another")
	}
	for _, id := range []int64{2, 3} {
		a := rawAttempt(t, raw, id, 0)
		if _, ok := a["zk"]; !ok || zLen(a) > 80 {
			t.Errorf("hook %d: %d compressed bytes, dictionary %v; want at most 80, built on hook 1's", id, zLen(a), a["zk"])
		}
	}
	for i, id := range []int64{1, 2, 3} {
		d, err := f.store.GetDelivery(ctx, delivery.Key{ClientID: 1, LoadID: "across", HookID: id})
		if want := delivery.TruncateUTF8(pages[i], delivery.SnippetBytes); err != nil || len(d.Attempts) != 1 || d.Attempts[0].Snippet != want {
			t.Errorf("hook %d: %d attempts, %v; want its snippet", id, len(d.Attempts), err)
		}
	}
	page, err := f.store.ListDeliveries(ctx, delivery.ListQuery{ClientID: 1, HookID: 3, Limit: 10})
	if err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].Attempts[0].Snippet != delivery.TruncateUTF8(pages[2], delivery.SnippetBytes) {
		t.Errorf("ListDeliveries(hook 3) = %+v, %v; want its snippet through the index", page, err)
	}

	// Hook 4's claim is lost (another token holds it): the combined write
	// fails and hook 5's result is written alone, on nothing.
	claims = claimHooks(t, f, "alone", 4, 5)
	lost := claims[0]
	lost.Token = "not-the-holder"
	_, errs := f.store.RecordResults(ctx, []delivery.Result{failed(f, lost, pages[0]), failed(f, claims[1], pages[1])})
	if !errors.Is(errs[0], delivery.ErrClaimLost) || errs[1] != nil {
		t.Fatalf("RecordResults = %v; want hook 4's claim lost and hook 5 written", errs)
	}
	if a := rawAttempt(t, rawDelivery(t, f, delivery.Key{ClientID: 1, LoadID: "alone"}), 5, 0); a["zk"] != nil {
		t.Errorf("hook 5, written alone, is built on a snippet: %v", a["zk"])
	}
	d, err := f.store.GetDelivery(ctx, delivery.Key{ClientID: 1, LoadID: "alone", HookID: 5})
	if err != nil || len(d.Attempts) != 1 || d.Attempts[0].Snippet != delivery.TruncateUTF8(pages[1], delivery.SnippetBytes) {
		t.Errorf("hook 5: %+v, %v; want its snippet", d.Attempts, err)
	}
}
