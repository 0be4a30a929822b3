package devstack

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
)

func TestDynamoDBCreatesTemplateTable(t *testing.T) {
	t.Parallel()
	db, name := DynamoDB(t)
	ctx := t.Context()

	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range desc.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	if diff := cmp.Diff(keys, []string{"pk HASH", "sk RANGE"}); diff != "" {
		t.Errorf("key schema (-got +want):\n%s", diff)
	}
	if got := desc.Table.TableStatus; got != types.TableStatusActive {
		t.Errorf("table status = %s, want ACTIVE", got)
	}

	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expires_at" {
		t.Errorf("ttl attribute = %q, want expires_at", got)
	}
	if got := ttl.TimeToLiveDescription.TimeToLiveStatus; got != types.TimeToLiveStatusEnabled {
		t.Errorf("ttl status = %s, want ENABLED", got)
	}

	// Creating again is fine (scripts/dev runs it on every start).
	if err := CreateTable(ctx, db, repoTemplate(t), name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}

	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "CLIENT#1"},
		"sk": &types.AttributeValueMemberS{Value: "#ACCOUNT"},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: item, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Item) != 2 {
		t.Errorf("GetItem = %v, want the item just put", got.Item)
	}
}

func TestSQSCreatesQueuesWithRedrive(t *testing.T) {
	t.Parallel()
	client, q := SQS(t)
	ctx := t.Context()

	arn := func(url string) string {
		t.Helper()
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["QueueArn"]
	}
	for _, tc := range []struct {
		name, url, dlq, visibility string
	}{
		{"notifications", q.Notifications, q.NotificationsDLQ, "360"},
		{"retries", q.Retry, q.RetryDLQ, "360"},
		{"alerts", q.Alerts, q.AlertsDLQ, "180"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl:       aws.String(tc.url),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Attributes["VisibilityTimeout"]; got != tc.visibility {
				t.Errorf("VisibilityTimeout = %q, want %q", got, tc.visibility)
			}
			var policy struct {
				Target string          `json:"deadLetterTargetArn"`
				Max    json.RawMessage `json:"maxReceiveCount"`
			}
			if err := json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &policy); err != nil {
				t.Fatalf("RedrivePolicy %q: %v", out.Attributes["RedrivePolicy"], err)
			}
			if want := arn(tc.dlq); policy.Target != want {
				t.Errorf("redrive target = %q, want %q", policy.Target, want)
			}
			// SQS reports the count as a number, goaws as a string.
			if got := strings.Trim(string(policy.Max), `"`); got != "5" {
				t.Errorf("maxReceiveCount = %s, want 5", policy.Max)
			}
		})
	}

	// Creating again returns the same queues.
	suffix := strings.TrimPrefix(path.Base(q.Notifications), "post-load-notifications")
	again, err := CreateQueues(ctx, client, repoTemplate(t), suffix)
	if err != nil {
		t.Fatalf("second CreateQueues: %v", err)
	}
	if diff := cmp.Diff(again, q); diff != "" {
		t.Errorf("second CreateQueues (-got +want):\n%s", diff)
	}
}

func TestSQSRedrivesToDeadLetterQueue(t *testing.T) {
	t.Parallel()
	client, q := SQS(t)
	ctx := t.Context()
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.Alerts), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	// Receive it maxReceiveCount (5) times, each time giving it back at once.
	for i := 1; i <= 5; i++ {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.Alerts), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 {
			t.Fatalf("receive %d: got %d messages, want 1", i, len(out.Messages))
		}
		if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(q.Alerts), ReceiptHandle: out.Messages[0].ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.AlertsDLQ), WaitTimeSeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %v, want the poison message", out.Messages)
	}
}

// TestQueueDepthCountsUntilDeleted: a queue's depth is 0 when empty, counts
// its messages while visible and while in flight, and is 0 again only once
// they are deleted.
func TestQueueDepthCountsUntilDeleted(t *testing.T) {
	t.Parallel()
	client, q := SQS(t)
	ctx := t.Context()
	total := func(when string) int {
		t.Helper()
		d, err := QueueDepth(ctx, client, q.RetryDLQ)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return d.Total()
	}
	if n := total("empty"); n != 0 {
		t.Fatalf("empty queue: depth %d, want 0", n)
	}
	for _, b := range []string{"a", "b"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.RetryDLQ), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := total("sent"); n < 2 {
		t.Errorf("2 visible messages: depth %d, want at least 2", n)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.RetryDLQ), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
	if err != nil || len(out.Messages) != 2 {
		t.Fatalf("receive: %d messages, %v; want 2", len(out.Messages), err)
	}
	if n := total("in flight"); n < 2 {
		t.Errorf("2 messages in flight: depth %d, want at least 2", n)
	}
	for _, m := range out.Messages {
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.RetryDLQ), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	if n := total("deleted"); n != 0 {
		t.Errorf("after deleting both: depth %d, want 0", n)
	}
}

func TestSESv2ReachesEmulator(t *testing.T) {
	t.Parallel()
	client, base := SESv2(t)
	ctx := context.Background()
	to := "devstack-" + uniqueSuffix(t) + "@example.com"
	_, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("alerts@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("devstack test")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hello")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := inbox.New(base).To(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Subject != "devstack test" {
		t.Errorf("the SES emulator's store lists %+v for %s, want the one mail sent", got, to)
	}
}
