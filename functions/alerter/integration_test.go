package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// Integration tests: the real handler on a fresh DynamoDB Local table and the
// aws-ses-v2-local emulator. The emulator keeps one mailbox for everyone, so
// every test uses its own random addresses and reads only their mail.

// mailTo returns the emails in the emulator addressed to rcpt.
func mailTo(t *testing.T, baseURL, rcpt string) []inbox.Mail {
	t.Helper()
	got, err := inbox.New(baseURL).To(context.Background(), rcpt)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// uniqueAddress is an address no other test uses.
func uniqueAddress(name string) string {
	return name + "-" + strings.ToLower(rand.Text()[:12]) + "@example.com"
}

type liveFixture struct {
	h       *handler
	store   *store.Store
	sesURL  string
	emails  []string
	logs    *bytes.Buffer
	account hook.Account
}

// newLiveFixture is a handler on a fresh table holding account 116078 with
// two unique alert addresses, sending to the SES emulator.
func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	ses, sesURL := devstack.SESv2(t)
	st := store.New(db, table, time.Now)
	f := &liveFixture{store: st, sesURL: sesURL, logs: &bytes.Buffer{},
		emails: []string{uniqueAddress("ops"), uniqueAddress("data")}}
	acct, err := st.CreateAccount(context.Background(), hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: f.emails})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	f.account = acct
	f.h = &handler{accounts: st, alerts: st, ses: ses, queue: &fakeQueue{}, deadLetterURL: alertsDLQ,
		from: "Post-load hooks <alerts@hooks.example.net>", alertQueueARN: alertsARN,
		log: slog.New(slog.NewJSONHandler(f.logs, nil)), now: time.Now}
	return f
}

func (f *liveFixture) alertStatus(t *testing.T, loadID string, hookID int64) string {
	t.Helper()
	status, err := f.store.AlertStatus(context.Background(), 116078, loadID, hookID)
	if err != nil {
		t.Fatalf("AlertStatus: %v", err)
	}
	return status
}

// loadEvent reads an events/ fixture.
func loadEvent(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestLiveSendsOneEmailPerAddressAndDeduplicates(t *testing.T) {
	f := newLiveFixture(t)
	ctx := context.Background()
	ev := loadEvent(t, "alerter-exhausted.json")
	msg, err := delivery.DecodeAlert([]byte(ev.Records[0].Body))
	if err != nil {
		t.Fatalf("fixture body: %v", err)
	}

	resp, err := f.h.handle(ctx, ev)
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none; logs:\n%s", ids, f.logs)
	}
	// The same SQS message delivered again (and twice in one batch).
	ev2 := events.SQSEvent{Records: []events.SQSMessage{ev.Records[0], ev.Records[0]}}
	resp, err = f.h.handle(ctx, ev2)
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("redelivery failures = %v, want none", ids)
	}

	for _, rcpt := range f.emails {
		got := mailTo(t, f.sesURL, rcpt)
		if len(got) != 1 {
			t.Fatalf("%s got %d emails, want 1", rcpt, len(got))
		}
		m := got[0]
		if diff := cmp.Diff(m.Destination.To, []string{rcpt}); diff != "" {
			t.Errorf("To mismatch (-got +want):\n%s", diff)
		}
		if len(m.Destination.Cc)+len(m.Destination.Bcc) != 0 {
			t.Errorf("email has Cc/Bcc recipients")
		}
		if m.From != f.h.from {
			t.Errorf("From = %q, want %q", m.From, f.h.from)
		}
		if want := "Unable to Deliver Post Load Notification: shopify / orders"; m.Subject != want {
			t.Errorf("Subject = %q, want %q", m.Subject, want)
		}
		for name, body := range map[string]string{"text": m.Body.Text, "html": m.Body.HTML} {
			for _, fact := range []string{
				"https://hooks.example.com/catch/abc?[redacted]", "shopify", "orders__order_items",
				msg.LoadID, msg.WebhookID, "2026-07-15T14:45:10Z", "HTTP 503", "2026-07-15T15:17:02Z", "HTTP 500",
				"The load itself succeeded", "PUT /notifications/public/v1/api/hooks/8",
			} {
				if !strings.Contains(body, fact) {
					t.Errorf("%s body lacks %q", name, fact)
				}
			}
			if strings.Contains(body, "redact-me") {
				t.Errorf("%s body shows the hook URL's query", name)
			}
		}
		if strings.Contains(m.Body.HTML, "<html><body>Service") {
			t.Errorf("html body carries the receiver's markup unescaped")
		}
	}
	if got := f.alertStatus(t, msg.LoadID, msg.HookID); got != "sent" {
		t.Errorf("alert status = %q, want sent", got)
	}
	if strings.Contains(f.logs.String(), "@") {
		t.Errorf("logs hold an email address:\n%s", f.logs)
	}
}

