package eventsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ErrFunction is an invocation that ran and failed: a returned error, a
// panic, a timeout or a response that is not a batch response.
var ErrFunction = errors.New("function error")

// Invoker posts events to an invoke URL (a scripts/devkit/cmd/riepool, or one
// aws-lambda-rie), as many at once as the pollers send.
type Invoker struct {
	URL    string
	Client *http.Client
}

// Invoke implements Function.
func (v *Invoker) Invoke(ctx context.Context, ev events.SQSEvent) ([]string, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	status, body, err := v.post(ctx, payload)
	if err != nil {
		return nil, err
	}
	return parseResponse(status, body)
}

// InvokeScheduled posts a scheduled event (see Schedule): the function must
// answer null. A returned error, a timeout or a crash is ErrFunction.
func (v *Invoker) InvokeScheduled(ctx context.Context, payload []byte) error {
	status, body, err := v.post(ctx, payload)
	if err != nil {
		return err
	}
	if _, err := parseResponse(status, body); err != nil {
		return err
	}
	return nil
}

// post sends one event and reads the emulator's answer.
func (v *Invoker) post(ctx context.Context, payload []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := v.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: read response: %w", err)
	}
	return resp.StatusCode, body, nil
}

// parseResponse reads an emulator response as Lambda's event source mapping
// reads a function's result. aws-lambda-rie answers 200 for a function that
// returned an error (body {"errorMessage":..,"errorType":..}) and for a
// timeout (body "Task timed out after N.00 seconds"), 502 for a crash.
func parseResponse(status int, body []byte) ([]string, error) {
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: emulator status %d: %s", ErrFunction, status, snippet(body))
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil // no response: every record succeeded
	}
	if bytes.HasPrefix(trimmed, []byte("Task timed out")) {
		return nil, fmt.Errorf("%w: %s", ErrFunction, snippet(trimmed))
	}
	var probe struct {
		ErrorType    *string `json:"errorType"`
		ErrorMessage *string `json:"errorMessage"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, fmt.Errorf("%w: response is not JSON: %s", ErrFunction, snippet(trimmed))
	}
	if probe.ErrorType != nil || probe.ErrorMessage != nil {
		return nil, fmt.Errorf("%w: %s", ErrFunction, snippet(trimmed))
	}
	var r events.SQSEventResponse
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return nil, fmt.Errorf("%w: response is not a batch response: %s", ErrFunction, snippet(trimmed))
	}
	return failedIDs(r)
}

// failedIDs returns the itemIdentifiers of a batch response; an empty one
// fails the whole batch.
func failedIDs(r events.SQSEventResponse) ([]string, error) {
	ids := make([]string, 0, len(r.BatchItemFailures))
	for _, f := range r.BatchItemFailures {
		if f.ItemIdentifier == "" {
			return nil, fmt.Errorf("%w: empty itemIdentifier", ErrBadResponse)
		}
		ids = append(ids, f.ItemIdentifier)
	}
	return ids, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
