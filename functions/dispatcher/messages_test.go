package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/notify"
)

// FuzzQueueMessagesFit is the property behind the once-lost pair: for any
// notification notify.Parse accepts, up to its size limit and with table and
// integration names made of any characters (HTML characters, quotes,
// backslashes, control characters, non-ASCII, invalid UTF-8), the retry and
// alert messages the dispatcher queues for it fit in one SQS message, and
// the readers (parseRetry, the alerter's delivery.DecodeAlert) read them
// back identically. Attempts carry worst-case snippets and errors.
func FuzzQueueMessagesFit(f *testing.F) {
	for _, unit := range []string{"<", `"`, `\`, "\x01", "\u2028", "é", "<>&'\"\\\x00\x1f\u2029", "\xff", "a"} {
		f.Add(unit, "shopify", uint8(1), []byte(unit))
	}
	f.Add("o", "<script>", uint8(50), []byte("\x00"))
	f.Fuzz(func(t *testing.T, unit, integration string, tables uint8, snippet []byte) {
		if unit == "" || len(integration) > 1024 {
			return
		}
		m, ok := largestLoad(unit, integration, int(tables)%20+1)
		if !ok {
			return // notify refuses it: nothing is ever queued for it
		}
		checkQueueMessages(t, m, snippet)
	})
}

// TestHugeTableNameMessagesFit is the reported case: 150,000 '<'.
func TestHugeTableNameMessagesFit(t *testing.T) {
	msg, _ := hugeLoad(testClient, "huge")
	m, err := notify.Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	checkQueueMessages(t, m, []byte("<a href=x>"))
}

// largestLoad builds a load message whose tables' destination names repeat
// unit, as long as notify.Parse still accepts it (the body within a few
// percent of notify.MaxBodyBytes), and parses it.
func largestLoad(unit, integration string, tables int) (notify.Message, bool) {
	build := func(reps int) (notify.Message, error) {
		n, _ := json.Marshal(strings.Repeat(unit, reps))
		var ts []string
		for i := range tables {
			src := "orders"
			if i > 0 {
				src = fmt.Sprintf("orders__%d", i)
			}
			ts = append(ts, fmt.Sprintf(`{"source_table_name":%q,"destination_table_name":%s,"num_rows":1,"num_rows_rejected":0}`, src, n))
		}
		in, _ := json.Marshal(integration)
		return notify.Parse(fmt.Appendf(nil, `{"client_id":116078,"load_id":"l","status":"succeeded","notification":{"integration_name":%s,`+
			`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,"tables":[%s]}}`,
			in, strings.Join(ts, ",")))
	}
	// What one more unit per table costs in the body, as notify writes it.
	small, err := build(1)
	if err != nil {
		return notify.Message{}, false
	}
	ten, err := build(11)
	if err != nil {
		return notify.Message{}, false
	}
	per := (len(ten.Body) - len(small.Body)) / 10 // all tables together
	if per <= 0 {
		return notify.Message{}, false
	}
	for reps := (notify.MaxBodyBytes - len(small.Body)) / per; reps > 1; reps -= max(reps/64, 1) {
		m, err := build(reps)
		if err == nil {
			if per < 1<<10 && len(m.Body) < notify.MaxBodyBytes*15/16 {
				panic(fmt.Sprintf("largestLoad made a body of %d bytes, want close to %d", len(m.Body), notify.MaxBodyBytes))
			}
			return m, true
		}
		var ve *notify.ValidationError
		if !errors.As(err, &ve) || ve.Reason != "too large" {
			return notify.Message{}, false
		}
	}
	return notify.Message{}, false
}

func checkQueueMessages(t *testing.T, m notify.Message, snippet []byte) {
	t.Helper()
	k := delivery.Key{ClientID: m.ClientID, LoadID: m.LoadID, HookID: 10}
	p := &pair{key: k, n: 1, body: m.Body, digest: delivery.BodyDigest(m.Body), notification: m.Notification,
		hook: &hook.Hook{ID: 10, ClientID: k.ClientID, URL: "https://hooks.example.com/" + strings.Repeat("p", 1900) + "?api_key=" + strings.Repeat("s", 100)}}
	h := &handler{}
	at := time.Date(2026, 7, 15, 14, 45, 8, 123456789, time.UTC)

	enc := []byte(h.retryOut(p, 2, 0).body)
	if len(enc) > delivery.MaxMessageBytes {
		t.Fatalf("retry message of %d bytes (body %d), over %d", len(enc), len(m.Body), delivery.MaxMessageBytes)
	}
	r, reason := parseRetry(enc)
	if reason != "" {
		t.Fatalf("parseRetry(own retry message): %s", reason)
	}
	if string(r.msg.Encode()) != string(enc) || string(r.msg.Body) != string(m.Body) {
		t.Fatalf("retry message read back differently")
	}

	// Six attempts, each with the most a snippet and an error can cost.
	long := strings.Repeat(string(snippet)+"\x01", 2*delivery.SnippetBytes/(len(snippet)+1)+1)
	var history []delivery.Attempt
	for i := range 8 {
		history = append(history, delivery.Attempt{At: at.Add(time.Duration(i) * time.Minute), Outcome: delivery.OutcomeHTTPStatus,
			StatusCode: 500, Error: long, LatencyMs: 30000, Snippet: long})
	}
	enc = []byte(h.alertOut(p, delivery.Record{Key: k, Attempts: history}).body)
	if len(enc) > delivery.MaxMessageBytes {
		t.Fatalf("alert message of %d bytes (body %d), over %d", len(enc), len(m.Body), delivery.MaxMessageBytes)
	}
	got, err := delivery.DecodeAlert(enc)
	if err != nil {
		t.Fatalf("DecodeAlert(own alert message): %v", err)
	}
	if strings.Contains(string(enc), "api_key") || got.HookURL != hookurl.Redact(p.hook.URL) {
		t.Fatalf("alert message carries the hook URL's query string")
	}
	if string(got.Encode()) != string(enc) {
		t.Fatalf("alert message read back differently")
	}
}
