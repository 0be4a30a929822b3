// Command alerter sends the email alert of a post-load hook delivery that
// failed its last retry. It consumes the alerts queue (one
// delivery.AlertMessage per exhausted (load, hook) pair), looks up the
// account's alert addresses, renders the email with shared/mail and sends it
// with SES v2: one email per address, each address at most once per alert
// however often the message arrives (shared/store's alert records). Within
// a digest window (HOOKS_DIGEST_WINDOW, 1h), only the first exhausted delivery of a hook's
// window is mailed at once; the window's others become one digest, sent
// when a delayed digest message that the alerter puts on its own queue
// finds the window ended (README.md beside this file).
//
// It does not deliver webhooks, decide when a delivery is exhausted (the
// dispatcher does) or change hooks. A malformed record goes to the alerts
// DLQ at once, with its reason (package deadletter), as the dispatcher's
// do. Failures it cannot fix are left to the queue: a failed record is
// retried by redelivery and moved to the alerts DLQ by its redrive policy.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "alerter:", err)
		os.Exit(1)
	}
}

// run wires the handler and hands it to the Lambda runtime loop, which
// never returns.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// AWS clients are built once per cold start. Endpoints come only from
	// the SDK's own AWS_ENDPOINT_URL_* variables.
	log := coldstart.NewLogger(getenv, stdout)
	awsCfg, err := coldstart.AWSConfig(ctx, log)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.table, time.Now)
	h := &handler{
		accounts: accountFunc(st.Account),
		alerts:   newLedgerFuncs(st),
		digests:  digestFuncs{note: st.NoteExhausted, seal: st.SealDigest},
		ses:      sendEmailFunc(sesv2.NewFromConfig(awsCfg).SendEmail),
		queue:    sendMessageFunc(sqs.NewFromConfig(awsCfg).SendMessage),
		from:     cfg.from,

		alertQueueARN: cfg.alertQueueARN,
		deadLetterURL: cfg.deadLetterURL,
		alertQueueURL: cfg.alertQueueURL,
		window:        cfg.digestWindow,
		links:         newLinkMaker(cfg.appURL, cfg.unsubscribeKey),
		autoDisable:   cfg.autoDisable,
		probes:        cfg.probes,
		retryQueueURL: cfg.retryQueueURL,
		fresh:         st,
		checkEvery:    cfg.checkEvery,
		log:           log,
		now:           time.Now,
	}
	if cfg.retryQueueURL != "" {
		h.health = healthFuncs{note: st.NoteHookExhausted, disable: st.AutoDisableHook, queued: st.SetProbeQueued}
		h.events = retryQueueEvents{queue: h.queue, url: cfg.retryQueueURL}
	}
	lambda.StartHandlerFunc(h.invoke, lambda.WithContext(ctx))
	return nil
}

// The handler's interfaces are given method values, not *store.Store,
// *sesv2.Client and *sqs.Client themselves. Once anything in a bootstrap
// calls reflect's MethodByName with a name known only at run time (as
// text/template and html/template do), the linker keeps every exported
// method of every type that can reach an interface value, including
// through struct fields: all of SES v2's and DynamoDB's operations, with
// their serializers and types. Func values hide those types (they took the
// bootstrap from 13.8 MiB to 10.6 MiB when shared/mail used templates); the
// alerter now links no template package at all (shared/mail writes its
// bodies in Go), which took it from 10.94 MiB to 8.63 MiB (arm64, stripped).

// sendEmailFunc is an emailSender: the SES v2 client's SendEmail.
type sendEmailFunc func(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

func (f sendEmailFunc) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f(ctx, in, opts...)
}

// sendMessageFunc is a messageSender: the SQS client's SendMessage.
type sendMessageFunc func(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)

func (f sendMessageFunc) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f(ctx, in, opts...)
}

// accountFunc is an accounts: store.Store's Account.
type accountFunc func(ctx context.Context, clientID int64) (hook.Account, error)

func (f accountFunc) Account(ctx context.Context, clientID int64) (hook.Account, error) {
	return f(ctx, clientID)
}

// ledgerFuncs is an alertLedger: store.Store's alert methods.
type ledgerFuncs struct {
	claim   func(ctx context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (store.AlertClaim, error)
	sentTo  func(ctx context.Context, c *store.AlertClaim, recipient string) error
	finish  func(ctx context.Context, c store.AlertClaim) error
	release func(ctx context.Context, c store.AlertClaim) error
}

func newLedgerFuncs(st *store.Store) ledgerFuncs {
	return ledgerFuncs{claim: st.ClaimAlert, sentTo: st.AlertSentTo, finish: st.FinishAlert, release: st.ReleaseAlert}
}

func (l ledgerFuncs) ClaimAlert(ctx context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (store.AlertClaim, error) {
	return l.claim(ctx, clientID, loadID, hookID, lease)
}

func (l ledgerFuncs) AlertSentTo(ctx context.Context, c *store.AlertClaim, recipient string) error {
	return l.sentTo(ctx, c, recipient)
}

func (l ledgerFuncs) FinishAlert(ctx context.Context, c store.AlertClaim) error {
	return l.finish(ctx, c)
}

func (l ledgerFuncs) ReleaseAlert(ctx context.Context, c store.AlertClaim) error {
	return l.release(ctx, c)
}

// digestFuncs is a digestBook: store.Store's digest methods.
type digestFuncs struct {
	note func(ctx context.Context, clientID, hookID int64, e store.DigestEntry, window time.Duration) (store.DigestWindow, bool, error)
	seal func(ctx context.Context, w store.DigestWindow) ([]store.DigestEntry, error)
}

func (d digestFuncs) NoteExhausted(ctx context.Context, clientID, hookID int64, e store.DigestEntry, window time.Duration) (store.DigestWindow, bool, error) {
	return d.note(ctx, clientID, hookID, e, window)
}

func (d digestFuncs) SealDigest(ctx context.Context, w store.DigestWindow) ([]store.DigestEntry, error) {
	return d.seal(ctx, w)
}

// healthFuncs is a hookHealth: store.Store's health methods.
type healthFuncs struct {
	note    func(ctx context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error)
	disable func(ctx context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error)
	queued  func(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error)
}

func (f healthFuncs) NoteHookExhausted(ctx context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error) {
	return f.note(ctx, clientID, hookID, loadID, attempts, at)
}

func (f healthFuncs) AutoDisableHook(ctx context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error) {
	return f.disable(ctx, clientID, hookID, failingSince, replaySince)
}

func (f healthFuncs) SetProbeQueued(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	return f.queued(ctx, clientID, hookID, disabledAt, step)
}
