package eventsource

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Handler turns an in-process handler's answer into what Invoke reports,
// as Lambda reads a function's batch response.
func TestHandler(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1"}, {MessageId: "m2"}}}
	boom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		resp    events.SQSEventResponse
		err     error
		want    []string
		wantErr error
	}{
		{"all succeeded", events.SQSEventResponse{}, nil, []string{}, nil},
		{"one failed", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}}}, nil, []string{"m2"}, nil},
		{"empty itemIdentifier", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ""}}}, nil, nil, ErrBadResponse},
		{"handler error", events.SQSEventResponse{}, boom, nil, ErrFunction},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got events.SQSEvent
			fn := Handler(func(_ context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
				got = e
				return tt.resp, tt.err
			})
			ids, err := fn.Invoke(context.Background(), ev)
			if !errors.Is(err, tt.wantErr) || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Errorf("Invoke error = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Invoke ids = %q, want %q", ids, tt.want)
			}
			if len(got.Records) != 2 {
				t.Errorf("the handler got %d records, want the batch's 2", len(got.Records))
			}
		})
	}
}