func TestLiveSESFailureIsRetriedThroughTheQueue(t *testing.T) {
	f := newLiveFixture(t)
	ctx := context.Background()
	working := f.h.ses

	// An SES endpoint where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	f.h.ses = sesv2.NewFromConfig(devstack.AWSConfig(t), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(closed)
		o.RetryMaxAttempts = 1
	})

	ev := loadEvent(t, "alerter-exhausted.json")
	msg, _ := delivery.DecodeAlert([]byte(ev.Records[0].Body))
	resp, err := f.h.handle(ctx, ev)
	if diff := cmp.Diff(failed(t, resp, err), []string{ev.Records[0].MessageId}); diff != "" {
		t.Fatalf("failures mismatch (-got +want):\n%s", diff)
	}
	if got := f.alertStatus(t, msg.LoadID, msg.HookID); got == "sent" {
		t.Errorf("alert marked sent after SES failed")
	}
	for _, rcpt := range f.emails {
		if got := mailTo(t, f.sesURL, rcpt); len(got) != 0 {
			t.Errorf("%s got %d emails, want none", rcpt, len(got))
		}
	}
	if !strings.Contains(f.logs.String(), `"errorClass":"transient"`) {
		t.Errorf("failure not logged as transient:\n%s", f.logs)
	}

	// The queue redelivers; SES is back.
	f.h.ses = working
	resp, err = f.h.handle(ctx, ev)
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("redelivery failures = %v, want none; logs:\n%s", ids, f.logs)
	}
	for _, rcpt := range f.emails {
		if got := mailTo(t, f.sesURL, rcpt); len(got) != 1 {
			t.Errorf("%s got %d emails, want 1", rcpt, len(got))
		}
	}
	if got := f.alertStatus(t, msg.LoadID, msg.HookID); got != "sent" {
		t.Errorf("alert status = %q, want sent", got)
	}
}

func TestLiveSESRejectionIsPermanent(t *testing.T) {
	f := newLiveFixture(t)
	ctx := context.Background()
	// The emulator refuses a send without a sender (400 Bad Request).
	f.h.from = ""
	ev := loadEvent(t, "alerter-exhausted.json")
	resp, err := f.h.handle(ctx, ev)
	if diff := cmp.Diff(failed(t, resp, err), []string{ev.Records[0].MessageId}); diff != "" {
		t.Fatalf("failures mismatch (-got +want):\n%s", diff)
	}
	if got := strings.Count(f.logs.String(), `"errorClass":"permanent"`); got != 2 {
		t.Errorf("permanent failures logged = %d, want 2 (one per address, the second still tried):\n%s", got, f.logs)
	}
}

func TestLiveUnknownAccountIsAcknowledged(t *testing.T) {
	f := newLiveFixture(t)
	m := alertMessage(8)
	m.ClientID = 424242
	resp, err := f.h.handle(context.Background(), batch(record(t, "m1", m)))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none", ids)
	}
	if !strings.Contains(f.logs.String(), "alert for unknown account, dropped") {
		t.Errorf("unknown account not logged:\n%s", f.logs)
	}
	if _, err := f.store.ClaimAlert(context.Background(), 424242, m.LoadID, 8, time.Second); errors.Is(err, store.ErrAlertSent) {
		t.Errorf("alert for an unknown account recorded as sent")
	}
}

