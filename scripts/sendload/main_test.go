package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/devstack"
	"github.com/postloadhooks/hooks/shared/notify"
)

// The example the README points at must stay a valid loader message.
func TestExampleIsAValidLoaderMessage(t *testing.T) {
	b, err := os.ReadFile("example.json")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := notify.Parse(b)
	if err != nil {
		t.Fatalf("Parse(example.json) = %v", err)
	}
	if msg.ClientID != 116078 || msg.Status != "succeeded" || len(msg.Body) == 0 {
		t.Errorf("Parse(example.json) = client %d, status %q, body %d bytes; want the demo account's succeeded load", msg.ClientID, msg.Status, len(msg.Body))
	}
}

func TestSendsEachFileAndEachStdinLine(t *testing.T) {
	client, queues := devstack.SQS(t)
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()

	stdin := strings.NewReader("{\"a\":1}\n\n{\"b\":2}\n")
	var out bytes.Buffer
	if err := run(ctx, []string{"-queue", queues.Notifications, "example.json", "-"}, stdin, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 {
		t.Errorf("printed %d message ids, want 3:\n%s", got, out.String())
	}

	example, err := os.ReadFile("example.json")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 10 {
		res, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.Notifications), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			got = append(got, aws.ToString(m.Body))
		}
		if len(got) >= 3 {
			break
		}
	}
	// A standard queue keeps no order.
	want := []string{string(example), `{"a":1}`, `{"b":2}`}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queued bodies (-want +got):\n%s", diff)
	}
}

func TestUsageWithoutFiles(t *testing.T) {
	err := run(context.Background(), nil, strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("run() = %v, want a usage error", err)
	}
}
