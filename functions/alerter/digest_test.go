package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/optout"
)

// The alert digest on the injected clock: the first exhausted delivery of
// a hook is mailed at once, the others of its window as one digest when it
// ends, through delayed messages chained 15 minutes at a time.

// exhausted is the alert message of load on hook 8.
func (f *fixture) exhausted(load string, status int) delivery.AlertMessage {
	m := alertMessage(8)
	m.LoadID, m.WebhookID = load, "msg_"+load
	m.Attempts = []delivery.Attempt{{At: f.clock.Now(), Outcome: "http_status", StatusCode: status, Snippet: "down: " + load}}
	return m
}

// deliverDigests hands every digest message queued so far (and not yet
// handed) to the handler whose clock has reached its delay, as SQS would,
// and returns how many it handed.
func (f *fixture) deliverDigests(t *testing.T, handed *int, _ map[int]time.Time) int {
	t.Helper()
	n := 0
	for i, in := range f.queue.digests() {
		if i < *handed {
			continue
		}
		f.queue.mu.Lock()
		at := f.queue.queuedAt[i]
		f.queue.mu.Unlock()
		due := at.Add(time.Duration(in.DelaySeconds) * time.Second)
		if f.clock.Now().Before(due) {
			break
		}
		if g := aws.ToString(in.MessageGroupId); g != "116078" {
			t.Errorf("digest message %d has MessageGroupId %q, want the account's, 116078 (fair queues)", i, g)
		}
		r := events.SQSMessage{MessageId: fmt.Sprintf("digest-%d", i), Body: aws.ToString(in.MessageBody), EventSourceARN: alertsARN}
		if got := (f.handle(t, r)); len(got) != 0 {
			t.Fatalf("digest message %d failed: %v", i, got)
		}
		*handed = i + 1
		n++
	}
	return n
}

// handle hands one record to the handler and returns the failed ids.
func (f *fixture) handle(t *testing.T, r events.SQSMessage) []string {
	t.Helper()
	resp, err := f.h.handle(context.Background(), batch(r))
	return failed(t, resp, err)
}

func (f *fixture) subjects() []string {
	f.ses.mu.Lock()
	defer f.ses.mu.Unlock()
	var s []string
	for _, in := range f.ses.calls {
		s = append(s, *in.Content.Simple.Subject.Data)
	}
	return s
}

func TestDigestAcrossWindows(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	handed, queuedAt := 0, map[int]time.Time{}
	seq := int64(0)
	send := func(load string) {
		t.Helper()
		m := f.exhausted(load, 503)
		seq++
		m.Event, m.Sequence = "table_loaded", seq // the webhook-sequence of the nth load
		if got := (f.handle(t, record(t, "m-"+load, m))); len(got) != 0 {
			t.Fatalf("%s failed: %v", load, got)
		}
	}
	send("A1") // opens window 1 at 15:20, mailed at once
	if got := f.subjects(); len(got) != 1 || !strings.HasSuffix(got[0], "shopify / orders") {
		t.Fatalf("after the first: %v, want its alert", got)
	}
	// Its curl command sends the headers the requests carried.
	for _, want := range []string{"-H 'webhook-id: msg_A1' \\\n", "-H 'webhook-event: table_loaded' \\\n", "-H 'webhook-load-id: A1' \\\n", "-H 'webhook-sequence: 1' \\\n"} {
		if text := *f.ses.calls[0].Content.Simple.Body.Text.Data; !strings.Contains(text, want) {
			t.Errorf("alert text lacks %q", want)
		}
	}
	for i := 2; i <= 60; i++ {
		f.clock.Advance(time.Minute - time.Second) // 59 more within the hour
		send(fmt.Sprintf("A%d", i))
		f.deliverDigests(t, &handed, queuedAt)
	}
	if got := len(f.subjects()); got != 1 {
		t.Fatalf("%d emails inside the window, want 1", got)
	}
	f.clock.Advance(time.Hour - 59*(time.Minute-time.Second)) // the window's end
	for f.deliverDigests(t, &handed, queuedAt) > 0 {
	}
	subj := f.subjects()
	if len(subj) != 2 || subj[1] != "Unable to Deliver Post Load Notification: 59 more for https://hooks.example.com/catch?[redacted]" {
		t.Fatalf("subjects %q, want the alert and the digest of 59", subj)
	}
	text := *f.ses.calls[1].Content.Simple.Body.Text.Data
	for _, want := range []string{"A2 ", "A51 ", "and 9 more", "HTTP 503 (59)", "> down: A60", "curl -X POST 'https://hooks.example.com/catch?[redacted]'", "webhook-id: msg_A60",
		"-H 'webhook-event: table_loaded' \\\n", "-H 'webhook-load-id: A60' \\\n", "-H 'webhook-sequence: 60' \\\n", appURL + "/app"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest text lacks %q", want)
		}
	}
	if strings.Contains(text, "A52 ") || strings.Contains(text, "s3cret") {
		t.Errorf("digest lists more than 50 loads or the query string")
	}
	// The chain: no digest message waits more than SQS's 15 minutes.
	for _, in := range f.queue.digests() {
		if in.DelaySeconds > 900 {
			t.Errorf("DelaySeconds %d > 900", in.DelaySeconds)
		}
	}
	// After the window the next one is mailed at once and opens window 2.
	f.clock.Advance(time.Minute)
	send("B1")
	send("B2")
	f.clock.Advance(time.Hour)
	for f.deliverDigests(t, &handed, queuedAt) > 0 {
	}
	subj = f.subjects()
	if len(subj) != 4 || !strings.HasSuffix(subj[2], "shopify / orders") || !strings.Contains(subj[3], ": 1 more for ") {
		t.Errorf("window 2 subjects %q, want an alert and a digest of 1", subj[2:])
	}
	// A window with only its first delivery sends no digest.
	f.clock.Advance(time.Hour)
	send("C1")
	f.clock.Advance(time.Hour)
	for f.deliverDigests(t, &handed, queuedAt) > 0 {
	}
	if got := len(f.subjects()); got != 5 {
		t.Errorf("%d emails after a lone failure, want 5", got)
	}
}

