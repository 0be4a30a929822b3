package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// mailbox reads the SES v2 emulator's store (GET <url>/store).
type mailbox struct {
	url    string
	client *http.Client
}

type storedMail struct {
	MessageID   string `json:"messageId"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
	} `json:"body"`
}

func (m mailbox) list(ctx context.Context) ([]storedMail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url+"/store", nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read mail store: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read mail store: status %d", resp.StatusCode)
	}
	var doc struct {
		Emails []storedMail `json:"emails"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read mail store: %w", err)
	}
	return doc.Emails, nil
}

// ids are the message ids of mails, to tell new mail from old.
func ids(mails []storedMail) map[string]bool {
	m := make(map[string]bool, len(mails))
	for _, x := range mails {
		m[x.MessageID] = true
	}
	return m
}

// checkMail finds the mails not in before that go to want.To, and wants
// exactly want.want() of them, each with want's subject and text.
func checkMail(after []storedMail, before map[string]bool, want mailExpectation) []string {
	var mine []storedMail
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
