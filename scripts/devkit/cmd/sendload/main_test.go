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

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
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
	if err := run(ctx, []string{"-queue", queues.Notifications, "-keep-load-id", "example.json", "-"}, stdin, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 || !strings.Contains(out.String(), `sent load "example-load-0001" (client 116078, succeeded) as message `) {
		t.Errorf("printed\n%s\nwant 3 lines, one saying which load went where", out.String())
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

// Sending the example twice sends two loads: each gets a new load_id, and
// nothing else of the message changes.
func TestEveryLoadGetsAFreshLoadID(t *testing.T) {
	client, queues := devstack.SQS(t)
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()
	for range 2 {
		if err := run(ctx, []string{"-queue", queues.Notifications, "example.json"}, strings.NewReader(""), &bytes.Buffer{}); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	if err := run(ctx, []string{"-queue", queues.Notifications, "-load-id", "chosen-1", "example.json"}, strings.NewReader(""), &bytes.Buffer{}); err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile("example.json")
	if err != nil {
		t.Fatal(err)
	}
	example, err := notify.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 10 {
		res, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.Notifications), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			got, err := notify.Parse([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("sent an invalid loader message: %v\n%s", err, aws.ToString(m.Body))
			}
			ids = append(ids, got.LoadID)
			got.LoadID = example.LoadID
			if diff := cmp.Diff(example, got); diff != "" {
				t.Errorf("sent message differs from example.json beyond its load_id (-want +got):\n%s", diff)
			}
		}
		if len(ids) >= 3 {
			break
		}
	}
	slices.Sort(ids)
	if len(ids) != 3 || ids[0] != "chosen-1" || ids[1] == ids[2] || !strings.HasPrefix(ids[1], example.LoadID+"-") || !strings.HasPrefix(ids[2], example.LoadID+"-") {
		t.Errorf("load ids %q, want chosen-1 and two different new ones starting with %q", ids, example.LoadID+"-")
	}
}

func TestUsageWithoutFiles(t *testing.T) {
	err := run(context.Background(), nil, strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("run() = %v, want a usage error", err)
	}
}
