package deadletter_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/deadletter"
)

// TestSendKeepsBodyAndReason on goaws: the message reaches the queue byte
// for byte, with the reason as its "reason" attribute.
func TestSendKeepsBodyAndReason(t *testing.T) {
	client, queues := devstack.SQS(t)
	ctx := context.Background()
	body := "{\"kind\":\"exhausted\", \"x\":\"<é>\"}\n"
	if err := deadletter.Send(ctx, client, queues.AlertsDLQ, body, "unknown key"); err != nil {
		t.Fatal(err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.AlertsDLQ),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	if got := aws.ToString(m.Body); got != body {
		t.Errorf("body = %q, want %q", got, body)
	}
	if got := aws.ToString(m.MessageAttributes[deadletter.ReasonAttribute].StringValue); got != "unknown key" {
		t.Errorf("reason = %q, want %q", got, "unknown key")
	}
}

// TestSendFailureIsReturned: a queue that cannot take the message is an
// error, so the caller fails the record for redelivery.
func TestSendFailureIsReturned(t *testing.T) {
	client, queues := devstack.SQS(t)
	err := deadletter.Send(context.Background(), client, queues.AlertsDLQ+"-missing", "{}", "r")
	if err == nil {
		t.Fatal("send to a missing queue succeeded")
	}
}
