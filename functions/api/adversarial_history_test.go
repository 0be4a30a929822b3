package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// The adversarial suite's attacks on the delivery history
// (GET .../hooks/{id}/deliveries, GET .../deliveries/{delivery_id} and
// POST .../deliveries/{delivery_id}/resend) on the real store
// (newAdvStack): foreign ids, forged, foreign and malformed cursors, bad
// limits and statuses, and paging that returns each delivery once.

// seedHistory keeps n finished deliveries of hook id of clientID in the
// real store (as test notifications' records are kept) and returns their
// load ids, oldest first.
func (s *advStack) seedHistory(t *testing.T, clientID, id int64, prefix string, n int) []string {
	t.Helper()
	st := store.New(s.db, s.table, time.Now)
	var ids []string
	for i := range n {
		loadID := fmt.Sprintf("%s-%02d", prefix, i)
		a := delivery.Attempt{At: time.Now(), Outcome: delivery.OutcomeSuccess, StatusCode: http.StatusOK, LatencyMs: 3}
		if err := st.RecordTest(context.Background(), delivery.Key{ClientID: clientID, LoadID: loadID, HookID: id}, []byte(exampleNotification), a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, loadID)
	}
	return ids
}

func TestAdversarialHistoryPaging(t *testing.T) {
	s := newAdvStack(t)
	want := s.seedHistory(t, advClientA, s.hooksA[0], "load", 25)
	// Another hook's deliveries between them must not show or repeat.
	s.seedHistory(t, advClientA, s.hooksA[1], "other", 7)

	seen := map[string]int{}
	var order []string
	next := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		target := hookPath(s.hooksA[0]) + "/deliveries?limit=10"
		if next != "" {
			target += "&cursor=" + url.QueryEscape(next)
		}
		status, body := s.do(t, "GET", target, s.tokA, "")
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, status, body)
		}
		p := decodePage(t, body)
		if len(p.Data) > 10 {
			t.Errorf("page %d holds %d deliveries, want at most 10", page, len(p.Data))
		}
		for _, d := range p.Data {
			seen[d.LoadID]++
			order = append(order, d.LoadID)
		}
		if p.NextCursor == nil {
			break
		}
		next = *p.NextCursor
	}
	if len(order) != len(want) {
		t.Errorf("paged %d deliveries %v, want %d", len(order), order, len(want))
	}
	for i, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s listed %d times, want once", id, seen[id])
		}
		if j := len(want) - 1 - i; j < len(order) && order[j] != id {
			t.Errorf("position %d is %s, want %s (newest first)", j, order[j], id)
		}
	}
}

