package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/eventsource"
	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// The dispatcher end to end on the emulators: DynamoDB Local (seeded through
// the real store), goaws queues, a local TLS receiver, and the dev kit's
// SQS event source in process, stepped by the test (receive a batch, invoke
// the handler, delete what succeeded). Retry delays are real: 1 s (2 s in the delay test). Each test
// owns its resources and runs in parallel with the others.

// receiver is the dev kit's TLS webhook receiver answering with the next
// status of its script (the last one repeats), recording every request as
// it arrives.
type receiver struct {
	mu       sync.Mutex
	url      string // https://127.0.0.1:port
	ca       []byte // its CA certificate, PEM
	statuses []int
	got      []received
}

type received struct {
	at          time.Time
	id, ts, sig string
	body        []byte
	loadID, seq string // webhook-load-id, webhook-sequence
	path, event string // the request's path, webhook-event
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	t.Helper()
	cfg, ca, err := kit.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{ca: ca, statuses: statuses}
	srv := kit.New()
	srv.Handle("", kit.Route{Respond: func(d kit.Delivery) kit.Answer {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, received{d.At, d.Header.Get("webhook-id"), d.Header.Get("webhook-timestamp"), d.Header.Get("webhook-signature"), []byte(d.Body),
			d.Header.Get("webhook-load-id"), d.Header.Get("webhook-sequence"), d.Path, d.Header.Get("webhook-event")})
		return kit.Answer{Status: r.statuses[min(len(r.got), len(r.statuses))-1]}
	}})
	l, err := kit.Serve("127.0.0.1:0", srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Down)
	r.url = l.URL()
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// caFile writes the receiver's CA certificate as a PEM file (HOOKS_EXTRA_CA_FILE).
func (r *receiver) caFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, r.ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type stack struct {
	st        *store.Store
	dayAgo    *store.Store // the same table on a clock 24 h 1 min behind
	sqs       *sqs.Client
	queues    devstack.Queues
	h         *handler
	pollers   map[string]*eventsource.Poller // by queue URL: the notifications and retry queues
	rawAlerts []string                       // the bodies of the alert messages alerts received

	// What the handler got and answered in the last pollOnce.
	lastEvent events.SQSEvent
	lastErr   error
}

// testDelays is the retry schedule of the integration tests: real delays,
// short enough for a test (a whole delivery takes about 6 s).
const testDelays = "1s,1s,1s,1s,1s"

// receiveVisibility (seconds) is longer than any batch of these tests takes
// (attempts time out after 5 s).
const receiveVisibility = 20