// TestEventFixtures runs every events/alerter-*.json (the sam local invoke
// samples) through the real handler, so they never go stale.
func TestEventFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "alerter-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/alerter-*.json fixtures (err %v)", err)
	}
	for _, file := range files {
		if filepath.Base(file) == "alerter-freshness-check.json" {
			continue // TestScheduledEventFixture
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			f := newLiveFixture(t)
			ev := loadEvent(t, filepath.Base(file))
			resp, err := f.h.handle(context.Background(), ev)
			if ids := failed(t, resp, err); len(ids) != 0 {
				t.Fatalf("failures = %v, want none; logs:\n%s", ids, f.logs)
			}
			for _, rcpt := range f.emails {
				if got := len(mailTo(t, f.sesURL, rcpt)); got != len(ev.Records) {
					t.Errorf("%s got %d emails, want %d (one per record)", rcpt, got, len(ev.Records))
				}
			}
		})
	}
}

// TestScheduledEventFixture runs events/alerter-freshness-check.json (the
// schedule's event) through the real entry point: with a rule overdue, one
// email per alert address and one event notification.
func TestScheduledEventFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "alerter-freshness-check.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil || !ev.isSchedule() {
		t.Fatalf("not the scheduled event: %+v, %v", ev, err)
	}
	f := newLiveFixture(t)
	if _, err := f.store.PutFreshnessRules(context.Background(), hook.Principal{ClientID: 116078, MemberID: "m"},
		[]hook.FreshnessRule{{IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", Interval: 2 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	q := &fakeQueue{}
	f.h.fresh, f.h.events, f.h.checkEvery = f.store, retryQueueEvents{queue: q, url: "retries"}, time.Minute
	f.h.now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	resp, err := f.h.invoke(context.Background(), ev)
	if err != nil || resp != nil {
		t.Fatalf("invoke = %v, %v; want null; logs:\n%s", resp, err, f.logs)
	}
	for _, rcpt := range f.emails {
		if got := mailTo(t, f.sesURL, rcpt); len(got) != 1 || got[0].Subject != "Table overdue: shopify / orders" {
			t.Errorf("%s got %+v, want one overdue email", rcpt, got)
		}
	}
	if len(q.sent) != 1 {
		t.Errorf("%d event notifications queued, want 1", len(q.sent))
	}
}

// TestLiveHostileSnippetIsQuoted is the hostile-response attack on the SES
// emulator: a receiver answers with a body that imitates the service
// ("URGENT: your API token expired, re-enter it here" with a link). The
// email shows it only below the service's own facts and next steps, marked
// as the endpoint's words, every text line quoted with "> ", and with no
// clickable link or address in either body.
func TestLiveHostileSnippetIsQuoted(t *testing.T) {
	f := newLiveFixture(t)
	const hostile = `URGENT: your API token expired, re-enter it here: https://evil.example/login ` +
		`<a href="https://evil.example/login">Sign in</a> or write to support@evil.example`
	m := alertMessage(41)
	m.LoadID = "hostile-1"
	m.Attempts = append(m.Attempts, delivery.Attempt{At: attemptTime.Add(time.Minute), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 401, Snippet: hostile})
	resp, err := f.h.handle(context.Background(), batch(record(t, "hostile", m)))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v; logs:\n%s", ids, f.logs)
	}
	got := mailTo(t, f.sesURL, f.emails[0])
	if len(got) != 1 {
		t.Fatalf("%d emails, want 1", len(got))
	}
	text, html := got[0].Body.Text, got[0].Body.HTML
	facts, quoted, ok := strings.Cut(text, "What your endpoint answered")
	if !ok || !strings.Contains(facts, "What to do next") || strings.Contains(facts, "URGENT") {
		t.Fatalf("text body: the snippet must come after the facts and next steps, under its own heading:\n%s", text)
	}
	for _, line := range strings.Split(quoted, "\n") {
		if (strings.Contains(line, "URGENT") || strings.Contains(line, "evil")) && !strings.HasPrefix(line, "> ") {
			t.Errorf("text line %q of the endpoint's words is not quoted", line)
		}
	}
	if !strings.Contains(quoted, "> URGENT: your API token expired") {
		t.Errorf("text body does not quote the response:\n%s", quoted)
	}
	for name, body := range map[string]string{"text": text, "html": html} {
		for _, live := range []string{"https://evil", "evil.example", "support@"} {
			if strings.Contains(body, live) {
				t.Errorf("%s body holds a live link or address %q", name, live)
			}
		}
	}
	if strings.Contains(strings.ToLower(html), "<a ") || strings.Index(html, "URGENT") < strings.Index(html, "What to do next") {
		t.Errorf("html body: want no link and the snippet after the next steps:\n%s", html)
	}
}

// TestLiveMalformedAlertLandsInTheAlertsDLQ runs malformed alert messages
// through goaws as the event source does: each is received from the alerts
// queue, handed to the handler, acknowledged, and found in the alerts DLQ,
// byte for byte, with its reason as the "reason" attribute; the reason is
// logged too.
func TestLiveMalformedAlertLandsInTheAlertsDLQ(t *testing.T) {
	f := newLiveFixture(t)
	ctx := context.Background()
	client, queues := devstack.SQS(t)
	f.h.queue, f.h.deadLetterURL, f.h.alertQueueARN = client, queues.AlertsDLQ, queues.AlertsARN

	valid := string(alertMessage(8).Encode())
	reasons := map[string]string{
		"not json":    "not valid JSON",
		`{"kind":"x"`: "not valid JSON",
		strings.Replace(valid, `"client_id":116078`, `"client_id":116078,"extra":1`, 1):       "unknown key",
		strings.Replace(valid, `"client_id":116078`, `"client_id":116078,"CLIENT_ID":200`, 1): "keys differ only in case",
		`{"kind":"retry"}`: "kind: must be exhausted, digest or reenabled",
	}
	for body := range reasons {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queues.Alerts), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	var ev events.SQSEvent
	var handles []*string
	for deadline := time.Now().Add(20 * time.Second); len(ev.Records) < len(reasons) && time.Now().Before(deadline); {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.Alerts), MaxNumberOfMessages: 10, VisibilityTimeout: 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), EventSourceARN: queues.AlertsARN})
			handles = append(handles, m.ReceiptHandle)
		}
	}
	if len(ev.Records) != len(reasons) {
		t.Fatalf("received %d of %d messages from the alerts queue", len(ev.Records), len(reasons))
	}
	resp, err := f.h.handle(ctx, ev)
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none (dead-lettered); logs:\n%s", ids, f.logs)
	}
	for _, h := range handles { // as the event source does for acknowledged records
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queues.Alerts), ReceiptHandle: h}); err != nil {
			t.Fatal(err)
		}
	}

	got := map[string]string{}
	for deadline := time.Now().Add(20 * time.Second); len(got) < len(reasons) && time.Now().Before(deadline); {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.AlertsDLQ), MaxNumberOfMessages: 10,
			VisibilityTimeout: 20, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got[aws.ToString(m.Body)] = aws.ToString(m.MessageAttributes["reason"].StringValue)
		}
	}
	if diff := cmp.Diff(got, reasons); diff != "" {
		t.Errorf("alerts DLQ: body -> reason (-got +want):\n%s", diff)
	}
	for _, reason := range reasons {
		if !strings.Contains(f.logs.String(), `"msg":"malformed message"`) || !strings.Contains(f.logs.String(), `"reason":"`+reason+`"`) {
			t.Errorf("reason %q not logged:\n%s", reason, f.logs)
		}
	}
	if n := len(mailTo(t, f.sesURL, f.emails[0])); n != 0 {
		t.Errorf("%d emails sent for malformed messages", n)
	}
}

