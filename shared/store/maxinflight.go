package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// SetMaxInFlight sets a hook's cap of requests in flight (operators, admin
// API): n in 1..delivery.MaxMaxInFlight, or 0 to go back to the default (the
// attribute is removed). One UpdateItem on the hook's item; a hook that
// does not exist is hook.ErrNotFound. Setting the same value again is a
// no-op, so a retried write needs no telling apart.
func (s *Store) SetMaxInFlight(ctx context.Context, clientID, hookID int64, n int) (hook.Hook, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(clientPK(clientID), hookSK(hookID)),
		ConditionExpression:      aws.String(condExists),
		ExpressionAttributeNames: map[string]string{"#m": attrMaxInFlight},
		ReturnValues:             types.ReturnValueAllNew,
	}
	if n == 0 {
		in.UpdateExpression = aws.String("REMOVE #m")
	} else {
		in.UpdateExpression = aws.String("SET #m = :m")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":m": attrN(int64(n))}
	}
	out, err := s.dynamo().UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return hook.Hook{}, fmt.Errorf("set max in flight of hook %d: %w", hookID, hook.ErrNotFound)
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("set max in flight of hook %d: %w", hookID, err)
	}
	return decodeHook(out.Attributes)
}
