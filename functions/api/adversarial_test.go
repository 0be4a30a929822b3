package main

// Adversarial suite: attacks on every route of the real handler over the
// real store on a fresh DynamoDB Local table, served by httptest. Each
// refused attack is checked for its exact documented status and body AND for
// leaving the store exactly as it was: the whole table is scanned before
// and after (every account, hook, url, member, token and sequence item),
// and the account's hook list and admin view are compared too.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
)

// Accounts of the adversarial stack.
const (
	spec64KiB  = 65536  // the documented body limit, independent of maxBodyBytes
	advClientA = 116078 // advanced; the attacked account, with three hooks
	advClientB = 200    // premium; the attacker's account, no hooks
)

// advStack is the real API over the real store, plus direct table access
// to prove that refused requests change nothing.
type advStack struct {
	*integrationAPI
	db    *dynamodb.Client
	table string

	sender *fakeSender // test notifications' attempts (no request leaves the machine)

	tokA, tokB string  // members of A and B
	hooksA     []int64 // A's hook ids; the last one is disabled
	memberA2   string  // a second member of A (for revocation)
	tokA2      string
}

func newAdvStack(t *testing.T) *advStack {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	st := store.New(db, table, time.Now)
	sender := &fakeSender{}
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken), hooksConfig{sender: sender}))
	t.Cleanup(srv.Close)
	s := &advStack{integrationAPI: &integrationAPI{url: srv.URL, client: srv.Client()}, db: db, table: table, sender: sender}

	s.tokA = s.newMember(t, advClientA, "advanced")
	s.tokB = s.newMember(t, advClientB, "premium")
	var m struct {
		MemberID string `json:"member_id"`
		Token    string `json:"token"`
	}
	s.mustDo(t, "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", advClientA), adminToken, `{"email":"bo@example.com"}`, http.StatusCreated, &m)
	s.memberA2, s.tokA2 = m.MemberID, m.Token
	for i := range 3 {
		var h apiHook
		s.mustDo(t, "POST", hooksPath, s.tokA, hookBody(fmt.Sprintf("https://hooks.example.com/a/%d", i)), http.StatusOK, &h)
		s.hooksA = append(s.hooksA, h.ID)
	}
	s.mustDo(t, "PUT", hookPath(s.hooksA[2]), s.tokA, `{"enable":false}`, http.StatusOK, nil)
	return s
}

func hookPath(id int64) string { return fmt.Sprintf("%s/%d", hooksPath, id) }

// pctEncode writes every digit of id percent-encoded ("%31" for 1).
func pctEncode(id int64) string {
	var b strings.Builder
	for _, c := range []byte(fmt.Sprint(id)) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// send performs req against the stack and returns the status and the body
// without its trailing newline.
func (s *advStack) send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, req.URL, ct)
	}
	return res.StatusCode, strings.TrimSuffix(string(b), "\n")
}

// request builds a request to the stack; auth lists whole Authorization
// header values, one header each.
func (s *advStack) request(t *testing.T, method, path, body string, auth ...string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	return req
}

// snapshot is everything the store holds, as the API and the table show it.
type snapshot struct {
	Items    map[string]any // "pk|sk" -> attributes, the whole table
	HooksA   string         // GET hooks as A's first member
	AccountA string         // admin GET of A
	AccountB string         // admin GET of B
}

