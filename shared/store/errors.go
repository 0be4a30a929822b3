package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Helpers that read DynamoDB SDK errors, so every file of the package
// translates them into the errors of package hook the same way.

// Cancellation reason codes of TransactWriteItems (CancellationReason.Code).
const (
	reasonNone            = "None"
	reasonConditionFailed = "ConditionalCheckFailed"
	reasonConflict        = "TransactionConflict"
)

// isConditionFailed reports whether err is the failed condition of a
// single-item write (PutItem, UpdateItem, DeleteItem).
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// conditionFailedItem returns the item as it was when a single-item write's
// condition failed, if the write asked for it with
// ReturnValuesOnConditionCheckFailure ALL_OLD. It returns nil when err is not
// a failed condition or the item did not exist.
func conditionFailedItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && len(ccf.Item) > 0 {
		return ccf.Item
	}
	return nil
}

// txCancellation is why a TransactWriteItems was cancelled: one reason per
// item of the request, in request order.
type txCancellation []types.CancellationReason

// cancellationReasons returns the reasons of a cancelled transaction, and
// false when err is not a TransactionCanceledException.
func cancellationReasons(err error) (txCancellation, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	return txCancellation(tce.CancellationReasons), true
}

// code is the reason code of item i ("" when DynamoDB gave none).
func (c txCancellation) code(i int) string {
	if i < 0 || i >= len(c) || c[i].Code == nil {
		return ""
	}
	return *c[i].Code
}

// conditionFailed reports whether the condition of item i failed.
func (c txCancellation) conditionFailed(i int) bool { return c.code(i) == reasonConditionFailed }

// item is item i as it was when its condition failed, if the request asked
// for it with ReturnValuesOnConditionCheckFailure ALL_OLD; nil when the item
// did not exist (or its condition did not fail).
func (c txCancellation) item(i int) map[string]types.AttributeValue {
	if !c.conditionFailed(i) || len(c[i].Item) == 0 {
		return nil
	}
	return c[i].Item
}

// onlyConflicts reports whether the transaction was cancelled because other
// transactions touched its items, and by nothing that retrying cannot fix.
func (c txCancellation) onlyConflicts() bool {
	conflict := false
	for i := range c {
		switch c.code(i) {
		case reasonConflict:
			conflict = true
		case reasonNone, "":
		default:
			return false
		}
	}
	return conflict
}

// isConflict reports whether err is a write conflict that is worth retrying
// as it was: a transaction cancelled only by TransactionConflict reasons, or
// a single-item write refused because a transaction held the item.
func isConflict(err error) bool {
	if c, ok := cancellationReasons(err); ok {
		return c.onlyConflicts()
	}
	var tce *types.TransactionConflictException
	return errors.As(err, &tce)
}

// Retry schedule of retryConflicts: full jitter over an exponential backoff.
const (
	conflictAttempts = 25
	conflictBase     = 5 * time.Millisecond
	conflictCap      = 200 * time.Millisecond
)

// retryConflicts calls write until it returns something other than a write
// conflict (see isConflict), at most conflictAttempts times, sleeping a
// jittered, growing delay between tries. It returns write's last error, or
// the context's error if ctx ends while waiting. write must be safe to repeat:
// a conflict means none of its changes were applied.
func retryConflicts(ctx context.Context, write func() error) error {
	delay := conflictBase
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || attempt == conflictAttempts || !isConflict(err) {
			return err
		}
		t := time.NewTimer(rand.N(delay) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, conflictCap)
	}
}

// transactWrite runs TransactWriteItems with items, retrying conflicts with
// retryConflicts. Each try is a new request, so it gets its own idempotency
// token from the SDK (the SDK's own retries of one try keep theirs, which
// makes a try that timed out after committing safe to repeat). Read a
// cancellation's reasons from the returned error with cancellationReasons.
func (s *Store) transactWrite(ctx context.Context, items []types.TransactWriteItem) error {
	return retryConflicts(ctx, func() error {
		_, err := s.dynamo().TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	})
}
