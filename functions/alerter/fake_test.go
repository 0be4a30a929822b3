package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// Hand-written fakes of the handler's dependencies, for the failure paths.
// The integration tests run the same handler on DynamoDB Local and the SES
// emulator.

// fakeAccounts serves accounts from a map.
type fakeAccounts struct {
	accounts map[int64]hook.Account
	err      error // returned by every call when set
	calls    int
}

func (f *fakeAccounts) Account(_ context.Context, clientID int64) (hook.Account, error) {
	f.calls++
	if f.err != nil {
		return hook.Account{}, f.err
	}
	a, ok := f.accounts[clientID]
	if !ok {
		return hook.Account{}, fmt.Errorf("get account %d: %w", clientID, hook.ErrNotFound)
	}
	return a, nil
}

// fakeAlert is the fake ledger's record of one alert.
type fakeAlert struct {
	status string // "", "sending", "failed", "sent"
	sentTo map[string]bool
}

// fakeLedger is an in-memory alert ledger with the store's semantics (no
// leases: a claim is busy until released or finished).
type fakeLedger struct {
	alerts map[string]*fakeAlert

	claimErr, sentToErr, finishErr, releaseErr error

	claims, releases, finishes int
}

func newFakeLedger() *fakeLedger { return &fakeLedger{alerts: map[string]*fakeAlert{}} }

func alertKey(cid int64, load string, hookID int64) string {
	return fmt.Sprintf("%d/%s/%d", cid, load, hookID)
}

func (f *fakeLedger) alert(c store.AlertClaim) *fakeAlert {
	return f.alerts[alertKey(c.ClientID, c.LoadID, c.HookID)]
}

func (f *fakeLedger) ClaimAlert(_ context.Context, cid int64, load string, hookID int64, _ time.Duration) (store.AlertClaim, error) {
	f.claims++
	if f.claimErr != nil {
		return store.AlertClaim{}, f.claimErr
	}
	k := alertKey(cid, load, hookID)
	a := f.alerts[k]
	if a == nil {
		a = &fakeAlert{sentTo: map[string]bool{}}
		f.alerts[k] = a
	}
	switch a.status {
	case "sent":
		return store.AlertClaim{}, store.ErrAlertSent
	case "sending":
		return store.AlertClaim{}, store.ErrAlertBusy
	}
	a.status = "sending"
	sent := map[string]bool{}
	for r := range a.sentTo {
		sent[r] = true
	}
	return store.AlertClaim{ClientID: cid, LoadID: load, HookID: hookID, SentTo: sent}, nil
}

func (f *fakeLedger) AlertSentTo(_ context.Context, c *store.AlertClaim, rcpt string) error {
	if f.sentToErr != nil {
		return f.sentToErr
	}
	k := store.RecipientKey(rcpt)
	f.alert(*c).sentTo[k] = true
	c.SentTo[k] = true
	return nil
}

func (f *fakeLedger) FinishAlert(_ context.Context, c store.AlertClaim) error {
	f.finishes++
	if f.finishErr != nil {
		return f.finishErr
	}
	f.alert(c).status = "sent"
	return nil
}

func (f *fakeLedger) ReleaseAlert(_ context.Context, c store.AlertClaim) error {
	f.releases++
	if f.releaseErr != nil {
		return f.releaseErr
	}
	f.alert(c).status = "failed"
	return nil
}

// fakeSES records every SendEmail and fails the ones its fail function
// picks.
type fakeSES struct {
	mu    sync.Mutex
	calls []*sesv2.SendEmailInput
	// fail returns the error for a send to rcpt (nil: accepted).
	fail func(rcpt string) error
	// delivered counts accepted emails per recipient.
	delivered map[string]int
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	rcpt := ""
	if in.Destination != nil && len(in.Destination.ToAddresses) == 1 {
		rcpt = in.Destination.ToAddresses[0]
	}
	if f.fail != nil {
		if err := f.fail(rcpt); err != nil {
			return nil, err
		}
	}
	if f.delivered == nil {
		f.delivered = map[string]int{}
	}
	f.delivered[rcpt]++
	return &sesv2.SendEmailOutput{MessageId: aws.String("fake-" + rcpt)}, nil
}

// alertsARN is the alerts queue's event source ARN in tests.
const alertsARN = "arn:aws:sqs:us-east-1:123456789012:post-load-alerts"

// fixture is a handler on fakes and the buffer its JSON logs go to.
type fixture struct {
	h        *handler
	accounts *fakeAccounts
	ledger   *fakeLedger
	ses      *fakeSES
	logs     *bytes.Buffer
}

func newFixture(t *testing.T, emails ...string) *fixture {
	t.Helper()
	f := &fixture{
		accounts: &fakeAccounts{accounts: map[int64]hook.Account{
			116078: {ClientID: 116078, Plan: "advanced", AlertEmails: emails},
		}},
		ledger: newFakeLedger(),
		ses:    &fakeSES{},
		logs:   &bytes.Buffer{},
	}
	f.h = &handler{
		accounts: f.accounts,
		alerts:   f.ledger,
		ses:      f.ses,
		from:     "Post-load hooks <alerts@hooks.example.net>",

		alertQueueARN: alertsARN,
		log:           slog.New(slog.NewJSONHandler(f.logs, nil)),
		now:           func() time.Time { return time.Date(2026, 7, 15, 15, 20, 0, 0, time.UTC) },
	}
	return f
}
