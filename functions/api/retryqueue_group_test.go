package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
)

type capturingSQS struct{ in *sqs.SendMessageInput }

func (c *capturingSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.in = in
	return &sqs.SendMessageOutput{}, nil
}

// TestResendCarriesTheAccountsGroup: a resend or replay's retry message has
// the account's MessageGroupId, as the dispatcher's own retries do.
func TestResendCarriesTheAccountsGroup(t *testing.T) {
	c := &capturingSQS{}
	q := sqsRetryQueue{client: c, url: "http://sqs.local/000000000000/post-load-retries"}
	m := delivery.RetryMessage{Kind: delivery.KindRetry, ClientID: 116078, LoadID: "L1", HookID: 1, Attempt: 1, WebhookID: "msg_x", Body: []byte(`{}`)}
	if err := q.QueueRetry(context.Background(), m, 0); err != nil {
		t.Fatal(err)
	}
	if g := aws.ToString(c.in.MessageGroupId); g != "116078" {
		t.Errorf("MessageGroupId = %q, want 116078", g)
	}
}