func (s *advStack) snapshot(t *testing.T) snapshot {
	t.Helper()
	return snapshot{
		Items:    s.items(t, ""),
		HooksA:   s.mustDo(t, "GET", hooksPath, s.tokA, "", http.StatusOK, nil),
		AccountA: s.mustDo(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d", advClientA), adminToken, "", http.StatusOK, nil),
		AccountB: s.mustDo(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d", advClientB), adminToken, "", http.StatusOK, nil),
	}
}

// unchanged fails t when the store differs from before.
func (s *advStack) unchanged(t *testing.T, before snapshot) {
	t.Helper()
	if diff := cmp.Diff(s.snapshot(t), before); diff != "" {
		t.Errorf("store changed by a refused request (-got +want):\n%s", diff)
	}
}

// items scans the table (strongly consistent) and returns every item whose
// pk starts with pkPrefix, keyed "pk|sk", as plain Go values.
func (s *advStack) items(t *testing.T, pkPrefix string) map[string]any {
	t.Helper()
	out := map[string]any{}
	in := &dynamodb.ScanInput{TableName: &s.table, ConsistentRead: aws.Bool(true)}
	for {
		page, err := s.db.Scan(context.Background(), in)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, item := range page.Items {
			pk, sk := plainAttr(item["pk"]), plainAttr(item["sk"])
			if !strings.HasPrefix(fmt.Sprint(pk), "S:"+pkPrefix) {
				continue
			}
			out[fmt.Sprintf("%v|%v", pk, sk)] = plainAttr(&types.AttributeValueMemberM{Value: item})
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// plainAttr turns an attribute value into strings, slices and maps that
// go-cmp can compare and print.
func plainAttr(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberB:
		return "B:" + hex.EncodeToString(v.Value)
	case *types.AttributeValueMemberSS:
		return append([]string{"SS"}, v.Value...)
	case *types.AttributeValueMemberNS:
		return append([]string{"NS"}, v.Value...)
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = plainAttr(e)
		}
		return l
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			m[k] = plainAttr(e)
		}
		return m
	default:
		return fmt.Sprintf("unknown %T", av)
	}
}

// routeCall is one request that would change the store (or read it) if
// the caller were allowed to.
type routeCall struct{ method, path, body string }

// mutatingCalls are requests on every hooks route that would succeed for
// A's own member: create, list, enable/disable and delete each of A's hooks.
func (s *advStack) mutatingCalls() []routeCall {
	calls := []routeCall{
		{"POST", hooksPath, hookBody("https://hooks.example.com/attacker")},
		{"GET", hooksPath, ""},
	}
	for _, id := range s.hooksA {
		calls = append(calls,
			routeCall{"PUT", hookPath(id), `{"enable":false}`},
			routeCall{"PUT", hookPath(id), `{"enable":true}`},
			routeCall{"GET", hookPath(id), ""},
			routeCall{"PATCH", hookPath(id), `{"filter":{"tables":["x"]},"events":["run_completed"]}`},
			routeCall{"POST", hookPath(id) + "/secret/rotate", ""},
			routeCall{"POST", hookPath(id) + "/test", ""},
			routeCall{"GET", hookPath(id) + "/deliveries", ""},
			routeCall{"GET", hookPath(id) + "/deliveries/" + delivery.ID("load-1"), ""},
			routeCall{"POST", hookPath(id) + "/deliveries/" + delivery.ID("load-1") + "/resend", ""},
			routeCall{"POST", hookPath(id) + "/replay", `{"since":"2026-07-01T00:00:00Z","until":"2026-07-02T00:00:00Z"}`},
			routeCall{"DELETE", hookPath(id), ""},
		)
	}
	return calls
}

func TestAdversarialOtherAccountToken(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)

	status, body := s.do(t, "GET", hooksPath, s.tokB, "")
	checkResponse(t, status, body, http.StatusOK, `{"post_load":[]}`)
	for _, id := range s.hooksA {
		for _, c := range []routeCall{
			{"PUT", hookPath(id), `{"enable":false}`},
			{"PUT", hookPath(id), `{"enable":true}`},
			{"DELETE", hookPath(id), ""},
			// The account comes from the token only: naming A anywhere else
			// changes nothing.
			{"PUT", hookPath(id) + "?client_id=116078", `{"enable":false}`},
			{"DELETE", hookPath(id) + "?client_id=116078", ""},
			// Percent-encoded digits are the same URI (RFC 3986 6.2.2.2),
			// so they name the same id, still out of B's reach.
			{"PUT", hooksPath + "/" + pctEncode(id), `{"enable":false}`},
			{"DELETE", hooksPath + "/" + pctEncode(id), ""},
			{"GET", hookPath(id), ""},
			{"GET", hooksPath + "/" + pctEncode(id), ""},
			{"PATCH", hookPath(id), `{"events":["run_completed"]}`},
			{"PATCH", hookPath(id) + "?client_id=116078", `{"filter":{"tables":["x"]}}`},
			{"POST", hookPath(id) + "/secret/rotate", ""},
			{"POST", hookPath(id) + "/secret/rotate?client_id=116078", ""},
			{"POST", hooksPath + "/" + pctEncode(id) + "/secret/rotate", ""},
			{"POST", hookPath(id) + "/test", ""},
			{"POST", hooksPath + "/" + pctEncode(id) + "/test", ""},
			{"GET", hookPath(id) + "/deliveries", ""},
			{"GET", hookPath(id) + "/deliveries?client_id=116078", ""},
			{"GET", hookPath(id) + "/deliveries/" + delivery.ID("load-1"), ""},
			{"POST", hookPath(id) + "/deliveries/" + delivery.ID("load-1") + "/resend", ""},
			{"POST", hookPath(id) + "/replay", `{"since":"2026-07-01T00:00:00Z","until":"2026-07-02T00:00:00Z"}`},
		} {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				req := s.request(t, c.method, c.path, c.body, bearer(s.tokB))
				req.Header.Set("X-Client-Id", "116078")
				status, body := s.send(t, req)
				checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
				s.unchanged(t, before)
			})
		}
	}
	if n := len(s.sender.sent()); n != 0 {
		t.Errorf("B's requests sent %d test notifications to A's hooks", n)
	}

	// B creating a hook, even one with A's URL and A named in the query,
	// creates it in B's account and leaves A's items untouched.
	itemsA := s.items(t, fmt.Sprintf("CLIENT#%d", advClientA))
	var created apiHook
	s.mustDo(t, "POST", hooksPath+"?client_id=116078", s.tokB, hookBody("https://hooks.example.com/a/0"), http.StatusOK, &created)
	if created.ClientID != advClientB {
		t.Errorf("B's create made a hook of client %d, want %d", created.ClientID, advClientB)
	}
	if diff := cmp.Diff(s.items(t, fmt.Sprintf("CLIENT#%d", advClientA)), itemsA); diff != "" {
		t.Errorf("A's items changed by B's create (-got +want):\n%s", diff)
	}
	if got := s.mustDo(t, "GET", hooksPath, s.tokA, "", http.StatusOK, nil); got != before.HooksA {
		t.Errorf("A's list changed by B's create:\n got %s\nwant %s", got, before.HooksA)
	}

	// Now B owns a hook whose id A also uses; A's other ids stay out of reach.
	before = s.snapshot(t)
	for _, id := range s.hooksA {
		if id == created.ID {
			continue
		}
		for _, c := range []routeCall{{"PUT", hookPath(id), `{"enable":false}`}, {"DELETE", hookPath(id), ""}} {
			status, body := s.do(t, c.method, c.path, s.tokB, c.body)
			checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		}
	}
	s.unchanged(t, before)
	// The other way round: B's hooks with ids A lacks are out of A's reach.
	for i := range s.hooksA {
		s.mustDo(t, "POST", hooksPath, s.tokB, hookBody(fmt.Sprintf("https://hooks.example.com/b/%d", i)), http.StatusOK, &created)
	}
	if created.ID <= s.hooksA[len(s.hooksA)-1] {
		t.Fatalf("B's newest hook id %d is not above A's ids %v", created.ID, s.hooksA)
	}
	before = s.snapshot(t)
	for _, c := range []routeCall{{"PUT", hookPath(created.ID), `{"enable":false}`}, {"DELETE", hookPath(created.ID), ""}} {
		status, body := s.do(t, c.method, c.path, s.tokA, c.body)
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	}
	s.unchanged(t, before)
}

