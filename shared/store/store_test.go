package store_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// Integration tests of the store against DynamoDB Local, each on a fresh
// table built from template.yaml by devstack.

// testClock is a settable clock for the store.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *testClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// fixture is a store on a fresh table, its clock, and a raw client on the
// same table that counts the DynamoDB operations the store makes.
type fixture struct {
	store *store.Store
	clock *testClock
	db    *dynamodb.Client
	table string
	calls *callCounter
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	calls := &callCounter{}
	counted := dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.HTTPClient = calls.wrap(o.HTTPClient)
	})
	// The clock starts at the real time (with a fraction of a second that
	// has nine digits, to exercise the stored format): DynamoDB Local's TTL
	// sweeper deletes an item within seconds once its expires_at has passed,
	// so a fixed date in the past made records vanish in the middle of a
	// test (see TestFixtureRecordsOutliveTheTest).
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
	return &fixture{store: store.New(counted, table, clock.Now), clock: clock, db: db, table: table, calls: calls}
}

// callCounter counts DynamoDB operations by name (the X-Amz-Target header).
type callCounter struct {
	mu  sync.Mutex
	ops []string
}

type countingDoer struct {
	next dynamodb.HTTPClient
	c    *callCounter
}

func (d countingDoer) Do(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	d.c.mu.Lock()
	d.c.ops = append(d.c.ops, op[strings.LastIndex(op, ".")+1:])
	d.c.mu.Unlock()
	return d.next.Do(r)
}

func (c *callCounter) wrap(next dynamodb.HTTPClient) dynamodb.HTTPClient {
	return countingDoer{next: next, c: c}
}

// during returns the operations made while f ran.
func (c *callCounter) during(f func()) []string {
	c.mu.Lock()
	start := len(c.ops)
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops[start:]...)
}

// rawItem reads the item at (pk, sk) as stored, nil when there is none.
func (f *fixture) rawItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(f.table),
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk},
			"sk": &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		t.Fatalf("GetItem %s %s: %v", pk, sk, err)
	}
	return out.Item
}

// leftPad is a hook id as the sort keys hold it: ten digits.
func leftPad(id int64) string {
	s := strconv.FormatInt(id, 10)
	return strings.Repeat("0", 10-len(s)) + s
}

// testDest is the destination of the accounts createAccount makes, and of
// the hooks createHook makes.
const testDest = 12345

func (f *fixture) createAccount(t *testing.T, clientID int64, plan string) hook.Account {
	t.Helper()
	a, err := f.store.CreateAccount(context.Background(), hook.Account{
		ClientID: clientID, Plan: plan, AlertEmails: []string{"ops@example.com"},
		Destinations: []hook.Destination{{ID: testDest, Type: "s3"}},
	})
	if err != nil {
		t.Fatalf("CreateAccount(%d): %v", clientID, err)
	}
	return a
}

func (f *fixture) createHook(t *testing.T, p hook.Principal, url string) hook.Hook {
	t.Helper()
	h, err := f.store.CreateHook(context.Background(), p, testDest, url, hook.NewSecret())
	if err != nil {
		t.Fatalf("CreateHook(%v, %q): %v", p, url, err)
	}
	return h
}

func (f *fixture) account(t *testing.T, clientID int64) hook.Account {
	t.Helper()
	a, err := f.store.Account(context.Background(), clientID)
	if err != nil {
		t.Fatalf("Account(%d): %v", clientID, err)
	}
	return a
}

func (f *fixture) hooks(t *testing.T, clientID int64) []hook.Hook {
	t.Helper()
	hs, err := f.store.ListHooks(context.Background(), clientID)
	if err != nil {
		t.Fatalf("ListHooks(%d): %v", clientID, err)
	}
	return hs
}

// scan returns every item of the table, read raw.
func (f *fixture) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(f.db, &dynamodb.ScanInput{TableName: &f.table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// itemStrings returns every attribute name and scalar value of item, nested
// lists and maps included, as strings.
func itemStrings(item map[string]types.AttributeValue) []string {
	var out []string
	var walk func(types.AttributeValue)
	walk = func(v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out = append(out, v.Value)
		case *types.AttributeValueMemberN:
			out = append(out, v.Value)
		case *types.AttributeValueMemberB:
			out = append(out, string(v.Value))
		case *types.AttributeValueMemberSS:
			out = append(out, v.Value...)
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				walk(e)
			}
		case *types.AttributeValueMemberM:
			for k, e := range v.Value {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(&types.AttributeValueMemberM{Value: item})
	return out
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// pkOf and skOf are the keys of a raw item.
func pkOf(item map[string]types.AttributeValue) string { return stringAttr(item, "pk") }

func skOf(item map[string]types.AttributeValue) string { return stringAttr(item, "sk") }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// TestFixtureRecordsOutliveTheTest guards the cause of a flaky suite: the
// fixture's clock once started on a fixed date, and once that date was more
// than 30 days past, every delivery and alert record was written already
// expired. DynamoDB Local's TTL sweeper deletes such items within seconds,
// so a claim taken a moment earlier vanished and the next conditional write
// failed with "claim lost" (TestAlertSentOnce, TestDeliveryCancel, ...).
// Records written through the fixture must expire well after the test.
func TestFixtureRecordsOutliveTheTest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := delivery.Key{ClientID: 1, LoadID: "ttl", HookID: 1}
	mustClaim(t, f, k, 1)
	if _, err := f.store.ClaimAlert(ctx, 1, "ttl", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	horizon := time.Now().Add(24 * time.Hour).Unix()
	for _, item := range []map[string]types.AttributeValue{rawDelivery(t, f, k), f.alertItem(t, 1, "ttl", 1)} {
		if exp := numAttr(t, item, "expires_at"); exp < horizon {
			t.Errorf("%s expires at %s, before a day from now: DynamoDB Local's TTL would delete it during the run",
				pkOf(item), time.Unix(exp, 0).UTC().Format(time.RFC3339))
		}
	}
}
