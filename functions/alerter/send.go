package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/store"
)

// charset of every part of the email.
const charset = "UTF-8"

// Classes of SES failure, as logged (errorClass).
const (
	// classTransient: throttling, quotas, SES faults, network trouble. The
	// record is retried through the queue.
	classTransient = "transient"
	// classPermanent: SES refused this email and will refuse it again
	// (message rejected, sender identity not verified, bad request). The
	// record is still failed, so the queue's redrive policy moves it to the
	// DLQ for an operator after maxReceiveCount receives instead of
	// dropping the alert; redeliveries skip the recipients already sent.
	classPermanent = "permanent"
)

// sendAll sends email to every recipient of to that the claim has not seen
// sent yet, one SES message per recipient (so each address gets its own
// email, one refused address does not stop the others, and no recipient
// sees the others' addresses), recording each as soon as SES accepted it.
// It returns how many it sent now and whether every recipient has had the
// email. It stops at the first transient failure (SES will not do better
// for the next address right away) and at the first recording failure;
// after a permanent failure it goes on with the other recipients.
func (h *handler) sendAll(ctx context.Context, log *slog.Logger, claim *store.AlertClaim, to []string, render func(rcpt string) (mail.Email, error)) (sent int, done bool) {
	done = true
	for i, rcpt := range to {
		if claim.Sent(rcpt) {
			continue
		}
		email, err := render(rcpt)
		if err != nil {
			log.ErrorContext(ctx, "render alert failed", slog.String("error", err.Error()))
			return sent, false
		}
		err = h.send(ctx, rcpt, email)
		if err != nil {
			class, code := classify(err)
			attrs := []any{slog.Int("recipient", i), slog.String("errorClass", class), slog.String("errorCode", code)}
			if code == "" {
				// Not an SES answer (network, timeout): its text names the
				// endpoint, never the recipient.
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			log.ErrorContext(ctx, "send alert failed", attrs...)
			done = false
			if class == classTransient {
				return sent, false
			}
			continue
		}
		sent++
		if err := h.alerts.AlertSentTo(ctx, claim, rcpt); err != nil {
			// The email went out but is not recorded: a retry sends it
			// again (the one duplicate window).
			log.ErrorContext(ctx, "record alert recipient failed", slog.Int("recipient", i), slog.String("error", err.Error()))
			return sent, false
		}
	}
	return sent, done
}

// send sends one email to one recipient with SES v2 Simple content. An
// email with an unsubscribe link carries it as RFC 8058 one-click
// unsubscribe headers too (List-Unsubscribe with the https URL, and
// List-Unsubscribe-Post), which mail clients show as an Unsubscribe button.
func (h *handler) send(ctx context.Context, rcpt string, email mail.Email) error {
	cs := charset
	var headers []types.MessageHeader
	if email.UnsubscribeURL != "" {
		headers = []types.MessageHeader{
			{Name: aws.String("List-Unsubscribe"), Value: aws.String("<" + email.UnsubscribeURL + ">")},
			{Name: aws.String("List-Unsubscribe-Post"), Value: aws.String("List-Unsubscribe=One-Click")},
		}
	}
	_, err := h.ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: &h.from,
		Destination:      &types.Destination{ToAddresses: []string{rcpt}},
		Content: &types.EmailContent{Simple: &types.Message{
			Headers: headers,
			Subject: &types.Content{Data: &email.Subject, Charset: &cs},
			Body: &types.Body{
				Text: &types.Content{Data: &email.Text, Charset: &cs},
				Html: &types.Content{Data: &email.HTML, Charset: &cs},
			},
		}},
	})
	return err
}

// classify tells a permanent SES refusal from a failure worth retrying,
// and returns SES's error code ("" when SES did not answer). SES error
// messages may quote the recipient's address, so only the code is logged.
func classify(err error) (class, code string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var (
		rejected    *types.MessageRejected
		notVerified *types.MailFromDomainNotVerifiedException
		badRequest  *types.BadRequestException
		notFound    *types.NotFoundException
		suspended   *types.AccountSuspendedException
		throttled   *types.TooManyRequestsException
		limit       *types.LimitExceededException
		paused      *types.SendingPausedException
		responseErr *awshttp.ResponseError
	)
	switch {
	case errors.As(err, &throttled), errors.As(err, &limit), errors.As(err, &paused):
		return classTransient, code
	case errors.As(err, &rejected), errors.As(err, &notVerified), errors.As(err, &badRequest),
		errors.As(err, &notFound), errors.As(err, &suspended):
		return classPermanent, code
	case errors.As(err, &responseErr):
		// An answer the SDK has no type for: a 4xx other than throttling
		// will not change on retry, a 5xx may.
		if s := responseErr.HTTPStatusCode(); s >= 400 && s < 500 && s != 408 && s != 429 {
			return classPermanent, code
		}
	}
	return classTransient, code
}