func TestAdversarialRevokedToken(t *testing.T) {
	s := newAdvStack(t)
	// The second member's token works until the member is deleted.
	s.mustDo(t, "GET", hooksPath, s.tokA2, "", http.StatusOK, nil)
	s.mustDo(t, "DELETE", fmt.Sprintf("/admin/v1/accounts/%d/members/%s", advClientA, s.memberA2), adminToken, "", http.StatusOK, nil)
	before := s.snapshot(t)

	for _, c := range s.mutatingCalls() {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			status, body := s.do(t, c.method, c.path, s.tokA2, c.body)
			checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
			s.unchanged(t, before)
		})
	}
	// A member token, revoked or not, is never an admin token.
	for _, tok := range []string{s.tokA2, s.tokA} {
		status, body := s.do(t, "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", advClientA), tok, `{"email":"x@example.com"}`)
		checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	}
	s.unchanged(t, before)
	// Deleting the member again is a 404, and the revoked token stays revoked.
	status, body := s.do(t, "DELETE", fmt.Sprintf("/admin/v1/accounts/%d/members/%s", advClientA, s.memberA2), adminToken, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	s.unchanged(t, before)
}

func TestAdversarialAuthorizationHeader(t *testing.T) {
	s := newAdvStack(t)
	tok := s.tokA
	before := s.snapshot(t)

	// RFC 6750: the scheme is case-insensitive, one or more spaces separate
	// it from the token; net/http trims the value's surrounding whitespace.
	accepted := [][]string{
		{"Bearer " + tok},
		{"bearer " + tok},
		{"BEARER " + tok},
		{"bEaReR " + tok},
		{"Bearer   " + tok},
		{"  Bearer " + tok + " \t"},
	}
	for _, auth := range accepted {
		t.Run(fmt.Sprintf("accepted %q", hideToken(auth, tok)), func(t *testing.T) {
			status, body := s.send(t, s.request(t, "GET", hooksPath, "", auth...))
			checkResponse(t, status, body, http.StatusOK, before.HooksA)
		})
	}

	refused := [][]string{
		nil,
		{""},
		{"Bearer"},
		{"Bearer "},
		{"Bearer    "},
		{tok},
		{"Bearer" + tok},
		{"Bearer:" + tok},
		{"Bearer=" + tok},
		{"Bearer\t" + tok},
		{"Bearer\u00a0" + tok},
		{"Bearer\u3000" + tok},
		{"Token " + tok},
		{"Basic " + tok},
		{"Bearers " + tok},
		{"Bear " + tok},
		{"Bearer " + strings.ToUpper(tok)},
		{"Bearer " + tok[:len(tok)-1]},
		{"Bearer " + tok + "x"},
		{"Bearer " + tok + " " + tok},
		{"Bearer " + tok + "," + tok},
		{"Bearer " + tok + ", Bearer " + tok},
		{"Bearer " + tok + "\tx"},
		{"Bearer \"" + tok + "\""},
		{"Bearer " + tok, "Bearer " + tok},
		{"Bearer " + tok, "Bearer plh_other"},
		{"Bearer plh_other", "Bearer " + tok},
		{"Bearer " + tok, ""},
		{"Bearer " + tok + strings.Repeat("A", maxTokenBytes)},
	}
	for _, auth := range refused {
		for _, c := range s.mutatingCalls() {
			t.Run(fmt.Sprintf("%q %s %s", hideToken(auth, tok), c.method, c.path), func(t *testing.T) {
				status, body := s.send(t, s.request(t, c.method, c.path, c.body, auth...))
				checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
			})
		}
	}
	s.unchanged(t, before)
}

// hideToken keeps a member token out of subtest names.
func hideToken(auth []string, tok string) []string {
	out := make([]string, len(auth))
	for i, a := range auth {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(a, tok, "<tok>"), strings.ToUpper(tok), "<TOK>")
	}
	return out
}

