package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/chromedp/chromedp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// queued receives (and deletes) the retry messages on the stack's retry
// queue, with the DelaySeconds each was sent with.
func (b *browserStack) queued(t *testing.T) map[string]int {
	t.Helper()
	ctx := context.Background()
	got := map[string]int{} // load id -> DelaySeconds
	for {
		out, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.retryQueue), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return got
		}
		for _, m := range out.Messages {
			r, err := delivery.DecodeRetry([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("retry message refused by the dispatcher's reader: %v", err)
			}
			if r.Attempt != 1 || r.WebhookID != hook.WebhookID(b.clientID, r.LoadID, r.HookID) {
				t.Errorf("queued %+v, want attempt 1 with the pair's webhook-id", r)
			}
			got[r.LoadID], _ = strconv.Atoi(m.Attributes["DelaySeconds"])
			if _, err := b.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(b.retryQueue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// status is the stored status of loadID's delivery to hook id.
func (b *browserStack) status(t *testing.T, loadID string, id int64) string {
	t.Helper()
	d, err := b.store.GetDelivery(context.Background(), delivery.Key{ClientID: b.clientID, LoadID: loadID, HookID: id})
	if err != nil {
		t.Fatalf("GetDelivery %s: %v", loadID, err)
	}
	return d.Status
}

// TestWebBrowserDeliveries: headless Chromium on the real handler over
// DynamoDB Local, goaws and the SES emulator drives the deliveries panel of
// a hook at the loopback receiver: its recent deliveries with their
// attempts; Send test (the receiver gets one signed example, the history
// shows it as a test without Resend); Resend of a failed delivery (the
// store has it waiting, the retry queue its attempt 1 with the original
// webhook-id); Replay failed deliveries since (the other failed one, not the
// delivered one nor the test); Rotate secret (shown once; the next test is
// signed with both secrets).
func TestWebBrowserDeliveries(t *testing.T) {
	b := newBrowserStack(t)
	br := newBrowser(t)
	settings := b.url + settingsPath
	br.do("open the app", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.ID("email")))
	br.signIn(b, func(string) {})

	br.navigate("Add Webhook", "#url", chromedp.Click("//a[.='Add Webhook']"))
	br.do("type the receiver's URL", chromedp.SendKeys(chromedp.ID("url"), b.receiver.URL+"/catch"))
	br.navigate("save it", "#secret", chromedp.Click("//button[.='Save Webhook']"))
	first := get(br, "read the secret", chromedp.Value(chromedp.ID("secret")))
	id := b.apiHooks(t)[0].ID

	// Two failed deliveries and a delivered one, as the dispatcher records
	// them.
	for _, l := range []struct{ load, status string }{{"load-failed-1", delivery.StatusExhausted}, {"load-failed-2", delivery.StatusExhausted}, {"load-ok", delivery.StatusDelivered}} {
		recordLoad(t, b.store, time.Now(), b.clientID, l.load, l.status, id)
	}
	row := func(load string) string { return "#delivery-" + delivery.ID(load) }
	openPanel := func() {
		br.t.Helper()
		br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible("//h1[.='Notification Settings']"))
		br.do("open the deliveries", chromedp.Click(chromedp.CSS(fmt.Sprintf("#deliveries-%d summary", id))),
			chromedp.WaitVisible(chromedp.CSS(row("load-ok"))))
	}
	openPanel()
	if s := get(br, "read the failed row", chromedp.Text(chromedp.CSS(row("load-failed-1")))); !strings.Contains(s, "exhausted") ||
		!strings.Contains(s, "http_status, HTTP 500, 9 ms") || !strings.Contains(s, "down") {
		t.Errorf("failed delivery row %q, want its status and attempt with the response snippet", s)
	}
	if s := get(br, "read the delivered row", chromedp.Text(chromedp.CSS(row("load-ok")))); !strings.Contains(s, "delivered") || !strings.Contains(s, "success, HTTP 200") {
		t.Errorf("delivered row %q", s)
	}
	br.state("deliveries")

	// Send test: the receiver gets the signed example; the history keeps it
	// as a test, which offers no Resend.
	br.menu(id, "Send test", "#test-result")
	if s := br.text(); !strings.Contains(s, "success, HTTP 204") {
		t.Errorf("Send test result not shown: %s", s)
	}
	reqs, bodies := b.receiver.seen()
	if len(reqs) != 1 || bodies[0] != exampleNotification || libraryVerify(t, first, bodies[0], reqs[0].Header) != nil {
		t.Fatalf("receiver saw %d requests, want the example notification signed with the secret", len(reqs))
	}
	testLoad := reqs[0].Header.Get("webhook-load-id")
	if !delivery.IsTest(testLoad) {
		t.Fatalf("test notification's webhook-load-id %q", testLoad)
	}
	openPanel()
	testRow := get(br, "read the test row", chromedp.Text(chromedp.CSS(row(testLoad))))
	if !strings.Contains(testRow, testLoad) || !strings.Contains(testRow, "delivered") || strings.Contains(testRow, "Resend") {
		t.Errorf("test delivery row %q, want it listed as delivered without Resend", testRow)
	}

	// Resend of a failed delivery.
	br.navigate("Resend load-failed-1", "//p[contains(., 'Delivery resent')]",
		chromedp.Click(chromedp.CSS(row("load-failed-1")+" button")))
	if got := b.status(t, "load-failed-1", id); got != delivery.StatusAttempting {
		t.Errorf("resent delivery is %s in the store, want attempting", got)
	}
	if q := b.queued(t); len(q) != 1 || q["load-failed-1"] != 0 {
		t.Errorf("retry queue after Resend: %v, want load-failed-1 at once", q)
	}
	br.do("open the deliveries", chromedp.Click(chromedp.CSS(fmt.Sprintf("#deliveries-%d summary", id))),
		chromedp.WaitVisible(chromedp.CSS(row("load-failed-1"))))
	if s := get(br, "read the resent row", chromedp.Text(chromedp.CSS(row("load-failed-1")))); !strings.Contains(s, "attempting") || strings.Contains(s, "Resend") {
		t.Errorf("resent row %q, want attempting without Resend", s)
	}
	br.state("resent")

	// Replay failed deliveries since today: the other failed one only.
	today := time.Now().UTC().Format(time.DateOnly)
	since := chromedp.CSS(fmt.Sprintf("#since-%d", id))
	br.do("choose the day", chromedp.SetValue(since, today))
	br.navigate("Replay", "//p[contains(., 'Replayed')]", chromedp.Click(chromedp.CSS(fmt.Sprintf("#deliveries-%d form.replay button", id))))
	want := fmt.Sprintf("Replayed 1 failed deliveries since %s, %d a second", today, browserReplayRate)
	if s := br.text(); !strings.Contains(s, want) {
		t.Errorf("after Replay the page says %q, want %q", s, want)
	}
	if q := b.queued(t); len(q) != 1 || q["load-failed-2"] != 0 {
		t.Errorf("retry queue after Replay: %v, want load-failed-2 only", q)
	}
	for load, want := range map[string]string{"load-failed-2": delivery.StatusAttempting, "load-ok": delivery.StatusDelivered, testLoad: delivery.StatusDelivered} {
		if got := b.status(t, load, id); got != want {
			t.Errorf("after Replay %s is %s, want %s", load, got, want)
		}
	}
	br.state("replayed")

	// Rotate secret: the new one shown once; the next test carries both
	// signatures.
	br.menu(id, "Rotate secret", "#secret")
	second := get(br, "read the new secret", chromedp.Value(chromedp.ID("secret")))
	if !strings.HasPrefix(second, hook.SecretPrefix) || second == first || !strings.Contains(br.text(), "two signatures") {
		t.Errorf("rotation showed %q (first %q)", second, first)
	}
	br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible("//h1[.='Notification Settings']"))
	if strings.Contains(br.text(), second) {
		t.Errorf("the new secret is shown a second time")
	}
	b.receiver.answer(http.StatusServiceUnavailable, "maintenance")
	br.menu(id, "Send test", "#test-result")
	if s := br.text(); !strings.Contains(s, "http_status, HTTP 503") || !strings.Contains(s, "maintenance") {
		t.Errorf("failed Send test not shown: %s", s)
	}
	reqs, bodies = b.receiver.seen()
	if len(reqs) != 2 || len(strings.Fields(reqs[1].Header.Get("webhook-signature"))) != 2 {
		t.Fatalf("receiver saw %d requests, want a second one with two signatures", len(reqs))
	}
	for _, secret := range []string{second, first} {
		if err := libraryVerify(t, secret, bodies[1], reqs[1].Header); err != nil {
			t.Errorf("during the overlap the library refuses a secret: %v", err)
		}
	}
	// The failed test is kept as a test: exhausted, never resent or
	// replayed, and no retry is queued for it.
	openPanel()
	var tests []string
	for _, l := range get(br, "read the rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".deliverylist > li")].map(li => li.innerText)`)) {
		if strings.Contains(l, delivery.TestLoadPrefix) {
			tests = append(tests, l)
		}
	}
	if len(tests) != 2 || !slices.ContainsFunc(tests, func(s string) bool { return strings.Contains(s, "exhausted") && strings.Contains(s, "maintenance") }) ||
		slices.ContainsFunc(tests, func(s string) bool { return strings.Contains(s, "Resend") }) {
		t.Errorf("test deliveries listed %q, want both, the failed one exhausted, neither with Resend", tests)
	}
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("retry queue after the tests: %v, want nothing", q)
	}
	br.state("tests-kept")
}
