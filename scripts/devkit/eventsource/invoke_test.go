package eventsource

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The bodies are what aws-lambda-rie answered for a Go handler that
// succeeded, reported a failure, returned an error, panicked and timed out.
func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    []string
		wantErr error
	}{
		{"all succeeded", 200, `{"batchItemFailures":null}`, []string{}, nil},
		{"empty list", 200, `{"batchItemFailures":[]}`, []string{}, nil},
		{"no response", 200, ``, nil, nil},
		{"null response", 200, `null`, nil, nil},
		{"partial failure", 200, `{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m3"}]}`, []string{"m1", "m3"}, nil},
		{"returned error", 200, `{"errorMessage":"boom","errorType":"errorString"}`, nil, ErrFunction},
		{"panic", 502, `{"errorMessage":"kaboom","errorType":"string","stackTrace":[]}`, nil, ErrFunction},
		{"timeout", 200, `Task timed out after 3.00 seconds`, nil, ErrFunction},
		{"not json", 200, `hello`, nil, ErrFunction},
		{"wrong shape", 200, `{"batchItemFailures":"m1"}`, nil, ErrFunction},
		{"empty identifier", 200, `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, ErrBadResponse},
		{"emulator busy", 400, ``, nil, ErrFunction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResponse(tt.status, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("parseResponse() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("parseResponse() ids (-got +want):\n%s", diff)
			}
		})
	}
}
