package delivery

import (
	"strings"
	"testing"
)

// TestAlertAttemptCount: attempt_count is optional (messages of earlier
// versions), round-trips, and is refused when not a positive integer up to
// MaxAttemptCount; AlertLoadID keeps one key per sequence.
func TestAlertAttemptCount(t *testing.T) {
	m := AlertMessage{Kind: KindExhausted, ClientID: 1, LoadID: "L1", HookID: 2, HookURL: "https://h.example/x", WebhookID: "msg_1",
		IntegrationName: "shopify", Tables: []string{"orders"}, Attempts: []Attempt{{Outcome: OutcomeHTTPStatus, StatusCode: 500}}}
	old := string(m.Encode())
	if strings.Contains(old, "attempt_count") {
		t.Errorf("a message without a count encodes one: %s", old)
	}
	if got, err := DecodeAlert([]byte(old)); err != nil || got.AttemptCount != 0 {
		t.Errorf("earlier message: %+v, %v", got, err)
	}
	m.AttemptCount = 12
	if got, err := DecodeAlert(m.Encode()); err != nil || got.AttemptCount != 12 {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{`0`, `-6`, `6.5`, `"6"`, `null`, `10001`} {
		raw := strings.TrimSuffix(old, "}") + `,"attempt_count":` + bad + `}`
		if _, err := DecodeAlert([]byte(raw)); err == nil {
			t.Errorf("attempt_count %s accepted", bad)
		}
	}
	keys := map[string]bool{}
	for _, n := range []int{0, 6, 12, 18} {
		k := AlertLoadID("L1", n)
		if keys[k] {
			t.Errorf("AlertLoadID(L1, %d) = %q repeats", n, k)
		}
		keys[k] = true
	}
	if AlertLoadID("L1", 0) != "L1" {
		t.Errorf("an earlier message's alert moved key")
	}
}

// TestAlertEventAndSequence: event and sequence (the headers the delivery's
// requests carried) are optional, for messages of earlier versions and
// event notifications, round-trip, and are refused when not a non-empty
// string and a positive integer.
func TestAlertEventAndSequence(t *testing.T) {
	m := AlertMessage{Kind: KindExhausted, ClientID: 1, LoadID: "L1", HookID: 2, HookURL: "https://h.example/x", WebhookID: "msg_1",
		IntegrationName: "shopify", Tables: []string{"orders"}, Attempts: []Attempt{{Outcome: OutcomeHTTPStatus, StatusCode: 500}}}
	old := string(m.Encode())
	if strings.Contains(old, `"event"`) || strings.Contains(old, `"sequence"`) {
		t.Errorf("a message without event or sequence encodes them: %s", old)
	}
	if got, err := DecodeAlert([]byte(old)); err != nil || got.Event != "" || got.Sequence != 0 {
		t.Errorf("earlier message: %+v, %v", got, err)
	}
	for _, tt := range []struct {
		event string
		seq   int64
	}{{"table_loaded", 42}, {"run_completed", 0}} {
		m.Event, m.Sequence = tt.event, tt.seq
		enc := m.Encode()
		got, err := DecodeAlert(enc)
		if err != nil || got.Event != tt.event || got.Sequence != tt.seq || string(got.Encode()) != string(enc) {
			t.Errorf("round trip of %s: %+v, %v", enc, got, err)
		}
	}
	for _, bad := range []string{
		`"event":""`, `"event":null`, `"event":7`, `"event":["table_loaded"]`, `"Event":"table_loaded"`,
		`"sequence":0`, `"sequence":-3`, `"sequence":4.5`, `"sequence":"4"`, `"sequence":null`, `"Sequence":4`,
	} {
		raw := strings.TrimSuffix(old, "}") + `,` + bad + `}`
		if _, err := DecodeAlert([]byte(raw)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
