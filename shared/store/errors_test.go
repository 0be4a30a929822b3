package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func canceled(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		if c != "" {
			reasons[i].Code = aws.String(c)
		}
	}
	// Wrapped, as the SDK's operation error wraps it.
	return fmt.Errorf("operation error: %w", &types.TransactionCanceledException{CancellationReasons: reasons})
}

func TestIsConflict(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"other error", errors.New("boom"), false},
		{"conflict only", canceled(reasonNone, reasonConflict, reasonNone), true},
		{"conflict without codes elsewhere", canceled("", reasonConflict), true},
		{"condition failed and conflict", canceled(reasonConditionFailed, reasonConflict), false},
		{"condition failed", canceled(reasonNone, reasonConditionFailed), false},
		{"throttled item", canceled(reasonConflict, "ThrottlingError"), false},
		{"no reason at all", canceled(reasonNone, reasonNone), false},
		{"single-item write blocked by a transaction", fmt.Errorf("op: %w", &types.TransactionConflictException{}), true},
		{"condition failed, single item", &types.ConditionalCheckFailedException{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isConflict(tt.err); got != tt.want {
				t.Errorf("isConflict(%v): got %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestTxCancellation(t *testing.T) {
	old := map[string]types.AttributeValue{"pk": attrS("CLIENT#1")}
	err := fmt.Errorf("op: %w", &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String(reasonConditionFailed), Item: old},
		{Code: aws.String(reasonConditionFailed)},
		{Code: aws.String(reasonNone), Item: old},
	}})
	c, ok := cancellationReasons(err)
	if !ok {
		t.Fatal("cancellationReasons: not recognised")
	}
	tests := []struct {
		i         int
		failed    bool
		wantsItem bool
	}{
		{0, true, true},
		{1, true, false},  // the item did not exist
		{2, false, false}, // only failed conditions report the item
		{3, false, false}, // out of range
		{-1, false, false},
	}
	for _, tt := range tests {
		if got := c.conditionFailed(tt.i); got != tt.failed {
			t.Errorf("conditionFailed(%d): got %v, want %v", tt.i, got, tt.failed)
		}
		if got := c.item(tt.i) != nil; got != tt.wantsItem {
			t.Errorf("item(%d) present: got %v, want %v", tt.i, got, tt.wantsItem)
		}
	}
	if _, ok := cancellationReasons(errors.New("boom")); ok {
		t.Error("cancellationReasons recognised a plain error")
	}
}

func TestConditionFailed(t *testing.T) {
	old := map[string]types.AttributeValue{"pk": attrS("CLIENT#1")}
	tests := []struct {
		name     string
		err      error
		failed   bool
		wantItem bool
	}{
		{"with old item", fmt.Errorf("op: %w", &types.ConditionalCheckFailedException{Item: old}), true, true},
		{"item did not exist", &types.ConditionalCheckFailedException{}, true, false},
		{"other error", errors.New("boom"), false, false},
		{"cancelled transaction", canceled(reasonConditionFailed), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isConditionFailed(tt.err); got != tt.failed {
				t.Errorf("isConditionFailed: got %v, want %v", got, tt.failed)
			}
			if got := conditionFailedItem(tt.err) != nil; got != tt.wantItem {
				t.Errorf("conditionFailedItem present: got %v, want %v", got, tt.wantItem)
			}
		})
	}
}

func TestRetryConflicts(t *testing.T) {
	conflict := canceled(reasonConflict)
	final := errors.New("final")
	tests := []struct {
		name      string
		results   []error // what write returns on each call; the last repeats
		wantErr   error
		wantCalls int
	}{
		{"success at once", []error{nil}, nil, 1},
		{"success after conflicts", []error{conflict, conflict, conflict, nil}, nil, 4},
		{"other error is not retried", []error{final}, final, 1},
		{"other error after a conflict", []error{conflict, final}, final, 2},
		{"gives up", []error{conflict}, conflict, conflictAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryConflicts(context.Background(), func() error {
				r := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return r
			})
			if err != tt.wantErr {
				t.Errorf("error: got %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", calls, tt.wantCalls)
			}
		})
	}

	t.Run("context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := retryConflicts(ctx, func() error {
			calls++
			cancel()
			return conflict
		})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("got %v after %d calls, want context.Canceled after 1", err, calls)
		}
	})
}