// newStack makes fresh emulator resources and the real handler on them,
// with retry schedule delays (HOOKS_RETRY_DELAYS).
func newStack(t testing.TB, ca, delays string) *stack {
	t.Helper()
	awsCfg := devstack.AWSConfig(t)
	db, table := devstack.DynamoDB(t)
	client, queues := devstack.SQS(t)
	env := map[string]string{
		"HOOKS_TABLE":                   table,
		"HOOKS_RETRY_QUEUE_URL":         queues.Retry,
		"HOOKS_ALERT_QUEUE_URL":         queues.Alerts,
		"HOOKS_DEAD_LETTER_QUEUE_URL":   queues.NotificationsDLQ,
		"HOOKS_NOTIFICATIONS_QUEUE_ARN": queues.NotificationsARN,
		"HOOKS_RETRY_QUEUE_ARN":         queues.RetryARN,
		"HOOKS_RETRY_DELAYS":            delays,
		"HOOKS_ATTEMPT_TIMEOUT":         "5s",
		"HOOKS_ALLOW_PRIVATE_TARGETS":   "true",
		"HOOKS_EXTRA_CA_FILE":           ca,
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(cfg, awsCfg, testLogger(io.Discard), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dayAgo := func() time.Time { return time.Now().Add(-24*time.Hour - time.Minute) }
	s := &stack{st: store.New(db, table, time.Now), dayAgo: store.New(db, table, dayAgo), sqs: client, queues: queues, h: h, pollers: map[string]*eventsource.Poller{}}
	for _, q := range []string{queues.Notifications, queues.Retry} {
		p, err := eventsource.New(context.Background(), client, q, awsCfg.Region, eventsource.Handler(s.handle), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		p.Wait, p.VisibilityTimeout = 0, receiveVisibility
		s.pollers[q] = p
	}
	return s
}

// seed makes an account with the feature and one hook on url.
func (s *stack) seed(t testing.TB, cid int64, url string) (hook.Principal, hook.Hook) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.st.CreateAccount(ctx, hook.Account{ClientID: cid, Plan: "advanced", AlertEmails: []string{"ops@example.com"}, Destinations: []hook.Destination{{ID: testDest, Type: "s3"}}}); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.st.CreateMember(ctx, cid, "dev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p := hook.Principal{ClientID: cid, MemberID: m.ID}
	hk, err := s.st.CreateHook(ctx, p, testDest, url, hook.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	return p, hk
}

func (s *stack) send(t *testing.T, body string) {
	t.Helper()
	if _, err := s.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(s.queues.Notifications), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// handle is the function the event sources invoke: the real handler,
// remembered for pollOnce.
func (s *stack) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp, err := s.h.handle(ctx, ev)
	s.lastEvent, s.lastErr = ev, err
	return resp, err
}

// pollOnce runs queue's event source once: at most one batch of up to 10
// visible messages, without waiting, through the handler, deleting what
// succeeded. It returns the event the handler got (no records when the
// queue had nothing visible) and fails the test on any item failure. The
// messages stay invisible for receiveVisibility rather than the queue's
// minutes: a receive whose answer the SDK lost and retried (seen on a
// loaded machine with goaws) has made its messages invisible, and they must
// come back within a test's time, as they do in Lambda after the queue's
// timeout.
func (s *stack) pollOnce(t testing.TB, queue string) events.SQSEvent {
	t.Helper()
	s.lastEvent, s.lastErr = events.SQSEvent{}, nil
	res, err := s.pollers[queue].PollOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed || len(res.Left) != 0 {
		t.Fatalf("handle: %v, failures %v", s.lastErr, res.Left)
	}
	return s.lastEvent
}

// pump acts as the SQS event source once: one batch from each source queue
// (both by default) through the handler. It returns how many records it
// handled.
func (s *stack) pump(t testing.TB, queues ...string) int {
	t.Helper()
	handled := 0
	if len(queues) == 0 {
		queues = []string{s.queues.Notifications, s.queues.Retry}
	}
	for _, q := range queues {
		handled += len(s.pollOnce(t, q).Records)
	}
	return handled
}

// drive pumps until done reports true, or fails after limit.
func (s *stack) drive(t testing.TB, limit time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after %v; queues, visible/not visible/delayed: %s", limit, s.depths())
		}
		if s.pump(t) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// depths says how many messages each of the stack's queues holds, for a
// test that timed out.
func (s *stack) depths() string {
	var parts []string
	for _, q := range []struct{ name, url string }{
		{"notifications", s.queues.Notifications}, {"retry", s.queues.Retry}, {"alerts", s.queues.Alerts},
	} {
		d, err := devstack.QueueDepth(context.Background(), s.sqs, q.url)
		if err != nil {
			parts = append(parts, q.name+": "+err.Error())
			continue
		}
		parts = append(parts, q.name+" "+d.String())
	}
	return strings.Join(parts, ", ")
}

// alerts receives (and deletes) the alert messages queued so far. It reads
// with a 5 s visibility timeout, not the queue's 180 s: a receive whose
// answer is lost on the way (seen with goaws under load) then hides its
// messages for 5 s rather than past the test's limit.
func (s *stack) alerts(t *testing.T) []delivery.AlertMessage {
	t.Helper()
	ctx := context.Background()
	var out []delivery.AlertMessage
	for {
		r, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queues.Alerts), MaxNumberOfMessages: 10, VisibilityTimeout: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			a, err := delivery.DecodeAlert([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("alert message refused by the alerter's reader: %v", err)
			}
			s.rawAlerts = append(s.rawAlerts, aws.ToString(m.Body))
			out = append(out, a)
			if _, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queues.Alerts), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// settle pumps for d, so nothing more can be pending.
func (s *stack) settle(t *testing.T, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if s.pump(t) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func load(cid int64, loadID string) string { return loadMessage(cid, loadID, "succeeded") }

func TestDispatcherExhaustsThenAlerts(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	s := newStack(t, rcv.caFile(t), testDelays)
	_, hk := s.seed(t, 501, rcv.url+"/hook")
	s.send(t, load(501, "exhaust-1"))

	var alerts []delivery.AlertMessage
	s.drive(t, 60*time.Second, func() bool { alerts = append(alerts, s.alerts(t)...); return len(alerts) > 0 })
	s.settle(t, 2500*time.Millisecond)
	alerts = append(alerts, s.alerts(t)...)

	got := rcv.requests()
	if len(got) != 6 {
		t.Fatalf("receiver saw %d attempts, want 6", len(got))
	}
	wantID := hook.WebhookID(501, "exhaust-1", hk.ID)
	for i, r := range got {
		// Each retry was queued after the previous attempt's response with
		// DelaySeconds 1, so attempts are at least 1 s apart (a little
		// slack for the emulator's clock reading).
		if i > 0 {
			if gap := r.at.Sub(got[i-1].at); gap < 950*time.Millisecond {
				t.Errorf("attempt %d came %v after attempt %d, want at least the 1 s delay", i+1, gap, i)
			}
		}
		if r.id != wantID || string(r.body) != canonicalBody {
			t.Errorf("attempt %d: id %s body %s; want %s and the canonical body", i+1, r.id, r.body, wantID)
		}
		if err := webhook.Verify(hk.Secret, r.id, r.ts, r.sig, r.body); err != nil || len(strings.Fields(r.sig)) != 1 {
			t.Errorf("attempt %d: signature %q: %v; want one signature made with the hook's secret", i+1, r.sig, err)
		}
	}
	if len(alerts) != 1 {
		t.Fatalf("alerts = %+v, want exactly 1", alerts)
	}
	a := alerts[0]
	if a.Kind != delivery.KindExhausted || a.ClientID != 501 || a.LoadID != "exhaust-1" || a.HookID != hk.ID ||
		a.HookURL != hk.URL || a.WebhookID != wantID || a.IntegrationName != "shopify" || len(a.Tables) != 1 || a.Tables[0] != "orders" {
		t.Errorf("alert = %+v", a)
	}
	if len(a.Attempts) != 6 {
		t.Fatalf("alert attempts = %d, want 6", len(a.Attempts))
	}
	for _, at := range a.Attempts {
		if at.Outcome != delivery.OutcomeHTTPStatus || at.StatusCode != 503 {
			t.Errorf("attempt %+v, want http_status 503", at)
		}
	}
}

func TestDispatcherRetryThenSuccess(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusNoContent)
	s := newStack(t, rcv.caFile(t), testDelays)
	_, hk := s.seed(t, 502, rcv.url+"/hook")
	s.send(t, load(502, "retry-1"))
	s.drive(t, 30*time.Second, func() bool { return len(rcv.requests()) >= 2 })
	s.settle(t, 2500*time.Millisecond)
	got := rcv.requests()
	if len(got) != 2 || got[0].id != got[1].id || got[0].id != hook.WebhookID(502, "retry-1", hk.ID) {
		t.Fatalf("receiver saw %+v, want 2 attempts with the pair's webhook id", got)
	}
	if a := s.alerts(t); len(a) != 0 {
		t.Errorf("alerts = %+v, want none", a)
	}
}

func TestDispatcherDuplicateLoadDeliversOnce(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	rcv := newReceiver(t, http.StatusOK)
	s := newStack(t, rcv.caFile(t), testDelays)
	s.seed(t, 503, rcv.url+"/hook")
	s.send(t, load(503, "dup-1"))
	s.send(t, load(503, "dup-1"))
	s.drive(t, 20*time.Second, func() bool { return len(rcv.requests()) >= 1 })
	s.settle(t, 2*time.Second)
	s.send(t, load(503, "dup-1")) // re-sent later
	s.settle(t, 2*time.Second)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("receiver saw %d requests, want 1", n)
	}
}

func TestDispatcherDisableDuringRetriesEndsQuietly(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	rcv := newReceiver(t, http.StatusBadGateway)
	s := newStack(t, rcv.caFile(t), testDelays)
	p, hk := s.seed(t, 504, rcv.url+"/hook")
	s.send(t, load(504, "disable-1"))
	// Only the load queue first, so the retry (due 1 s later) cannot run
	// before the hook is disabled.
	deadline := time.Now().Add(20 * time.Second)
	for len(rcv.requests()) == 0 && time.Now().Before(deadline) {
		if s.pump(t, s.queues.Notifications) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if _, err := s.st.SetHookEnabled(context.Background(), p, hk.ID, false); err != nil {
		t.Fatal(err)
	}
	s.settle(t, 4*time.Second) // the retry (1 s) arrives and is cancelled
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("receiver saw %d requests, want 1", n)
	}
	if a := s.alerts(t); len(a) != 0 {
		t.Errorf("alerts = %+v, want none", a)
	}
	d, err := s.st.GetDelivery(context.Background(), delivery.Key{ClientID: 504, LoadID: "disable-1", HookID: hk.ID})
	if err != nil || d.Status != delivery.StatusCancelled {
		t.Errorf("delivery = %+v %v, want cancelled", d, err)
	}
}

// TestDispatcherRetryWaitsForItsDelay proves, through the real handler and
// goaws, that a retry message queued with a 2 s delay cannot be received
// before that delay and can be after it: the schedule holds locally as it
// does on AWS.
func TestDispatcherRetryWaitsForItsDelay(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	rcv := newReceiver(t, http.StatusServiceUnavailable, http.StatusNoContent)
	s := newStack(t, rcv.caFile(t), "2s") // jitter ±20 % still rounds to 2 s
	_, hk := s.seed(t, 505, rcv.url+"/hook")
	s.send(t, load(505, "delay-1"))

	// Attempt 1, from the load queue; it fails and queues the retry.
	deadline := time.Now().Add(10 * time.Second)
	for s.pump(t, s.queues.Notifications) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("load message not received within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	queued := time.Now() // the retry was sent before the handler returned
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("receiver saw %d requests after the load, want 1", n)
	}

	// Not receivable before its delay: at once, and again at 1.5 s.
	for _, at := range []time.Duration{0, 1500 * time.Millisecond} {
		time.Sleep(time.Until(queued.Add(at)))
		if ev := s.pollOnce(t, s.queues.Retry); len(ev.Records) != 0 {
			t.Fatalf("retry received %v after it was queued, want nothing before its 2 s delay", time.Since(queued))
		}
	}

	// Receivable after it: from 2.5 s on (bounded at 5 s).
	time.Sleep(time.Until(queued.Add(2500 * time.Millisecond)))
	// The retry runs as attempt 2 and succeeds.
	var ev events.SQSEvent
	for ev = s.pollOnce(t, s.queues.Retry); len(ev.Records) == 0; ev = s.pollOnce(t, s.queues.Retry) {
		if time.Since(queued) > 5*time.Second {
			t.Fatal("retry not received within 5 s of being queued, want it after about 2 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("received %d retry messages, want 1", len(ev.Records))
	}
	m, err := delivery.DecodeRetry([]byte(ev.Records[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	wantID := hook.WebhookID(505, "delay-1", hk.ID)
	if m.Kind != delivery.KindRetry || m.ClientID != 505 || m.LoadID != "delay-1" || m.HookID != hk.ID || m.Attempt != 2 ||
		m.WebhookID != wantID || string(m.Body) != canonicalBody {
		t.Fatalf("retry message = %+v, want attempt 2 of the pair with the canonical body", m)
	}

	got := rcv.requests()
	if len(got) != 2 || got[1].id != wantID {
		t.Fatalf("receiver saw %+v, want a second attempt with webhook id %s", got, wantID)
	}
	if gap := got[1].at.Sub(got[0].at); gap < 2*time.Second {
		t.Errorf("second attempt %v after the first, want at least the 2 s delay", gap)
	}
}

// TestDispatcherSignsWithBothSecretsDuringRotation: after a rotation every
// request carries "v1,<new> v1,<old>" and the official Standard Webhooks
// library verifies it with either secret; once the overlap has ended
// (here: a rotation made 24 h 1 min ago) only the new secret signs.
func TestDispatcherSignsWithBothSecretsDuringRotation(t *testing.T) {
	t.Parallel() // own table, queues and receiver
	rcv := newReceiver(t, http.StatusNoContent)
	s := newStack(t, rcv.caFile(t), testDelays)
	p, hk := s.seed(t, 506, rcv.url+"/hook")
	ctx := context.Background()

	second := hook.NewSecret()
	rotated, err := s.st.RotateHookSecret(ctx, p, hk.ID, second, hook.SecretOverlap)
	if err != nil || rotated.PreviousSecret != hk.Secret {
		t.Fatalf("rotate = %+v, %v", rotated, err)
	}
	s.send(t, load(506, "rotate-1"))
	s.drive(t, 20*time.Second, func() bool { return len(rcv.requests()) >= 1 })
	during := rcv.requests()[0]
	if sigs := strings.Fields(during.sig); len(sigs) != 2 ||
		webhook.Verify(second, during.id, during.ts, sigs[0], during.body) != nil ||
		webhook.Verify(hk.Secret, during.id, during.ts, sigs[1], during.body) != nil {
		t.Errorf("signature during the overlap = %q, want v1,<new> v1,<old>", during.sig)
	}
	for _, secret := range []string{second, hk.Secret} {
		if err := libraryVerify(t, secret, during); err != nil {
			t.Errorf("the library refuses a secret during the overlap: %v", err)
		}
	}

	third := hook.NewSecret()
	if _, err := s.dayAgo.RotateHookSecret(ctx, p, hk.ID, third, hook.SecretOverlap); err != nil {
		t.Fatal(err)
	}
	s.send(t, load(506, "rotate-2"))
	s.drive(t, 20*time.Second, func() bool { return len(rcv.requests()) >= 2 })
	after := rcv.requests()[1]
	if len(strings.Fields(after.sig)) != 1 || libraryVerify(t, third, after) != nil {
		t.Errorf("signature after the overlap = %q, want one, with the new secret", after.sig)
	}
	if err := libraryVerify(t, second, after); err == nil {
		t.Error("the library accepts the replaced secret after the overlap")
	}
}

// libraryVerify verifies a received request with the official Standard
// Webhooks library.
func libraryVerify(t *testing.T, secret string, r received) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", r.id)
	h.Set("webhook-timestamp", r.ts)
	h.Set("webhook-signature", r.sig)
	return wh.Verify(r.body, h)
}
