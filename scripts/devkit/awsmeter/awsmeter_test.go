package awsmeter_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/awsmeter"
	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

func TestChunks(t *testing.T) {
	for size, want := range map[int64]int{-1: 1, 0: 1, 1: 1, 64 << 10: 1, 64<<10 + 1: 2, 256 << 10: 4} {
		if got := awsmeter.Chunks(size); got != want {
			t.Errorf("Chunks(%d) = %d, want %d", size, got, want)
		}
	}
}

func TestCountsSub(t *testing.T) {
	before := awsmeter.Counts{Requests: map[string]int{"DynamoDB.UpdateItem": 2, "SQS.SendMessage": 1}, WriteUnits: 2, SQSChunks: 1}
	after := awsmeter.Counts{Requests: map[string]int{"DynamoDB.UpdateItem": 5, "DynamoDB.Query": 1, "SQS.SendMessage": 1}, ReadUnits: 0.5, WriteUnits: 6, SQSChunks: 1}
	d := after.Sub(before)
	if d.Requests["DynamoDB.UpdateItem"] != 3 || d.Requests["DynamoDB.Query"] != 1 || len(d.Requests) != 2 {
		t.Errorf("requests = %v", d.Requests)
	}
	if d.Service("DynamoDB") != 4 || d.Service("SQS") != 0 || d.Service("Dynamo") != 0 {
		t.Errorf("per service: DynamoDB %d, SQS %d", d.Service("DynamoDB"), d.Service("SQS"))
	}
	if d.ReadUnits != 0.5 || d.WriteUnits != 4 || d.SQSChunks != 0 {
		t.Errorf("units = %+v", d)
	}
}

// DynamoDB Local reports consumed capacity by DynamoDB's rules: a write
// of an item up to 1 KiB is 1 unit, each further KiB one more; a strongly
// consistent read of up to 4 KiB is 1 unit, an eventually consistent one
// half.
func TestDynamoDBCapacity(t *testing.T) {
	_, table := devstack.DynamoDB(t)
	m := awsmeter.New()
	client := dynamodb.NewFromConfig(devstack.AWSConfig(t), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, m.Middleware)
	})
	ctx := context.Background()
	item := func(sk string, size int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "meter"}, "sk": &types.AttributeValueMemberS{Value: sk},
			"blob": &types.AttributeValueMemberS{Value: strings.Repeat("x", size)},
		}
	}
	put := func(sk string, size int) {
		t.Helper()
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(sk, size)}); err != nil {
			t.Fatal(err)
		}
	}
	put("small", 100) // 1 WCU
	put("big", 2500)  // about 2.5 KiB: 3 WCU
	// The documented size rule gives what DynamoDB Local reports.
	if u := awsmeter.WriteUnits(awsmeter.ItemSize(item("big", 2500))) + awsmeter.WriteUnits(awsmeter.ItemSize(item("small", 100))); u != 4 {
		t.Errorf("item sizes give %d write units, want 4", u)
	}
	got := m.Snapshot()
	if got.WriteUnits != 4 || got.ReadUnits != 0 || got.Requests["DynamoDB.PutItem"] != 2 || got.Unreported != 0 {
		t.Fatalf("after two puts: %+v", got)
	}
	before := m.Snapshot()
	if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "meter"}, "sk": &types.AttributeValueMemberS{Value: "small"},
	}}); err != nil {
		t.Fatal(err)
	}
	if d := m.Snapshot().Sub(before); d.ReadUnits != 0.5 || d.WriteUnits != 0 || d.Service("DynamoDB") != 1 {
		t.Fatalf("eventually consistent get: %+v", d)
	}

	// A write whose condition fails is billed by the item already there
	// (about 2.5 KiB: 3 units), or 1 unit when there is none.
	before = m.Snapshot()
	failing := func(sk string) {
		t.Helper()
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
			Key:                 map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "meter"}, "sk": &types.AttributeValueMemberS{Value: sk}},
			UpdateExpression:    aws.String("SET n = :one"),
			ConditionExpression: aws.String("n = :two"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": &types.AttributeValueMemberN{Value: "1"}, ":two": &types.AttributeValueMemberN{Value: "2"},
			},
		})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("update of %s: %v, want a failed condition", sk, err)
		}
		if ccf.Item != nil {
			t.Errorf("update of %s: the error carries the item although the caller did not ask for it", sk)
		}
	}
	failing("big")
	failing("missing")
	if d := m.Snapshot().Sub(before); d.WriteUnits != 3+1 || d.FailedConditions != 2 || d.Unreported != 0 || d.Service("DynamoDB") != 2 {
		t.Fatalf("two failed conditions: %+v", d)
	}
}

func TestSQSRequests(t *testing.T) {
	_, q := devstack.SQS(t)
	m := awsmeter.New()
	client := sqs.NewFromConfig(devstack.AWSConfig(t), func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, m.Middleware)
	})
	ctx := context.Background()
	for _, body := range []string{"small", strings.Repeat("y", 100<<10)} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.Retry), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	got := m.Snapshot()
	// The 100 KiB body is two chunks, the small one one.
	if got.Requests["SQS.SendMessage"] != 2 || got.Service("SQS") != 2 || got.SQSChunks != 3 || got.WriteUnits != 0 {
		t.Fatalf("counts = %+v", got)
	}
}

func TestItemSize(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	item := map[string]types.AttributeValue{
		"pk":  s("abc"),                                                                            // 2 + 3
		"num": n("1234567"),                                                                        // 3 + (7 digits: 4) + 1
		"ok":  &types.AttributeValueMemberBOOL{Value: true},                                        // 2 + 1
		"l":   &types.AttributeValueMemberL{Value: []types.AttributeValue{s("xy"), n("10")}},       // 1 + 3 + 2 + 2 + (1 digit: 1+1)
		"m":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": s("bcd")}}, // 1 + 3 + 1 + 1 + 3
	}
	item["ss"] = &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}           // 2 + 3
	item["ns"] = &types.AttributeValueMemberNS{Value: []string{"1", "-0.25", "3e5"}} // 2 + 2 + 2 + 2
	item["bs"] = &types.AttributeValueMemberBS{Value: [][]byte{{1, 2, 3}}}           // 2 + 3
	if got, want := awsmeter.ItemSize(item), 5+8+3+10+9+5+8+5; got != want {
		t.Errorf("ItemSize = %d, want %d", got, want)
	}
	for size, want := range map[int]int{0: 1, 1024: 1, 1025: 2, 3000: 3} {
		if got := awsmeter.WriteUnits(size); got != want {
			t.Errorf("WriteUnits(%d) = %d, want %d", size, got, want)
		}
	}
}
