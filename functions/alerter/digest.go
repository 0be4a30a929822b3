package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store"
)

// Paths of the web app that the emails link to (served by the api function).
const (
	appPath         = "/app"
	unsubscribePath = "/app/unsubscribe"
)

// linkMaker makes each recipient's links: the web app, and an unsubscribe
// link signed for this address of this account (package optout).
type linkMaker struct {
	appURL string
	signer optout.Signer
}

// newLinkMaker returns the links of appURL signed with key; with either
// missing, no links.
func newLinkMaker(appURL string, key []byte) linkMaker {
	signer, err := optout.NewSigner(key)
	if appURL == "" || err != nil {
		return linkMaker{}
	}
	return linkMaker{appURL: appURL, signer: signer}
}

func (l linkMaker) forRecipient(clientID int64, rcpt string, now time.Time) mail.Links {
	if l.appURL == "" {
		return mail.Links{}
	}
	return mail.Links{
		AppURL:         l.appURL + appPath,
		UnsubscribeURL: l.appURL + unsubscribePath + "?" + url.Values{"token": {l.signer.Make(clientID, rcpt, now)}}.Encode(),
	}
}

// errForeignSource means a record came from a queue other than the alerts
// queue: only the dispatcher and the alerter can write there, so only their
// messages are read.
var errForeignSource = errors.New("event source: not the alerts queue")

// kindOf checks that a record comes from the alerts queue and returns the
// kind of its message. Its errors are safe to log: they name fields, never
// their values.
func (h *handler) kindOf(r events.SQSMessage) (string, error) {
	if r.EventSourceARN != h.alertQueueARN {
		return "", errForeignSource
	}
	return delivery.AlertQueueKind([]byte(r.Body))
}

// entryOf is what a digest keeps of an exhausted delivery.
func entryOf(msg delivery.AlertMessage) store.DigestEntry {
	e := store.DigestEntry{LoadID: msg.LoadID, WebhookID: msg.WebhookID, Integration: msg.IntegrationName,
		Event: msg.Event, Sequence: msg.Sequence, AttemptCount: msg.AttemptCount}
	if len(msg.Tables) > 0 {
		e.Table = msg.Tables[0]
	}
	if n := len(msg.Attempts); n > 0 {
		last := msg.Attempts[n-1]
		e.At, e.ErrorClass = last.At, mail.ErrorClass(last)
	}
	for i := len(msg.Attempts) - 1; i >= 0; i-- {
		if s := msg.Attempts[i].Snippet; s != "" {
			e.Snippet = s
			break
		}
	}
	return e
}

// queueDigest puts m on the alerts queue, delayed by what is left of its
// window (at most SQS's 15 minutes: a longer window is a chain).
func (h *handler) queueDigest(ctx context.Context, m delivery.DigestMessage) error {
	delay := int32(delivery.DigestDelay(m.WindowEnd, h.now()) / time.Second)
	_, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:       &h.alertQueueURL,
		MessageBody:    aws.String(string(m.Encode())),
		DelaySeconds:   delay,
		MessageGroupId: aws.String(notify.MessageGroupID(m.ClientID)), // fair queues: per account
	})
	return err
}

// processDigest handles a digest message: before its window's end it is
// sent on again, delayed; after it, the window is sealed and its entries
// are mailed as one digest, to each address once.
func (h *handler) processDigest(ctx context.Context, log *slog.Logger, r events.SQSMessage, start time.Time) bool {
	m, err := delivery.DecodeDigest([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, log, r, err.Error())
	}
	log = log.With(slog.Int64("clientId", m.ClientID), slog.Int64("hookId", m.HookID))
	if h.now().Before(m.WindowEnd) {
		if err := h.queueDigest(ctx, m); err != nil {
			log.ErrorContext(ctx, "queue digest failed", slog.String("error", err.Error()))
			return false
		}
		log.InfoContext(ctx, "digest window still open, waiting on")
		return true
	}
	to, ok, done := h.recipientsOf(ctx, log, m.ClientID)
	if !ok {
		return done
	}
	w := store.DigestWindow{ClientID: m.ClientID, HookID: m.HookID, Start: m.WindowStart, End: m.WindowEnd}
	entries, err := h.digests.SealDigest(ctx, w)
	if errors.Is(err, store.ErrDigestOpen) {
		// This clock is behind the store's: wait a little.
		log.WarnContext(ctx, "digest window not ended for the store, retry later")
		return false
	}
	if err != nil {
		log.ErrorContext(ctx, "seal digest failed", slog.String("error", err.Error()))
		return false
	}
	if len(entries) == 0 {
		log.InfoContext(ctx, "digest window ended with nothing more to report")
		return true
	}
	d := mail.Digest{ClientID: m.ClientID, HookID: m.HookID, HookURL: m.HookURL,
		WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Entries: entries}
	render := func(rcpt string) (mail.Email, error) {
		return mail.RenderDigest(d, h.now(), h.links.forRecipient(m.ClientID, rcpt, h.now())), nil
	}
	if _, ok := h.sendOnce(ctx, log, m.ClientID, store.DigestLoadID(m.WindowStart), m.HookID, to, render); !ok {
		return false
	}
	log.InfoContext(ctx, "digest sent", slog.Int("recipients", len(to)), slog.Int("deliveries", len(entries)),
		slog.Int64("durationMs", h.now().Sub(start).Milliseconds()))
	return true
}
