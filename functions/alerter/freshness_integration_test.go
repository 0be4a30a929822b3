package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// The freshness check on the emulators: DynamoDB Local for the rules,
// states and notice claims, the SES emulator for the emails, goaws for the
// event notifications on the retry queue. The clock is injected: a check
// "an hour later" is the same check with the clock moved.

type freshFixture struct {
	t      *testing.T
	h      *handler
	store  *store.Store
	clock  *clock
	sqs    *sqs.Client
	queues devstack.Queues
	sesURL string
	ses    emailSender
	emails []string
	logs   *bytes.Buffer
	start  time.Time
}

const freshClient = 116078

var ordersKey = hook.FreshnessKey{Integration: "shopify", Table: "orders"}

// newFreshFixture: account 116078 (plan advanced, two unique alert
// addresses) with the rule shopify/orders every 2h, created at start.
func newFreshFixture(t *testing.T) *freshFixture {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	ses, sesURL := devstack.SESv2(t)
	sqsClient, queues := devstack.SQS(t)
	c := &clock{now: time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)}
	st := store.New(db, table, c.Now)
	f := &freshFixture{t: t, ses: ses, store: st, clock: c, sqs: sqsClient, queues: queues, sesURL: sesURL,
		emails: []string{uniqueAddress("ops"), uniqueAddress("data")}, logs: &bytes.Buffer{}, start: c.Now()}
	ctx := context.Background()
	if _, err := st.CreateAccount(ctx, hook.Account{ClientID: freshClient, Plan: "advanced", AlertEmails: f.emails}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutFreshnessRules(ctx, hook.Principal{ClientID: freshClient, MemberID: "m1"},
		[]hook.FreshnessRule{{IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", Interval: 2 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	f.h = f.newHandler(retryQueueEvents{queue: sqsClient, url: queues.Retry})
	return f
}

func (f *freshFixture) newHandler(events eventQueuer) *handler {
	return &handler{accounts: f.store, alerts: f.store, fresh: f.store, ses: f.ses, queue: &fakeQueue{},
		events: events, checkEvery: time.Minute, deadLetterURL: alertsDLQ, alertQueueARN: alertsARN,
		from: "Post-load hooks <alerts@hooks.example.net>", log: slog.New(slog.NewJSONHandler(f.logs, nil)), now: f.clock.Now}
}

// at moves the clock to start+d.
func (f *freshFixture) at(d time.Duration) {
	f.clock.mu.Lock()
	f.clock.now = f.start.Add(d)
	f.clock.mu.Unlock()
}

// check runs one scheduled invocation; it must succeed.
func (f *freshFixture) check() {
	f.t.Helper()
	resp, err := f.h.invoke(context.Background(), event{Source: "aws.events", DetailType: "Scheduled Event"})
	if err != nil || resp != nil {
		f.t.Fatalf("scheduled invocation: %v, %v; logs:\n%s", resp, err, f.logs)
	}
}

// subjects returns the subjects of the mail each alert address has had.
func (f *freshFixture) subjects() [][]string {
	f.t.Helper()
	var out [][]string
	for _, rcpt := range f.emails {
		var s []string
		for _, m := range mailTo(f.t, f.sesURL, rcpt) {
			s = append(s, m.Subject)
		}
		out = append(out, s)
	}
	return out
}

// notifications receives (and deletes) every message on the retry queue.
func (f *freshFixture) notifications() []delivery.EventMessage {
	f.t.Helper()
	var out []delivery.EventMessage
	for {
		got, err := f.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &f.queues.Retry, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		for _, m := range got.Messages {
			ev, err := delivery.DecodeEvent([]byte(aws.ToString(m.Body)))
			if err != nil {
				f.t.Fatalf("retry queue message %s: %v", aws.ToString(m.Body), err)
			}
			out = append(out, ev)
			if _, err := f.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &f.queues.Retry, ReceiptHandle: m.ReceiptHandle}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

func (f *freshFixture) wantNotifications(bodies ...string) {
	f.t.Helper()
	got := []string{}
	for _, m := range f.notifications() {
		if m.ClientID != freshClient || m.Event != "load_overdue" {
			f.t.Errorf("notification %+v: want client %d, event load_overdue", m, freshClient)
		}
		got = append(got, string(m.Body))
	}
	if bodies == nil {
		bodies = []string{}
	}
	if diff := cmp.Diff(got, bodies); diff != "" {
		f.t.Errorf("event notifications (-got +want):\n%s", diff)
	}
}

func (f *freshFixture) wantMail(subjects ...string) {
	f.t.Helper()
	want := [][]string{}
	for range f.emails {
		want = append(want, subjects)
	}
	if subjects == nil {
		want = [][]string{nil, nil}
	}
	if diff := cmp.Diff(f.subjects(), want); diff != "" {
		f.t.Errorf("mail per alert address (-got +want):\n%s", diff)
	}
}

const (
	overdueSubject = "Table overdue: shopify / orders"
	backSubject    = "Table back on time: shopify / orders"
)

// A rule with no load starts its clock at its creation; overdue sends one
// email per address and one notification, and later checks nothing; a
// load sends one back-on-time notice and re-arms the rule.
func TestFreshnessEpisodeOnEmulators(t *testing.T) {
	f := newFreshFixture(t)
	f.at(2*time.Hour - time.Second)
	f.check()
	f.wantMail()
	f.wantNotifications()

	f.at(2 * time.Hour)
	f.check()
	f.wantMail(overdueSubject)
	f.wantNotifications(`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":null}`)

	for _, d := range []time.Duration{2*time.Hour + time.Minute, 3 * time.Hour, 30 * time.Hour} {
		f.at(d)
		f.check()
	}
	f.wantMail(overdueSubject)
	f.wantNotifications()

	// The table loads (the dispatcher's write), and the next check says so.
	loaded := f.start.Add(30*time.Hour + 10*time.Second)
	if err := f.store.RecordTableLoad(context.Background(), freshClient, ordersKey, loaded); err != nil {
		t.Fatal(err)
	}
	f.at(30*time.Hour + time.Minute)
	f.check()
	f.check()
	f.wantMail(overdueSubject, backSubject)
	f.wantNotifications(`{"version":"1.0","type":"load_overdue","state":"back_on_time","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":"2026-07-16T18:00:10.000Z"}`)

	// Re-armed: the clock now starts at the load.
	f.at(32*time.Hour + 9*time.Second)
	f.check()
	f.wantMail(overdueSubject, backSubject)
	f.at(32*time.Hour + 10*time.Second)
	f.check()
	f.wantMail(overdueSubject, backSubject, overdueSubject)
	f.wantNotifications(`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":"2026-07-16T18:00:10.000Z"}`)
}

// Checks that run at once (the schedule overlapping a slow check, or a
// retried invocation) send one notice between them.
func TestFreshnessConcurrentChecksOnEmulators(t *testing.T) {
	f := newFreshFixture(t)
	f.at(3 * time.Hour)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { _ = f.h.checkFreshness(context.Background()) })
	}
	wg.Wait()
	// A check that found the notice claimed by another leaves it; one more
	// check finishes nothing new.
	f.check()
	f.wantMail(overdueSubject)
	if got := f.notifications(); len(got) != 1 {
		t.Errorf("%d event notifications, want 1: %+v", len(got), got)
	}
}

// failingEvents fails its first n queue attempts, then queues.
type failingEvents struct {
	mu   sync.Mutex
	n    int
	next eventQueuer
}

func (q *failingEvents) QueueEvent(ctx context.Context, m delivery.EventMessage) error {
	q.mu.Lock()
	fail := q.n > 0
	q.n--
	q.mu.Unlock()
	if fail {
		return errors.New("queue unavailable")
	}
	return q.next.QueueEvent(ctx, m)
}

// failingSES refuses, for a while, the email to one address (SES
// throttling), and sends the others.
type failingSES struct {
	mu    sync.Mutex
	rcpt  string
	fails int
	next  emailSender
}

func (f *failingSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	fail := f.fails > 0 && in.Destination.ToAddresses[0] == f.rcpt
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return nil, &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "throttled"}
	}
	return f.next.SendEmail(ctx, in, opts...)
}

// Checks that fail midway (the queue down, then SES refusing one address)
// are finished by later ones: every address and the hooks get the notice
// exactly once.
func TestFreshnessCheckFailingMidwayFinishesOnceOnEmulators(t *testing.T) {
	f := newFreshFixture(t)
	f.h.events = &failingEvents{n: 1, next: f.h.events}
	f.h.ses = &failingSES{rcpt: f.emails[1], fails: 1, next: f.ses}
	scheduled := event{Source: "aws.events", DetailType: "Scheduled Event"}
	f.at(2 * time.Hour)
	if _, err := f.h.invoke(context.Background(), scheduled); err == nil {
		t.Fatal("check with the queue down: no error, want one (the next check carries on)")
	}
	f.wantMail()
	f.wantNotifications()

	f.at(2*time.Hour + time.Minute)
	if _, err := f.h.invoke(context.Background(), scheduled); err == nil {
		t.Fatal("check with SES refusing an address: no error, want one")
	}
	f.wantNotifications(`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":null}`)
	if got := f.subjects(); !cmp.Equal(got, [][]string{{overdueSubject}, nil}) {
		t.Fatalf("after SES refused the second address: %v", got)
	}

	f.at(2*time.Hour + 2*time.Minute)
	f.check()
	f.check()
	f.wantMail(overdueSubject)
	f.wantNotifications()
}

// A downgrade stops the notices: an overdue table of an account whose plan
// lacks the feature sends nothing, and opens no episode.
func TestFreshnessDowngradeStopsNoticesOnEmulators(t *testing.T) {
	f := newFreshFixture(t)
	plan := "standard"
	if _, _, err := f.store.UpdateAccount(context.Background(), freshClient, store.AccountUpdate{Plan: &plan}); err != nil {
		t.Fatal(err)
	}
	f.at(5 * time.Hour)
	f.check()
	f.wantMail()
	f.wantNotifications()
	_, states, err := f.store.FreshnessCheck(context.Background(), freshClient)
	if err != nil {
		t.Fatal(err)
	}
	if st := states[ordersKey]; st.Episode != 0 {
		t.Errorf("state after a check of a downgraded account: %+v, want no episode", st)
	}
}