// On DynamoDB Local and the SES emulator: the first exhausted delivery of a
// hook is mailed with its one-click unsubscribe headers, the next one of
// the window waits for the digest, and the digest (its message handed back
// after the window) reaches each address once.
func TestLiveDigestAndUnsubscribeHeaders(t *testing.T) {
	f := newLiveFixture(t)
	q := &fakeQueue{now: time.Now}
	f.h.queue, f.h.digests, f.h.window, f.h.alertQueueURL = q, f.store, 2*time.Second, alertsURL
	f.h.links = newLinkMaker(appURL, []byte(testKey))
	hookID := time.Now().UnixNano() % 1_000_000_000
	msg := func(load string) events.SQSMessage {
		m := alertMessage(hookID)
		m.LoadID = load
		return record(t, load, m)
	}
	for _, l := range []string{"live-d1", "live-d2", "live-d2"} {
		resp, err := f.h.handle(context.Background(), batch(msg(l)))
		if got := failed(t, resp, err); len(got) != 0 {
			t.Fatalf("%s failed: %v\n%s", l, got, f.logs)
		}
	}
	for _, rcpt := range f.emails {
		mails := mailTo(t, f.sesURL, rcpt)
		if len(mails) != 1 {
			t.Fatalf("%s: %d emails, want the first alert only", rcpt, len(mails))
		}
		if got := mails[0].Header("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post %q", rcpt, got)
		}
		if got := mails[0].Header("List-Unsubscribe"); !strings.HasPrefix(got, "<"+appURL+"/app/unsubscribe?token=") {
			t.Errorf("%s: List-Unsubscribe %q", rcpt, got)
		}
	}
	time.Sleep(2100 * time.Millisecond) // the window's end
	for _, in := range q.digests() {
		r := events.SQSMessage{MessageId: "digest", Body: aws.ToString(in.MessageBody), EventSourceARN: alertsARN}
		resp, err := f.h.handle(context.Background(), batch(r, r))
		if got := failed(t, resp, err); len(got) != 0 {
			t.Fatalf("digest failed: %v\n%s", got, f.logs)
		}
	}
	for _, rcpt := range f.emails {
		mails := mailTo(t, f.sesURL, rcpt)
		if len(mails) != 2 || !strings.Contains(mails[1].Subject, ": 1 more for https://hooks.example.com/catch?[redacted]") {
			t.Errorf("%s: %d emails, want the alert and a digest of 1", rcpt, len(mails))
		}
	}
}

