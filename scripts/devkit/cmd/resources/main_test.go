package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

func TestRunRefusesWithoutEndpoints(t *testing.T) {
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	err := run(context.Background(), []string{"create"}, getenv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), devstack.EnvDynamoDB) || !strings.Contains(err.Error(), devstack.EnvSQS) {
		t.Errorf("run error = %v, want one naming both endpoint variables", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

func TestRunRejectsUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"delete"}, {"create", "extra"}, {"create", "-nope"}} {
		var stdout, stderr bytes.Buffer
		getenv := func(string) string { return "http://127.0.0.1:1" }
		if err := run(context.Background(), args, getenv, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) succeeded, want a usage error", args)
		}
	}
}

func TestRunCreatesAndPrintsExports(t *testing.T) {
	cfg := devstack.AWSConfig(t)
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b)
	table, suffix := "devstack-cmd-"+id, "-cmd"+id
	db, sq := devstack.NewDynamoDB(cfg), sqs.NewFromConfig(cfg)
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("delete table: %v", err)
		}
		for _, name := range []string{"post-load-notifications", "post-load-notifications-dlq", "post-load-retries",
			"post-load-retries-dlq", "post-load-alerts", "post-load-alerts-dlq"} {
			out, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name + suffix)})
			if err != nil {
				t.Errorf("queue %s: %v", name+suffix, err)
				continue
			}
			if _, err := sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}); err != nil {
				t.Errorf("delete queue %s: %v", name+suffix, err)
			}
		}
	})

	// Twice: the second run must find everything in place and print the same.
	var outputs []string
	for range 2 {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"create", "-table", table, "-suffix", suffix}, os.Getenv, &stdout, &stderr); err != nil {
			t.Fatalf("run: %v (stderr %q)", err, stderr.String())
		}
		outputs = append(outputs, stdout.String())
	}
	if outputs[0] != outputs[1] {
		t.Errorf("second run printed\n%s\nfirst printed\n%s", outputs[1], outputs[0])
	}

	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(outputs[0]), "\n") {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !strings.HasPrefix(line, "export ") {
			t.Fatalf("line %q is not an export", line)
		}
		got[name] = strings.Trim(value, "'")
	}
	q := func(name string) string {
		out, err := sq.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(name + suffix)})
		if err != nil {
			t.Fatalf("queue %s: %v", name+suffix, err)
		}
		// Printed on the endpoint's host, which resolves, not goaws's us-east-1.127.0.0.1.
		u, err := url.Parse(aws.ToString(out.QueueUrl))
		if err != nil {
			t.Fatal(err)
		}
		e, err := url.Parse(os.Getenv(devstack.EnvSQS))
		if err != nil {
			t.Fatal(err)
		}
		u.Host = e.Host
		return u.String()
	}
	arn := func(url string) string {
		out, err := sq.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("queue arn of %s: %v", url, err)
		}
		return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	}
	want := map[string]string{
		"HOOKS_TABLE":                   table,
		"HOOKS_NOTIFICATIONS_QUEUE_URL": q("post-load-notifications"),
		"HOOKS_RETRY_QUEUE_URL":         q("post-load-retries"),
		"HOOKS_ALERT_QUEUE_URL":         q("post-load-alerts"),
		"HOOKS_DEAD_LETTER_QUEUE_URL":   q("post-load-notifications-dlq"),
		"HOOKS_RETRY_DLQ_URL":           q("post-load-retries-dlq"),
		"HOOKS_ALERTS_DLQ_URL":          q("post-load-alerts-dlq"),
		"HOOKS_NOTIFICATIONS_QUEUE_ARN": arn(q("post-load-notifications")),
		"HOOKS_RETRY_QUEUE_ARN":         arn(q("post-load-retries")),
		"HOOKS_ALERT_QUEUE_ARN":         arn(q("post-load-alerts")),
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("exports (-got +want):\n%s", diff)
	}
	if _, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("table %s: %v", table, err)
	}
}