func TestAdversarialLimitRaceTwoAccounts(t *testing.T) {
	s := newAdvStack(t)
	accounts := []int64{501, 502}
	tokens := map[int64]string{}
	for _, cid := range accounts {
		tokens[cid] = s.newMember(t, cid, "enterprise")
	}
	before := s.items(t, fmt.Sprintf("CLIENT#%d", advClientA))

	// 50 creates per account, all released at once, both accounts racing
	// together with the SAME URLs: the limit and URL uniqueness are per
	// account, so neither account's race may leak into the other.
	const n = 50
	type result struct {
		status int
		body   string
	}
	results := map[int64][]result{}
	for _, cid := range accounts {
		results[cid] = make([]result, n)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, cid := range accounts {
		for i := range n {
			wg.Go(func() {
				<-start
				status, body := s.do(t, "POST", hooksPath, tokens[cid], hookBody(fmt.Sprintf("https://hooks.example.com/race/%d", i)))
				results[cid][i] = result{status, body}
			})
		}
	}
	close(start)
	wg.Wait()

	for _, cid := range accounts {
		created := 0
		for i, r := range results[cid] {
			switch {
			case r.status == http.StatusOK:
				created++
				var h apiHook
				if err := json.Unmarshal([]byte(r.body), &h); err != nil || h.ClientID != cid ||
					h.Config.URL != fmt.Sprintf("https://hooks.example.com/race/%d", i) {
					t.Errorf("client %d request %d: created %s", cid, i, r.body)
				}
			case r.status == http.StatusBadRequest && r.body == bodyLimit:
			default:
				t.Errorf("client %d request %d: got %d %s, want 200 or the limit error", cid, i, r.status, r.body)
			}
		}
		if created != 10 {
			t.Errorf("client %d: %d creates succeeded, want exactly 10", cid, created)
		}

		var list hookList
		s.mustDo(t, "GET", hooksPath, tokens[cid], "", http.StatusOK, &list)
		if len(list) != 10 {
			t.Errorf("client %d lists %d hooks, want 10", cid, len(list))
		}
		for i, h := range list {
			if h.ClientID != cid {
				t.Errorf("client %d lists a hook of client %d", cid, h.ClientID)
			}
			if i > 0 && list[i-1].ID >= h.ID {
				t.Errorf("client %d: ids not strictly ascending: %d then %d", cid, list[i-1].ID, h.ID)
			}
		}
		var account struct {
			HookCount int `json:"hook_count"`
		}
		s.mustDo(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d", cid), adminToken, "", http.StatusOK, &account)
		if account.HookCount != 10 {
			t.Errorf("client %d hook_count = %d, want 10", cid, account.HookCount)
		}
		// Nothing leaked: exactly one url item per hook, no orphan.
		var hookItems, urlItems int
		for k := range s.items(t, fmt.Sprintf("CLIENT#%d", cid)) {
			switch {
			case strings.Contains(k, "|S:HOOK#"):
				hookItems++
			case strings.Contains(k, "|S:URL#"):
				urlItems++
			}
		}
		if hookItems != 10 || urlItems != 10 {
			t.Errorf("client %d table holds %d hook and %d url items, want 10 and 10", cid, hookItems, urlItems)
		}
		status, body := s.do(t, "POST", hooksPath, tokens[cid], hookBody("https://hooks.example.com/race/extra"))
		checkResponse(t, status, body, http.StatusBadRequest, bodyLimit)
	}
	if diff := cmp.Diff(s.items(t, fmt.Sprintf("CLIENT#%d", advClientA)), before); diff != "" {
		t.Errorf("the race changed an uninvolved account (-got +want):\n%s", diff)
	}
}

// deepJSON is n nested arrays.
func deepJSON(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func TestAdversarialPostBodies(t *testing.T) {
	s := newAdvStack(t)
	const u = "https://hooks.example.com/new"
	before := s.snapshot(t)

	invalid := []struct{ name, body string }{
		{"Type key", `{"Type":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"TYPE key", `{"TYPE":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"Config key", `{"type":"post_load","Config":{"url":"` + u + `"}}`},
		{"URL key", `{"type":"post_load","destination_id":12345,"config":{"URL":"` + u + `"}}`},
		{"Url key", `{"type":"post_load","destination_id":12345,"config":{"Url":"` + u + `"}}`},
		{"escaped URL key", `{"type":"post_load","destination_id":12345,"config":{"\u0055RL":"` + u + `"}}`},
		{"fullwidth t", `{"ｔype":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"key with NUL", `{"type\u0000":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"key with trailing space", `{"type ":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"duplicate type", `{"type":"post_load","type":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"duplicate type, other value", `{"type":"other","type":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"duplicate config", `{"type":"post_load","destination_id":12345,"config":{"url":"https://a.example.com/"},"config":{"url":"` + u + `"}}`},
		{"duplicate url", `{"type":"post_load","destination_id":12345,"config":{"url":"https://a.example.com/","url":"` + u + `"}}`},
		{"duplicate url via escape", `{"type":"post_load","destination_id":12345,"config":{"url":"` + u + `","\u0075rl":"https://a.example.com/"}}`},
		{"duplicate url all escaped", `{"type":"post_load","destination_id":12345,"config":{"\u0075\u0072\u006c":"` + u + `","\u0075rl":"` + u + `"}}`},
		{"duplicate type via escape", `{"typ\u0065":"post_load","type":"post_load","destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"duplicate key in extra object", `{"type":"post_load","destination_id":12345,"config":{"url":"` + u + `"},"x":{"a":1,"a":1}}`},
		{"case-variant pair", `{"type":"post_load","destination_id":12345,"config":{"url":"` + u + `","URL":"` + u + `"}}`},
		{"BOM", "\ufeff" + hookBody(u)},
		{"UTF-16LE BOM", "\xff\xfe{\x00}\x00"},
		{"trailing x", hookBody(u) + "x"},
		{"trailing brace", hookBody(u) + "}"},
		{"trailing object", hookBody(u) + "{}"},
		{"trailing null", hookBody(u) + " null"},
		{"trailing comma", hookBody(u) + ","},
		{"trailing NUL", hookBody(u) + "\x00"},
		{"trailing BOM", hookBody(u) + "\ufeff"},
		{"second document", hookBody(u) + "\n" + hookBody(u)},
		{"NaN type", `{"type":NaN,"destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"Infinity type", `{"type":Infinity,"destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"-Infinity url", `{"type":"post_load","destination_id":12345,"config":{"url":-Infinity}}`},
		{"huge exponent", `{"type":1e999999999,"destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"huge integer", `{"type":` + strings.Repeat("9", 4000) + `,"destination_id":12345,"config":{"url":"` + u + `"}}`},
		{"huge number in extra key", `{"type":"post_load","destination_id":12345,"config":{"url":"` + u + `"},"n":1e400}`},
		{"deep config", `{"type":"post_load","destination_id":12345,"config":` + deepJSON(20000) + `}`},
		{"deep extra key", `{"type":"post_load","destination_id":12345,"config":{"url":"` + u + `"},"x":` + deepJSON(33) + `}`},
		{"deep objects", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)},
		{"unterminated deep", strings.Repeat("[", 60000)},
		{"raw LF in url string", `{"type":"post_load","destination_id":12345,"config":{"url":"https://hooks.example.com/x` + "\r\n" + `X: y"}}`},
		{"raw tab in url string", `{"type":"post_load","destination_id":12345,"config":{"url":"https://hooks.example.com/` + "\t" + `"}}`},
		{"invalid utf-8 in key", "{\"typ\xe9\":\"post_load\",\"destination_id\":12345,\"config\":{\"url\":\"" + u + "\"}}"},
		{"bad escape", `{"type":"post_load","destination_id":12345,"config":{"url":"https:\/\/hooks.example.com\x"}}`},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.do(t, "POST", hooksPath, s.tokA, tt.body)
			checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidPostBody)
			s.unchanged(t, before)
		})
	}

	// An escaped key is the same key (JSON compares decoded strings).
	var h apiHook
	s.mustDo(t, "POST", hooksPath, s.tokA, `{"\u0074ype":"post_load","destination_id":12345,"config":{"\u0075rl":"https:\/\/hooks.example.com\/new"}}`, http.StatusOK, &h)
	if h.Config.URL != u {
		t.Errorf("escaped body stored url %q, want %q", h.Config.URL, u)
	}
}

func TestAdversarialPutBodies(t *testing.T) {
	s := newAdvStack(t)
	target := hookPath(s.hooksA[0]) // enabled: any accepted body below would disable it
	before := s.snapshot(t)
	for _, body := range []string{
		`{"enable":false,"enable":false}`,
		`{"enable":false,"\u0065nable":false}`,
		`{"enable":true,"enable":false}`,
		`{"Enable":false}`,
		`{"ENABLE":false}`,
		`{"\u0045nable":false}`,
		`{"enable":false,"Enable":false}`,
		`{"enable":false,"disabled_at":null}`,
		`{"enable":"false"}`,
		`{"enable":0}`,
		`{"enable":NaN}`,
		`{"enable":1e999}`,
		`{"enable":` + strings.Repeat("1", 5000) + `}`,
		`{"enable":fals}`,
		`{"enable":False}`,
		`{"enable":null}`,
		`{"enable":[false]}`,
		`{"enable":` + deepJSON(20000) + `}`,
		"\ufeff" + `{"enable":false}`,
		`{"enable":false}x`,
		`{"enable":false}{"enable":false}`,
		`{"enable":false}` + "\x00",
		`{"enable":false`,
		`false`,
		``,
	} {
		t.Run(body[:min(len(body), 40)], func(t *testing.T) {
			status, got := s.do(t, "PUT", target, s.tokA, body)
			checkResponse(t, status, got, http.StatusBadRequest, bodyInvalidPutBody)
			s.unchanged(t, before)
		})
	}
}

func TestAdversarialAdminBodies(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	const (
		malformed = `{"data":{"message":"Body must be one JSON object, without repeated keys or trailing data"},"error":"InvalidBody"}`
		badID     = `{"data":{"message":"client_id must be a positive integer"},"error":"InvalidBody"}`
	)
	unknown := func(allowed string) string {
		return `{"data":{"message":"Body has an unknown field; allowed fields: ` + allowed + `"},"error":"InvalidBody"}`
	}
	tests := []struct {
		name, method, path, body, want string
	}{
		{"duplicate client_id", "POST", "/admin/v1/accounts", `{"client_id":7,"client_id":8,"plan":"advanced"}`, malformed},
		{"duplicate via escape", "POST", "/admin/v1/accounts", `{"client_id":7,"\u0063lient_id":7,"plan":"advanced"}`, malformed},
		{"BOM", "POST", "/admin/v1/accounts", "\ufeff" + `{"client_id":7,"plan":"advanced"}`, malformed},
		{"trailing", "POST", "/admin/v1/accounts", `{"client_id":7,"plan":"advanced"}x`, malformed},
		{"deep", "POST", "/admin/v1/accounts", `{"client_id":7,"plan":"advanced","alert_emails":` + deepJSON(40) + `}`, malformed},
		{"Client_id", "POST", "/admin/v1/accounts", `{"Client_id":7,"plan":"advanced"}`, unknown("client_id, plan, alert_emails, destinations, api_access, auto_disable")},
		{"client_id overflow", "POST", "/admin/v1/accounts", `{"client_id":9223372036854775808,"plan":"advanced"}`, badID},
		{"client_id way over", "POST", "/admin/v1/accounts", `{"client_id":` + strings.Repeat("9", 400) + `,"plan":"advanced"}`, badID},
		{"client_id zero", "POST", "/admin/v1/accounts", `{"client_id":0,"plan":"advanced"}`, badID},
		{"client_id negative zero", "POST", "/admin/v1/accounts", `{"client_id":-0,"plan":"advanced"}`, badID},
		{"client_id negative", "POST", "/admin/v1/accounts", `{"client_id":-7,"plan":"advanced"}`, badID},
		{"client_id min int64", "POST", "/admin/v1/accounts", `{"client_id":-9223372036854775808,"plan":"advanced"}`, badID},
		{"client_id fraction", "POST", "/admin/v1/accounts", `{"client_id":7.5,"plan":"advanced"}`, badID},
		{"client_id 7.0", "POST", "/admin/v1/accounts", `{"client_id":7.0,"plan":"advanced"}`, badID},
		{"client_id exponent", "POST", "/admin/v1/accounts", `{"client_id":7e0,"plan":"advanced"}`, badID},
		{"client_id 1e999", "POST", "/admin/v1/accounts", `{"client_id":1e999,"plan":"advanced"}`, badID},
		{"client_id string", "POST", "/admin/v1/accounts", `{"client_id":"7","plan":"advanced"}`, badID},
		{"client_id null", "POST", "/admin/v1/accounts", `{"client_id":null,"plan":"advanced"}`, badID},
		{"client_id NaN", "POST", "/admin/v1/accounts", `{"client_id":NaN,"plan":"advanced"}`, malformed},
		{"PATCH duplicate plan", "PATCH", "/admin/v1/accounts/116078", `{"plan":"standard","plan":"standard"}`, malformed},
		{"PATCH Plan", "PATCH", "/admin/v1/accounts/116078", `{"Plan":"standard"}`, unknown("plan, alert_emails, destinations, api_access, auto_disable")},
		{"PATCH client_id", "PATCH", "/admin/v1/accounts/116078", `{"plan":"standard","client_id":200}`, unknown("plan, alert_emails, destinations, api_access, auto_disable")},
		{"member duplicate email", "POST", "/admin/v1/accounts/116078/members", `{"email":"a@example.com","email":"b@example.com"}`, malformed},
		{"member Email", "POST", "/admin/v1/accounts/116078/members", `{"Email":"a@example.com"}`, unknown("email")},
		{"member client_id", "POST", "/admin/v1/accounts/116078/members", `{"email":"a@example.com","client_id":200}`, unknown("email")},
		{"member header injection", "POST", "/admin/v1/accounts/116078/members", `{"email":"a@example.com\r\nBcc: x@example.com"}`,
			`{"data":{"message":"email must be a valid email address without a display name"},"error":"InvalidBody"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.do(t, tt.method, tt.path, adminToken, tt.body)
			checkResponse(t, status, body, http.StatusBadRequest, tt.want)
			s.unchanged(t, before)
		})
	}
}

// sizedBody is body padded with trailing spaces (valid JSON whitespace) to
// exactly n bytes.
func sizedBody(t *testing.T, body string, n int) string {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body longer than %d bytes", n)
	}
	return body + strings.Repeat(" ", n-len(body))
}

// onlyReader hides the length of its reader, so the client sends the body
// chunked, without Content-Length.
type onlyReader struct{ io.Reader }

func TestAdversarialBodySize(t *testing.T) {
	s := newAdvStack(t)
	tests := []struct {
		name, method, path, auth string
		fits, over               string // bodies padded to 65536 and 65537 bytes
		fitsStatus               int
	}{
		{"POST hooks", "POST", hooksPath, s.tokA,
			hookBody("https://hooks.example.com/fits-%s"), hookBody("https://hooks.example.com/over-%s"), http.StatusOK},
		{"PUT hook", "PUT", hookPath(s.hooksA[0]), s.tokA, `{"enable":true}`, `{"enable":false}`, http.StatusOK},
		// The body-less routes: a body that fits is refused as a body.
		{"POST rotate", "POST", hookPath(s.hooksA[0]) + "/secret/rotate", s.tokA, ``, ``, http.StatusBadRequest},
		{"POST test", "POST", hookPath(s.hooksA[0]) + "/test", s.tokA, ``, ``, http.StatusBadRequest},
		{"POST accounts", "POST", "/admin/v1/accounts", adminToken,
			`{"client_id":%s,"plan":"advanced"}`, `{"client_id":9%s,"plan":"advanced"}`, http.StatusCreated},
		{"PATCH account", "PATCH", fmt.Sprintf("/admin/v1/accounts/%d", advClientA), adminToken,
			`{"plan":"advanced"}`, `{"plan":"standard"}`, http.StatusOK},
		{"POST member", "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", advClientA), adminToken,
			`{"email":"fits@example.com"}`, `{"email":"over@example.com"}`, http.StatusCreated},
	}
	for i, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s chunked=%v", tt.name, chunked), func(t *testing.T) {
				n := fmt.Sprint(800 + i*10 + map[bool]int{false: 0, true: 1}[chunked]) // unique per run
				req := func(body string) *http.Request {
					var r io.Reader = strings.NewReader(body)
					if chunked {
						r = onlyReader{r}
					}
					req, err := http.NewRequest(tt.method, s.url+tt.path, r)
					if err != nil {
						t.Fatal(err)
					}
					if !chunked && req.ContentLength != int64(len(body)) {
						t.Fatalf("Content-Length %d, want %d", req.ContentLength, len(body))
					}
					req.Header.Set("Authorization", bearer(tt.auth))
					return req
				}
				fill := func(tmpl string) string {
					if strings.Contains(tmpl, "%s") {
						return fmt.Sprintf(tmpl, n)
					}
					return tmpl
				}

				before := s.snapshot(t)
				status, body := s.send(t, req(sizedBody(t, fill(tt.over), spec64KiB+1)))
				checkResponse(t, status, body, http.StatusRequestEntityTooLarge, bodyTooLarge)
				s.unchanged(t, before)
				// Far over: refused just the same.
				status, body = s.send(t, req(sizedBody(t, fill(tt.over), 1<<20)))
				checkResponse(t, status, body, http.StatusRequestEntityTooLarge, bodyTooLarge)
				s.unchanged(t, before)

				status, body = s.send(t, req(sizedBody(t, fill(tt.fits), spec64KiB)))
				if status != tt.fitsStatus {
					t.Errorf("65536-byte body: got %d %s, want %d", status, body, tt.fitsStatus)
				}
			})
		}
	}
}

func TestAdversarialHookURLs(t *testing.T) {
	s := newAdvStack(t)
	const base = "https://hooks.example.com/"
	exact := func(n int) string { return base + strings.Repeat("a", n-len(base)) }
	if len(exact(2048)) != 2048 || len(exact(2049)) != 2049 {
		t.Fatal("bad boundary construction")
	}

	refused := []struct{ name, url string }{
		{"CRLF in path", base + "x\r\nX-Injected: 1"},
		{"CRLF in host", "https://hooks.example.com\r\nHost: evil.example.com/"},
		{"CRLF in query", base + "x?a=1\r\n\r\nGET / HTTP/1.1"},
		{"LF in path", base + "x\nX: 1"},
		{"CR in path", base + "x\rX: 1"},
		{"LF at end", base + "x\n"},
		{"tab in path", base + "x\ty"},
		{"tab in host", "https://hooks.\texample.com/"},
		{"NUL in path", base + "x\x00"},
		{"NUL in host", "https://hooks.example.com\x00.evil.example/"},
		{"vertical tab", base + "x\vy"},
		{"form feed", base + "x\fy"},
		{"escape", base + "x\x1by"},
		{"DEL", base + "x\x7f"},
		{"space", base + "x y"},
		{"leading space", " " + base},
		{"NEL", base + "x\u0085y"},
		{"line separator", base + "x\u2028y"},
		{"percent CRLF in host", "https://hooks.example.com%0d%0aHost:evil.example.com/"},
		{"percent NUL in host", "https://hooks.example.com%00.evil.example/"},
		{"unicode host", "https://bücher.example.com/x"},
		{"unicode TLD", "https://hooks.рф/x"},
		{"cyrillic homograph", "https://аpple.com/x"},
		{"fullwidth dots", "https://hooks．example．com/x"},
		{"ideographic full stop", "https://hooks。example。com/x"},
		{"fullwidth letters", "https://ｈooks.example.com/x"},
		{"emoji host", "https://🪝.example.com/x"},
		{"fullwidth port digits", "https://hooks.example.com:４４３/x"},
		{"unicode path", base + "bücher"},
		{"2049 bytes", exact(2049)},
		{"far over", exact(100000)},
		{"2049 bytes with percent-encoding", exact(2046) + "%41"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := s.snapshot(t)
			body, err := json.Marshal(map[string]any{"type": "post_load", "destination_id": 12345, "config": map[string]string{"url": tt.url}})
			if err != nil {
				t.Fatal(err)
			}
			want, wantBody := http.StatusBadRequest, bodyInvalidURI
			if len(body) > spec64KiB {
				want, wantBody = http.StatusRequestEntityTooLarge, bodyTooLarge
			}
			status, got := s.do(t, "POST", hooksPath, s.tokA, string(body))
			checkResponse(t, status, got, want, wantBody)
			s.unchanged(t, before)
		})
	}

	accepted := []struct{ name, body, stored string }{
		{"punycode host", hookBody("https://xn--bcher-kva.example.com/x"), "https://xn--bcher-kva.example.com/x"},
		{"punycode upper case", hookBody("https://XN--BCHER-KVA.example.com/y"), "https://xn--bcher-kva.example.com/y"},
		{"punycode TLD", hookBody("https://hooks.xn--p1ai/x"), "https://hooks.xn--p1ai/x"},
		{"2048 bytes", hookBody(exact(2048)), exact(2048)},
		// The limit counts the URL, not its JSON spelling.
		{"2048 bytes spelled with escapes", `{"type":"post_load","destination_id":12345,"config":{"url":"https:\/\/hooks.example.com\/` +
			strings.Repeat(`\u0062`, 2048-len(base)) + `"}}`, base + strings.Repeat("b", 2048-len(base))},
		{"2048 bytes with percent-encoding", hookBody(exact(2045) + "%41"), exact(2045) + "%41"},
		// Percent-encoded CR LF in a path is a valid RFC 3986 URI: it is
		// stored and later sent byte for byte, still encoded, so it cannot
		// split a header (hookurl documents this).
		{"percent CRLF in path", hookBody(base + "x%0d%0aX-Injected:%201"), base + "x%0d%0aX-Injected:%201"},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			var h apiHook
			s.mustDo(t, "POST", hooksPath, s.tokA, tt.body, http.StatusOK, &h)
			if h.Config.URL != tt.stored {
				t.Errorf("stored %q, want %q", h.Config.URL, tt.stored)
			}
			var list hookList
			s.mustDo(t, "GET", hooksPath, s.tokA, "", http.StatusOK, &list)
			if got := list[len(list)-1]; got.ID != h.ID || got.Config.URL != tt.stored {
				t.Errorf("listed %+v, want id %d with url %q", got, h.ID, tt.stored)
			}
			s.mustDo(t, "DELETE", hookPath(h.ID), s.tokA, "", http.StatusOK, nil) // stay under the limit
		})
	}
}

func TestAdversarialHookIDs(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	ids := []string{
		"9223372036854775808",  // max int64 + 1
		"9223372036854775807",  // max int64: well-formed, unknown
		"18446744073709551616", // max uint64 + 1
		"18446744073709551617", // wraps to 1 in uint64
		"36893488147419103233", // wraps to 1 in 65-bit arithmetic
		strings.Repeat("9", 300),
		"-1", "-0", "0", "00", "01", "001", "+1", "%2B1",
		"0x1", "0X1", "0b1", "0o1", "1e0", "1.0", "1.", ".1", "1_0",
		"%201", "1%20", "%091", "1%00", "%001", "1%0d%0a", "1;", "1,2", "1%2C2",
		"%D9%A1",       // ARABIC-INDIC DIGIT ONE
		"%EF%BC%91",    // FULLWIDTH DIGIT ONE
		"%C2%B9",       // SUPERSCRIPT ONE
		"%E1%9F%A1",    // KHMER DIGIT ONE
		"%F0%9D%9F%8F", // MATHEMATICAL BOLD DIGIT ONE
		"999",
		"1/", "1/x", "%2F1", "1%2F",
	}
	for _, id := range ids {
		for _, c := range []routeCall{{"PUT", hooksPath + "/" + id, `{"enable":false}`}, {"DELETE", hooksPath + "/" + id, ""},
			{"GET", hooksPath + "/" + id, ""}, {"PATCH", hooksPath + "/" + id, `{"filter":null}`},
			{"POST", hooksPath + "/" + id + "/secret/rotate", ""}, {"POST", hooksPath + "/" + id + "/test", ""},
			{"GET", hooksPath + "/" + id + "/deliveries", ""}, {"GET", hooksPath + "/" + id + "/deliveries/" + delivery.ID("load-1"), ""},
			{"POST", hooksPath + "/" + id + "/deliveries/" + delivery.ID("load-1") + "/resend", ""},
			{"POST", hooksPath + "/" + id + "/replay", `{"since":"2026-07-01T00:00:00Z","until":"2026-07-02T00:00:00Z"}`}} {
			t.Run(c.method+" "+id, func(t *testing.T) {
				status, body := s.do(t, c.method, c.path, s.tokA, c.body)
				checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
				s.unchanged(t, before)
			})
		}
	}
}

func TestAdversarialAdminAuth(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	calls := []routeCall{
		{"POST", "/admin/v1/accounts", `{"client_id":777,"plan":"advanced"}`},
		{"GET", "/admin/v1/accounts/116078", ""},
		{"PATCH", "/admin/v1/accounts/116078", `{"plan":"standard"}`},
		{"POST", "/admin/v1/accounts/116078/members", `{"email":"intruder@example.com"}`},
		{"DELETE", "/admin/v1/accounts/116078/members/" + s.memberA2, ""},
	}
	auths := [][]string{
		nil,
		{""},
		{"Bearer"},
		{"Bearer "},
		{adminToken},
		{"Basic " + adminToken},
		{"Bearer " + strings.ToUpper(adminToken)},
		{"Bearer " + adminToken + "x"},
		{"Bearer " + adminToken[:len(adminToken)-1]},
		{"Bearer " + adminToken + " " + adminToken},
		{"Bearer " + adminToken, "Bearer " + adminToken},
		{"Bearer " + adminToken, "Bearer wrong"},
		{"Bearer " + s.tokA},
		{"Bearer " + hex.EncodeToString([]byte(adminToken))},
	}
	for _, c := range calls {
		for _, auth := range auths {
			t.Run(fmt.Sprintf("%s %s %q", c.method, c.path, hideToken(auth, s.tokA)), func(t *testing.T) {
				status, body := s.send(t, s.request(t, c.method, c.path, c.body, auth...))
				checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
				s.unchanged(t, before)
			})
		}
	}
	// The same calls with the admin token are well-formed and do succeed.
	s.mustDo(t, "POST", calls[0].path, adminToken, calls[0].body, http.StatusCreated, nil)
	s.mustDo(t, "GET", calls[1].path, adminToken, "", http.StatusOK, nil)
}

func TestAdversarialAdminClientIDs(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	// Unknown, malformed and out-of-range ids are all "unknown client ids":
	// the admin API answers 404 {"error":"NotFound"} (openapi.json).
	for _, id := range []string{
		"9223372036854775808", "9223372036854775807", "18446744073709551617", strings.Repeat("9", 300),
		"0", "00", "-0", "-1", "-116078", "+116078", "0116078", "116078.0", "1e5", "0x1c56e",
		"%20116078", "116078%20", "%D9%A1", "999999",
	} {
		for _, c := range []routeCall{
			{"GET", "/admin/v1/accounts/" + id, ""},
			{"PATCH", "/admin/v1/accounts/" + id, `{"plan":"standard"}`},
			{"POST", "/admin/v1/accounts/" + id + "/members", `{"email":"x@example.com"}`},
			{"DELETE", "/admin/v1/accounts/" + id + "/members/" + s.memberA2, ""},
		} {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				status, body := s.do(t, c.method, c.path, adminToken, c.body)
				checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
				s.unchanged(t, before)
			})
		}
	}
	// A member id of another account is unknown in this one.
	status, body := s.do(t, "DELETE", fmt.Sprintf("/admin/v1/accounts/%d/members/%s", advClientB, s.memberA2), adminToken, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	s.unchanged(t, before)
}