// A failing digest step and redelivered messages lose nothing and double
// nothing.
func TestDigestRetriesLoseAndDoubleNothing(t *testing.T) {
	f := newFixture(t, "ops@example.com", "dev@example.com")
	// The digest message cannot be queued: the first alert is retried, and
	// sent only once the digest is sure to follow.
	f.queue.digestErr = errors.New("queue down")
	if got := (f.handle(t, record(t, "a", f.exhausted("L1", 500)))); len(got) != 1 {
		t.Fatalf("failures %v, want the record retried", got)
	}
	if len(f.ses.calls) != 0 {
		t.Fatalf("sent %d before the digest message was queued", len(f.ses.calls))
	}
	f.queue.digestErr = nil
	for range 2 { // redelivered twice
		if got := (f.handle(t, record(t, "a", f.exhausted("L1", 500)))); len(got) != 0 {
			t.Fatalf("retry failed: %v", got)
		}
	}
	for _, l := range []string{"L2", "L3", "L2"} { // L2 arrives twice
		f.clock.Advance(time.Minute)
		if got := (f.handle(t, record(t, l, f.exhausted(l, 502)))); len(got) != 0 {
			t.Fatalf("%s failed: %v", l, got)
		}
	}
	if got := len(f.ses.calls); got != 2 {
		t.Fatalf("%d emails, want the first alert to each of 2 addresses", got)
	}
	f.clock.Advance(time.Hour)
	digests := f.queue.digests()
	if len(digests) < 1 {
		t.Fatal("no digest message")
	}
	r := events.SQSMessage{MessageId: "d", Body: aws.ToString(digests[0].MessageBody), EventSourceARN: alertsARN}
	// SES refuses the second address once: the digest step is retried.
	refused := 0
	f.ses.fail = func(rcpt string) error {
		if rcpt == "dev@example.com" && refused == 0 {
			refused++
			return errors.New("network down")
		}
		return nil
	}
	if got := (f.handle(t, r)); len(got) != 1 {
		t.Fatalf("failures %v, want the digest retried", got)
	}
	for range 3 { // the retry, and every duplicate digest message
		if got := (f.handle(t, r)); len(got) != 0 {
			t.Fatalf("digest retry failed: %v", got)
		}
	}
	for _, in := range digests[1:] {
		r := events.SQSMessage{MessageId: "dup", Body: aws.ToString(in.MessageBody), EventSourceARN: alertsARN}
		if got := (f.handle(t, r)); len(got) != 0 {
			t.Fatalf("duplicate digest message failed: %v", got)
		}
	}
	if got, want := f.ses.delivered, map[string]int{"ops@example.com": 2, "dev@example.com": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered %v, want %v (one alert and one digest each)", got, want)
	}
	last := *f.ses.calls[len(f.ses.calls)-1].Content.Simple.Subject.Data
	if !strings.Contains(last, ": 2 more for ") {
		t.Errorf("digest subject %q, want 2 more (L2 once, L3)", last)
	}
}

// Every email carries RFC 8058 one-click unsubscribe headers with the
// recipient's own signed link.
func TestEmailsCarryOneClickUnsubscribe(t *testing.T) {
	f := newFixture(t, "ops@example.com", "dev@example.com")
	if got := (f.handle(t, record(t, "a", f.exhausted("L1", 500)))); len(got) != 0 {
		t.Fatal(got)
	}
	signer, _ := optout.NewSigner([]byte(testKey))
	for _, in := range f.ses.calls {
		rcpt := in.Destination.ToAddresses[0]
		h := map[string]string{}
		for _, mh := range in.Content.Simple.Headers {
			h[aws.ToString(mh.Name)] = aws.ToString(mh.Value)
		}
		if h["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post %q", rcpt, h["List-Unsubscribe-Post"])
		}
		link := strings.TrimSuffix(strings.TrimPrefix(h["List-Unsubscribe"], "<"), ">")
		u, err := url.Parse(link)
		if err != nil || u.Scheme != "https" || u.Host != "hooks.example.com" || u.Path != unsubscribePath {
			t.Fatalf("%s: List-Unsubscribe %q", rcpt, h["List-Unsubscribe"])
		}
		tok, err := signer.Verify(u.Query().Get("token"), f.clock.Now())
		if err != nil || tok.ClientID != 116078 || tok.RecipientKey != optout.RecipientKey(rcpt) {
			t.Errorf("%s: token %+v, %v; want this address of this account", rcpt, tok, err)
		}
		if !strings.Contains(*in.Content.Simple.Body.Text.Data, link) {
			t.Errorf("%s: text body lacks the unsubscribe link", rcpt)
		}
	}
}