// TestLiveResentAndExhaustedAgainAlertsAgain: on DynamoDB Local and the SES
// emulator, one alert per exhausted sequence of a pair: a delivery resent
// and exhausted again (its alert message names 12 attempts, the first
// sequence's 6) gets a second email, while each sequence's message
// delivered twice still gets one. With and without digest windows (a
// second sequence is placed in the window as a delivery of its own).
func TestLiveResentAndExhaustedAgainAlertsAgain(t *testing.T) {
	for _, window := range []time.Duration{0, time.Hour} {
		t.Run(window.String(), func(t *testing.T) {
			f := newLiveFixture(t)
			if window > 0 {
				f.h.queue, f.h.digests, f.h.window, f.h.alertQueueURL = &fakeQueue{now: time.Now}, f.store, window, alertsURL
			}
			hookID := time.Now().UnixNano() % 1_000_000_000
			seq := func(count int) events.SQSMessage {
				m := alertMessage(hookID)
				m.AttemptCount = count
				return record(t, "seq-"+strconv.Itoa(count), m)
			}
			for _, r := range []events.SQSMessage{seq(6), seq(6), seq(12), seq(12)} {
				resp, err := f.h.handle(context.Background(), batch(r))
				if got := failed(t, resp, err); len(got) != 0 {
					t.Fatalf("%s failed: %v\n%s", r.MessageId, got, f.logs)
				}
			}
			for _, rcpt := range f.emails {
				if n := len(mailTo(t, f.sesURL, rcpt)); window == 0 && n != 2 {
					t.Errorf("%s: %d emails, want 2 (one per exhausted sequence)", rcpt, n)
				} else if window > 0 && n != 1 {
					// The second sequence waits for the window's digest, as
					// any second exhausted delivery of the window does.
					t.Errorf("%s: %d emails, want the first only until the digest", rcpt, n)
				}
			}
			if n := strings.Count(f.logs.String(), `"alert kept for the digest"`); window > 0 && n != 2 {
				t.Errorf("second sequence kept for the digest %d times, want 2 (it and its copy)\n%s", n, f.logs)
			}
		})
	}
}
