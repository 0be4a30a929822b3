package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// DynamoDB only: the counter item stays small (within one write unit), and
// a counter write whose answer was lost, retried by the SDK, gets the
// numbers its first try took (none is skipped).

func TestSequenceCounterStaysSmall(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 200 {
		ids := []string{fmt.Sprintf("load-%03d-a-%s", i, strings.Repeat("x", 100)), fmt.Sprintf("load-%03d-b", i)}
		if _, err := f.store.AssignSequences(ctx, seqOrders, ids); err != nil {
			t.Fatal(err)
		}
	}
	out, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("SEQUENCE#%d", seqOrders.ClientID)},
			"sk": &types.AttributeValueMemberS{Value: "7#shopify#orders"},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil || out.Item == nil {
		t.Fatalf("read the counter: %v (item %v)", err, out.Item != nil)
	}
	if n := out.Item["n"].(*types.AttributeValueMemberN).Value; n != "400" {
		t.Errorf("latest = %s, want 400", n)
	}
	bindings, size := 0, 0
	for name, v := range out.Item {
		size += len(name)
		if strings.HasPrefix(name, "h") {
			bindings++
			size += 4
		} else if s, ok := v.(*types.AttributeValueMemberS); ok {
			size += len(s.Value)
		}
	}
	if bindings < delivery.SequenceWindow || bindings > delivery.SequenceWindow+20 {
		t.Errorf("the counter keeps %d bindings, want %d to %d", bindings, delivery.SequenceWindow, delivery.SequenceWindow+20)
	}
	if size > 1000 {
		t.Errorf("the counter is about %d bytes, want under 1 KiB", size)
	}
}

func TestLostResponseSequence(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()
	var got map[string]int64
	mustLose(t, l, "AssignSequences", func() {
		var err error
		got, err = s.AssignSequences(ctx, seqOrders, []string{"L1", "L2"})
		if err != nil {
			t.Fatalf("AssignSequences: %v", err)
		}
	})
	if got["L1"] != 1 || got["L2"] != 2 {
		t.Errorf("numbers after a lost answer = %v, want L1 1, L2 2", got)
	}
	if n := mustAssign(t, f.store, seqOrders, "L3"); n != 3 {
		t.Errorf("next = %d, want 3 (none skipped)", n)
	}
}