func TestAdversarialHistoryQueries(t *testing.T) {
	s := newAdvStack(t)
	s.seedHistory(t, advClientA, s.hooksA[0], "load", 3)
	_, body := s.do(t, "GET", hookPath(s.hooksA[0])+"/deliveries?limit=1", s.tokA, "")
	p := decodePage(t, body)
	if p.NextCursor == nil {
		t.Fatalf("no cursor in %s", body)
	}
	good := *p.NextCursor
	inner, seal, ok := strings.Cut(good, ".")
	if !ok {
		t.Fatalf("cursor %q is not sealed", good)
	}
	forged := delivery.Cursor{ClientID: advClientA, HookID: s.hooksA[1], After: "x#load-00", LoadID: "load-00"}.Encode()
	foreign := delivery.Cursor{ClientID: advClientB, HookID: s.hooksA[0], After: "x#load-00", LoadID: "load-00"}.Encode()
	tampered := delivery.Cursor{ClientID: advClientA, HookID: s.hooksA[0], After: "x#load-00", LoadID: "load-01"}.Encode()
	// A cursor of this very listing, written by hand: as the store would
	// make it, but not made by the API; with the seal of the real one; and
	// sealed under another key.
	handmade := delivery.Cursor{ClientID: advClientA, HookID: s.hooksA[0], After: "2026-01-01T00:00:00Z#load-00", LoadID: "load-00"}.Encode()
	api := hooksConfig{}.cursorSeal() // the stack's routes seal with it
	other, err := newCursorSeal([]byte(strings.Repeat("k", minCursorKeyBytes)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ query, want string }{
		{"cursor=" + url.QueryEscape(inner), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(handmade), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(handmade+"."+seal), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(other.seal(inner)), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(good+"x"), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape("."+seal), bodyInvalidCursor},
		{"limit=0", bodyInvalidLimit}, {"limit=101", bodyInvalidLimit}, {"limit=abc", bodyInvalidLimit},
		{"limit=1e1", bodyInvalidLimit}, {"limit=9223372036854775808", bodyInvalidLimit},
		{"status=unknown", bodyInvalidStatus}, {"status=delivered%00", bodyInvalidStatus},
		{"cursor=" + url.QueryEscape(good) + "&status=exhausted", bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(forged), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(foreign), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(tampered), bodyInvalidCursor},
		// Sealed by the API, so only the store's own checks refuse them.
		{"cursor=" + url.QueryEscape(api.seal(forged)), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(api.seal(foreign)), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(api.seal(tampered)), bodyInvalidCursor},
		{"cursor=" + url.QueryEscape(good[:len(good)/2]), bodyInvalidCursor},
		{"cursor=!!!", bodyInvalidCursor}, {"cursor=", bodyInvalidCursor},
	} {
		t.Run(tt.query, func(t *testing.T) {
			status, body := s.do(t, "GET", hookPath(s.hooksA[0])+"/deliveries?"+tt.query, s.tokA, "")
			checkResponse(t, status, body, http.StatusBadRequest, tt.want)
		})
	}
	// A's cursor used on A's other hook.
	status, body := s.do(t, "GET", hookPath(s.hooksA[1])+"/deliveries?cursor="+url.QueryEscape(good), s.tokA, "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidCursor)
}

func TestAdversarialHistoryForeignIDs(t *testing.T) {
	s := newAdvStack(t)
	s.seedHistory(t, advClientA, s.hooksA[0], "load", 1)
	id := delivery.ID("load-00")
	status, body := s.do(t, "GET", hookPath(s.hooksA[2])+"/deliveries", s.tokB, "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	// B gets a hook of its own: hook ids count per account, so it has A's
	// first hook's id, and still sees none of A's deliveries.
	var h apiHook
	s.mustDo(t, "POST", hooksPath, s.tokB, hookBody("https://hooks.example.com/b"), http.StatusOK, &h)
	status, body = s.do(t, "GET", hookPath(h.ID)+"/deliveries", s.tokB, "")
	checkResponse(t, status, body, http.StatusOK, `{"data":[],"next_cursor":null}`)
	before := s.snapshot(t)
	for _, c := range []routeCall{
		{"GET", hookPath(s.hooksA[0]) + "/deliveries/" + id, ""},
		{"POST", hookPath(s.hooksA[0]) + "/deliveries/" + id + "/resend", ""},
		{"GET", hookPath(h.ID) + "/deliveries/" + id, ""},
		{"POST", hookPath(h.ID) + "/deliveries/" + id + "/resend", ""},
	} {
		t.Run("B "+c.method+" "+c.path, func(t *testing.T) {
			status, body := s.do(t, c.method, c.path, s.tokB, c.body)
			checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
			s.unchanged(t, before)
		})
	}
	for _, c := range []routeCall{
		{"GET", hookPath(s.hooksA[1]) + "/deliveries/" + id, ""},
		{"GET", hookPath(s.hooksA[0]) + "/deliveries/" + delivery.ID("load-01"), ""},
		{"GET", hookPath(s.hooksA[0]) + "/deliveries/" + id + "=", ""},
		{"GET", hookPath(s.hooksA[0]) + "/deliveries/" + "bG9hZC0wMA%3D%3D", ""},
		{"POST", hookPath(s.hooksA[1]) + "/deliveries/" + id + "/resend", ""},
	} {
		t.Run("A "+c.method+" "+c.path, func(t *testing.T) {
			status, body := s.do(t, c.method, c.path, s.tokA, c.body)
			checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		})
	}
	status, body = s.do(t, "GET", hookPath(s.hooksA[0])+"/deliveries/"+id, s.tokA, "")
	if status != http.StatusOK {
		t.Errorf("own delivery: %d %s", status, body)
	}
}

// TestResendQueuesOnSQS: a resend on the real store puts exactly the retry
// message that starts the fresh sequence on the retry queue (the SQS
// emulator), and a second resend while it waits queues nothing.
func TestResendQueuesOnSQS(t *testing.T) {
	db, table := devstack.DynamoDB(t)
	client, queues := devstack.SQS(t)
	st := store.New(db, table, time.Now)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken),
		hooksConfig{sender: &fakeSender{}, retries: sqsRetryQueue{client: client, url: queues.Retry}}))
	t.Cleanup(srv.Close)
	s := &advStack{integrationAPI: &integrationAPI{url: srv.URL, client: srv.Client()}, db: db, table: table}
	tok := s.newMember(t, advClientA, "advanced")
	var h apiHook
	s.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/resend"), http.StatusOK, &h)
	s.seedHistory(t, advClientA, h.ID, "load", 1)

	path := hookPath(h.ID) + "/deliveries/" + delivery.ID("load-00") + "/resend"
	status, body := s.do(t, "POST", path, tok, "")
	if status != http.StatusAccepted || !strings.Contains(body, `"status":"attempting"`) {
		t.Fatalf("resend: %d %s", status, body)
	}
	status, _ = s.do(t, "POST", path, tok, "")
	if status != http.StatusAccepted {
		t.Errorf("second resend: %d, want 202", status)
	}
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queues.Retry), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("retry queue holds %d messages, want 1", len(out.Messages))
	}
	m, err := delivery.DecodeRetry([]byte(aws.ToString(out.Messages[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	if m.ClientID != advClientA || m.HookID != h.ID || m.LoadID != "load-00" || m.Attempt != 1 ||
		m.WebhookID != hook.WebhookID(advClientA, "load-00", h.ID) || string(m.Body) != exampleNotification {
		t.Errorf("queued %+v, want attempt 1 of load-00 with its webhook id and body", m)
	}
}
