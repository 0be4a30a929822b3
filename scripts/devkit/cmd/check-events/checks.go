package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
	"github.com/postloadhooks/hooks/shared/delivery"
)

// checkMail finds the mails not in before that go to want.To, and wants
// exactly want.want() of them, each with want's subject and text.
func checkMail(after []inbox.Mail, before map[string]bool, want mailExpectation) []string {
	var mine []inbox.Mail
	for _, m := range after {
		if !before[m.MessageID] && slices.Contains(m.Destination.To, want.To) {
			mine = append(mine, m)
		}
	}
	if len(mine) != want.want() {
		return []string{fmt.Sprintf("%d new mails to %s, want %d", len(mine), want.To, want.want())}
	}
	var p []string
	for _, m := range mine {
		if m.Subject != want.Subject {
			p = append(p, fmt.Sprintf("mail subject %q, want %q", m.Subject, want.Subject))
		}
		for _, s := range want.TextContains {
			if !strings.Contains(m.Body.Text, s) {
				p = append(p, fmt.Sprintf("mail text lacks %q", s))
			}
		}
	}
	return p
}

// drainQueue receives and deletes every message on url and returns how many
// there were.
func drainQueue(ctx context.Context, client *sqs.Client, url string) (int, error) {
	n := 0
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(url),
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     1,
		})
		if err != nil {
			return n, fmt.Errorf("receive from %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			return n, nil
		}
		for _, m := range out.Messages {
			n++
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return n, fmt.Errorf("delete from %s: %w", url, err)
			}
		}
	}
}

// drainEvents receives and deletes every message on the queue at url and
// counts the event notifications (delivery.KindEvent) among them.
func drainEvents(ctx context.Context, client *sqs.Client, url string) (int, error) {
	n := 0
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return n, fmt.Errorf("receive from %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			return n, nil
		}
		for _, m := range out.Messages {
			if _, err := delivery.DecodeEvent([]byte(aws.ToString(m.Body))); err == nil {
				n++
			}
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return n, fmt.Errorf("delete from %s: %w", url, err)
			}
		}
	}
}
