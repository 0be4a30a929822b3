package main

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

// TestDrainReadsMessagesALostReceiveHid: messages a receive took but whose
// answer never arrived (here: read and dropped) are in flight when drain
// starts; drain waits for them to come back and takes every message once,
// two with the same body as two, leaving the queue empty.
func TestDrainReadsMessagesALostReceiveHid(t *testing.T) {
	client, q := devstack.SQS(t)
	ctx := context.Background()
	c := &chaos{sqs: client}
	url := q.NotificationsDLQ
	for _, b := range []string{"p1", "p1", "p2", "p3"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	lost, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 3, VisibilityTimeout: 3})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(lost.Messages) == 0 {
		t.Fatal("the lost receive took no message")
	}

	bodies, err := c.drain(ctx, url)
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	slices.Sort(bodies)
	if want := []string{"p1", "p1", "p2", "p3"}; !slices.Equal(bodies, want) {
		t.Errorf("drained %q, want %q (%d were hidden by the lost receive)", bodies, want, len(lost.Messages))
	}
	if left, err := c.queueDepth(ctx, url); err != nil || left != 0 {
		t.Errorf("queue holds %d after drain (err %v), want 0", left, err)
	}
	again, err := c.drain(ctx, url)
	if err != nil || len(again) != 0 {
		t.Errorf("second drain: %q, %v; want nothing", again, err)
	}
}
