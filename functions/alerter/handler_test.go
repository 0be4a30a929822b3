package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

var attemptTime = time.Date(2026, 7, 15, 14, 45, 8, 0, time.UTC)

func alertMessage(hookID int64) delivery.AlertMessage {
	return delivery.AlertMessage{
		Kind: delivery.KindExhausted, ClientID: 116078, LoadID: "load-1", HookID: hookID,
		HookURL: "https://hooks.example.com/catch?token=s3cret", WebhookID: "msg_x",
		IntegrationName: "shopify", Tables: []string{"orders"},
		Attempts: []delivery.Attempt{{At: attemptTime, Outcome: "http_status", StatusCode: 503}},
	}
}

func record(t *testing.T, id string, m any) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(b), EventSource: "aws:sqs", EventSourceARN: alertsARN}
}

func batch(records ...events.SQSMessage) events.SQSEvent { return events.SQSEvent{Records: records} }

// failed returns the ids of the batch item failures.
func failed(t *testing.T, resp events.SQSEventResponse, err error) []string {
	t.Helper()
	if err != nil {
		t.Fatalf("handle returned a batch error: %v", err)
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// logLines parses the JSON log lines.
func (f *fixture) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(f.logs.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// hasLog reports whether a log line has message msg and every given
// attribute.
func (f *fixture) hasLog(t *testing.T, msg string, attrs map[string]any) bool {
	t.Helper()
	for _, l := range f.logLines(t) {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range attrs {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// checkLogsSafe fails if a log line holds an email address or an email body.
func (f *fixture) checkLogsSafe(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	if strings.Contains(logs, "@") {
		t.Errorf("logs hold an email address:\n%s", logs)
	}
	if strings.Contains(logs, "s3cret") || strings.Contains(logs, "What to do next") {
		t.Errorf("logs hold message or email content:\n%s", logs)
	}
}

func TestHandleSendsOneEmailPerAddress(t *testing.T) {
	f := newFixture(t, "ops@example.com", " OPS@example.com", "", "dev@example.com")
	resp, err := f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none", ids)
	}
	if b, _ := json.Marshal(resp); string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("response = %s, want an empty failure list", b)
	}
	if diff := cmp.Diff(f.ses.delivered, map[string]int{"ops@example.com": 1, "dev@example.com": 1}); diff != "" {
		t.Errorf("emails per address mismatch (-got +want):\n%s", diff)
	}
	for _, in := range f.ses.calls {
		if got := *in.FromEmailAddress; got != f.h.from {
			t.Errorf("From = %q, want %q", got, f.h.from)
		}
		if n := len(in.Destination.ToAddresses) + len(in.Destination.CcAddresses) + len(in.Destination.BccAddresses); n != 1 {
			t.Errorf("email has %d recipients, want 1", n)
		}
		s := in.Content.Simple
		if got, want := *s.Subject.Data, "Unable to Deliver Post Load Notification: shopify / orders"; got != want {
			t.Errorf("Subject = %q, want %q", got, want)
		}
		for name, c := range map[string]*types.Content{"subject": s.Subject, "text": s.Body.Text, "html": s.Body.Html} {
			if c == nil || c.Charset == nil || *c.Charset != "UTF-8" || c.Data == nil || *c.Data == "" {
				t.Errorf("%s: want UTF-8 content, got %+v", name, c)
			}
		}
		if !strings.Contains(*s.Body.Text.Data, "load-1") || !strings.Contains(*s.Body.Html.Data, "load-1") {
			t.Errorf("bodies lack the load id")
		}
	}
	if a := f.store.Alert(116078, "load-1", 8); a.Status != "sent" {
		t.Errorf("alert record = %+v, want sent", a)
	}
	if !f.hasLog(t, "alert sent", map[string]any{"messageId": "m1", "clientId": 116078, "hookId": 8, "loadId": "load-1", "recipients": 2, "sent": 2}) {
		t.Errorf("no \"alert sent\" log line with the ids:\n%s", f.logs)
	}
	f.checkLogsSafe(t)
}

func TestHandleDuplicateMessageSendsNothingMore(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	ev := batch(record(t, "m1", alertMessage(8)), record(t, "m2", alertMessage(8)))
	resp, err := f.h.handle(context.Background(), ev)
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none", ids)
	}
	// Redelivered later, in another batch.
	resp, err = f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("redelivery failures = %v, want none", ids)
	}
	if got := f.ses.delivered["ops@example.com"]; got != 1 {
		t.Errorf("emails sent = %d, want 1", got)
	}
	if !f.hasLog(t, "alert already sent, duplicate message acknowledged", map[string]any{"messageId": "m2"}) {
		t.Errorf("duplicate not logged:\n%s", f.logs)
	}
	// Another hook of the same load is another alert.
	resp, err = f.h.handle(context.Background(), batch(record(t, "m3", alertMessage(9))))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("failures = %v, want none", ids)
	}
	if got := f.ses.delivered["ops@example.com"]; got != 2 {
		t.Errorf("emails sent after an alert for another hook = %d, want 2", got)
	}
}

func TestHandleMalformedMessages(t *testing.T) {
	valid := func(edit func(m map[string]any)) string {
		b, _ := json.Marshal(alertMessage(8))
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		edit(m)
		b, _ = json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, body, reason string
	}{
		{"not json", "hello", "not valid JSON"},
		{"json array", "[1]", "message must be a JSON object"},
		{"empty object", "{}", "kind: required"},
		{"retry kind", valid(func(m map[string]any) { m["kind"] = "retry" }), "kind: must be exhausted, digest or reenabled"},
		{"client id missing", valid(func(m map[string]any) { delete(m, "client_id") }), "client_id: required"},
		{"client id string", valid(func(m map[string]any) { m["client_id"] = "116078" }), "client_id: must be an integer"},
		{"negative hook id", valid(func(m map[string]any) { m["hook_id"] = -1 }), "hook_id: must be a positive integer"},
		{"load id empty", valid(func(m map[string]any) { m["load_id"] = "" }), "load_id: must be 1 to 128 characters"},
		{"load id too long", valid(func(m map[string]any) { m["load_id"] = strings.Repeat("l", 129) }), "load_id: must be 1 to 128 characters"},
		{"no hook url", valid(func(m map[string]any) { delete(m, "hook_url") }), "hook_url: required"},
		{"no attempts", valid(func(m map[string]any) { m["attempts"] = []any{} }), "attempts: must not be empty"},
		// One key rule for every message reader.
		{"case-variant client id", valid(func(m map[string]any) { delete(m, "client_id"); m["Client_ID"] = 200 }), "client_id: case-variant key"},
		{"case-variant pair", strings.Replace(valid(func(map[string]any) {}), `"client_id":116078`, `"client_id":116078,"CLIENT_ID":200`, 1), "keys differ only in case"},
		{"repeated key", strings.Replace(valid(func(map[string]any) {}), `"client_id":116078`, `"client_id":116078,"client_id":200`, 1), "client_id: repeated key"},
		// One policy for the service's own messages: no key but their own.
		{"unknown key", valid(func(m map[string]any) { m["priority"] = "high" }), "unknown key"},
		{"unknown key in an attempt", strings.Replace(valid(func(map[string]any) {}), `"outcome":`, `"retry_after":5,"outcome":`, 1), "attempts[]: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "ops@example.com")
			resp, err := f.h.handle(context.Background(), batch(events.SQSMessage{MessageId: "bad", Body: tt.body, EventSourceARN: alertsARN}))
			// Moved to the alerts DLQ with its reason, and acknowledged.
			if ids := failed(t, resp, err); len(ids) != 0 {
				t.Errorf("failures = %v, want none (dead-lettered)", ids)
			}
			if diff := cmp.Diff(f.queue.all(), []deadLettered{{Queue: alertsDLQ, Body: tt.body, Reason: tt.reason}}); diff != "" {
				t.Errorf("dead-lettered (-got +want):\n%s", diff)
			}
			if f.store.Calls("Account") != 0 || f.store.Calls("ClaimAlert") != 0 || len(f.ses.calls) != 0 {
				t.Errorf("malformed message went further: %d account reads, %d claims, %d sends", f.store.Calls("Account"), f.store.Calls("ClaimAlert"), len(f.ses.calls))
			}
			if !f.hasLog(t, "malformed message", map[string]any{"messageId": "bad", "reason": tt.reason}) {
				t.Errorf("want log with reason %q, got:\n%s", tt.reason, f.logs)
			}
		})
	}
}

func TestHandleAcksWithoutSending(t *testing.T) {
	tests := []struct {
		name   string
		emails []string
		client int64
		msg    string
	}{
		{"unknown account", []string{"ops@example.com"}, 999, "alert for unknown account, dropped"},
		{"no alert addresses", nil, 116078, "account has no alert addresses, alert dropped"},
		{"only blank addresses", []string{"", "  "}, 116078, "account has no alert addresses, alert dropped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.emails...)
			m := alertMessage(8)
			m.ClientID = tt.client
			resp, err := f.h.handle(context.Background(), batch(record(t, "m1", m)))
			if ids := failed(t, resp, err); len(ids) != 0 {
				t.Errorf("failures = %v, want none (acknowledged)", ids)
			}
			if len(f.ses.calls) != 0 || f.store.Calls("ClaimAlert") != 0 {
				t.Errorf("%d sends, %d claims; want none", len(f.ses.calls), f.store.Calls("ClaimAlert"))
			}
			if !f.hasLog(t, tt.msg, map[string]any{"messageId": "m1", "clientId": tt.client}) {
				t.Errorf("want log %q, got:\n%s", tt.msg, f.logs)
			}
		})
	}
}

func TestHandleStoreFailures(t *testing.T) {
	boom := errors.New("dynamodb unavailable")
	tests := []struct {
		name        string
		setup       func(f *fixture)
		wantFail    bool
		wantSent    int
		wantLog     string
		wantRelease int
	}{
		{"account lookup fails", func(f *fixture) { f.store.Fail("Account", boom) }, true, 0, "account lookup failed", 0},
		{"claim fails", func(f *fixture) { f.store.Fail("ClaimAlert", boom) }, true, 0, "claim alert failed", 0},
		{"claim busy", func(f *fixture) { f.store.Fail("ClaimAlert", fmt.Errorf("claim: %w", store.ErrAlertBusy)) }, true, 0,
			"alert being sent by another invocation, retry later", 0},
		{"already sent", func(f *fixture) { f.store.Fail("ClaimAlert", fmt.Errorf("claim: %w", store.ErrAlertSent)) }, false, 0,
			"alert already sent, duplicate message acknowledged", 0},
		{"recording a recipient fails", func(f *fixture) { f.store.Fail("AlertSentTo", boom) }, true, 1, "record alert recipient failed", 1},
		{"finish fails", func(f *fixture) { f.store.Fail("FinishAlert", boom) }, true, 2, "finish alert failed", 0},
		{"release fails after a send failure", func(f *fixture) {
			f.ses.fail = func(string) error { return &types.TooManyRequestsException{Message: new("slow down")} }
			f.store.Fail("ReleaseAlert", boom)
		}, true, 0, "release alert claim failed", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "a@example.com", "b@example.com")
			tt.setup(f)
			resp, err := f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
			var want []string
			if tt.wantFail {
				want = []string{"m1"}
			}
			if diff := cmp.Diff(failed(t, resp, err), want, cmpEmpty); diff != "" {
				t.Errorf("failures mismatch (-got +want):\n%s", diff)
			}
			sent := 0
			for _, n := range f.ses.delivered {
				sent += n
			}
			if sent != tt.wantSent {
				t.Errorf("emails sent = %d, want %d", sent, tt.wantSent)
			}
			if f.store.Calls("ReleaseAlert") != tt.wantRelease {
				t.Errorf("releases = %d, want %d", f.store.Calls("ReleaseAlert"), tt.wantRelease)
			}
			if !f.hasLog(t, tt.wantLog, map[string]any{"messageId": "m1"}) {
				t.Errorf("want log %q, got:\n%s", tt.wantLog, f.logs)
			}
			f.checkLogsSafe(t)
		})
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestHandleTransientSESFailureRetriesEveryone(t *testing.T) {
	f := newFixture(t, "a@example.com", "b@example.com")
	f.ses.fail = func(string) error {
		return &types.TooManyRequestsException{Message: new("Maximum sending rate exceeded for a@example.com")}
	}
	resp, err := f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
	if diff := cmp.Diff(failed(t, resp, err), []string{"m1"}); diff != "" {
		t.Fatalf("failures mismatch (-got +want):\n%s", diff)
	}
	if len(f.ses.calls) != 1 {
		t.Errorf("SendEmail calls = %d, want 1 (stop at a transient failure)", len(f.ses.calls))
	}
	if a := f.store.Alert(116078, "load-1", 8); a.Status != "failed" || len(a.SentTo) != 0 {
		t.Errorf("alert record = %+v, want released with no recipient", a)
	}
	if !f.hasLog(t, "send alert failed", map[string]any{"errorClass": "transient", "errorCode": "TooManyRequestsException", "recipient": 0}) {
		t.Errorf("want a transient failure log, got:\n%s", f.logs)
	}
	f.checkLogsSafe(t) // the SES message quoting the address is not logged

	// The queue redelivers; SES works again.
	f.ses.fail = nil
	resp, err = f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Fatalf("redelivery failures = %v, want none", ids)
	}
	if diff := cmp.Diff(f.ses.delivered, map[string]int{"a@example.com": 1, "b@example.com": 1}); diff != "" {
		t.Errorf("emails per address mismatch (-got +want):\n%s", diff)
	}
}

func TestHandlePermanentSESFailureGoesOnThenFails(t *testing.T) {
	f := newFixture(t, "bad@example.com", "good@example.com")
	f.ses.fail = func(rcpt string) error {
		if rcpt == "bad@example.com" {
			return &types.MessageRejected{Message: new("Email address is not verified: bad@example.com")}
		}
		return nil
	}
	for receive := 1; receive <= 3; receive++ {
		resp, err := f.h.handle(context.Background(), batch(record(t, "m1", alertMessage(8))))
		// Failed every time, so the redrive policy moves it to the DLQ.
		if diff := cmp.Diff(failed(t, resp, err), []string{"m1"}); diff != "" {
			t.Fatalf("receive %d: failures mismatch (-got +want):\n%s", receive, diff)
		}
	}
	if diff := cmp.Diff(f.ses.delivered, map[string]int{"good@example.com": 1}); diff != "" {
		t.Errorf("emails per address mismatch (-got +want):\n%s", diff)
	}
	if got := len(f.ses.calls); got != 4 {
		t.Errorf("SendEmail calls = %d, want 4 (good once, bad on each of 3 receives)", got)
	}
	if !f.hasLog(t, "send alert failed", map[string]any{"errorClass": "permanent", "errorCode": "MessageRejected", "recipient": 0}) {
		t.Errorf("want a permanent failure log, got:\n%s", f.logs)
	}
	f.checkLogsSafe(t)
}

func TestHandleBatchReportsOnlyFailedRecords(t *testing.T) {
	for _, dlqUp := range []bool{true, false} {
		t.Run(fmt.Sprintf("dead-letter queue up %v", dlqUp), func(t *testing.T) {
			f := newFixture(t, "ops@example.com")
			if !dlqUp {
				f.queue.err = errors.New("queue unavailable")
			}
			other := alertMessage(8)
			other.ClientID = 555 // unknown: acknowledged
			ev := batch(
				record(t, "ok", alertMessage(8)),
				events.SQSMessage{MessageId: "malformed", Body: "{", EventSourceARN: alertsARN},
				record(t, "unknown", other),
				record(t, "ok2", alertMessage(9)),
			)
			resp, err := f.h.handle(context.Background(), ev)
			// The malformed record fails only when it cannot be dead-lettered.
			want := []string{}
			if !dlqUp {
				want = []string{"malformed"}
			}
			if diff := cmp.Diff(failed(t, resp, err), want, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("failures mismatch (-got +want):\n%s", diff)
			}
			if got := f.ses.delivered["ops@example.com"]; got != 2 {
				t.Errorf("emails = %d, want 2", got)
			}
			if got := f.queue.all(); len(got) != 1 || got[0].Body != "{" || got[0].Reason != "not valid JSON" {
				t.Errorf("dead-letter sends = %+v, want the malformed record with its reason", got)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	httpErr := func(status int, err error) error {
		return &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		}}
	}
	generic := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		name      string
		err       error
		wantClass string
		wantCode  string
	}{
		{"message rejected", httpErr(400, &types.MessageRejected{Message: new("x")}), classPermanent, "MessageRejected"},
		{"mail from not verified", httpErr(400, &types.MailFromDomainNotVerifiedException{}), classPermanent, "MailFromDomainNotVerifiedException"},
		{"bad request", httpErr(400, &types.BadRequestException{}), classPermanent, "BadRequestException"},
		{"account suspended", httpErr(400, &types.AccountSuspendedException{}), classPermanent, "AccountSuspendedException"},
		{"unknown 400", httpErr(400, generic("UnknownError")), classPermanent, "UnknownError"},
		{"throttled", httpErr(429, &types.TooManyRequestsException{}), classTransient, "TooManyRequestsException"},
		{"quota", httpErr(400, &types.LimitExceededException{}), classTransient, "LimitExceededException"},
		{"sending paused", httpErr(400, &types.SendingPausedException{}), classTransient, "SendingPausedException"},
		{"internal error", httpErr(500, &types.InternalServiceErrorException{}), classTransient, "InternalServiceErrorException"},
		{"unknown 503", httpErr(503, generic("ServiceUnavailable")), classTransient, "ServiceUnavailable"},
		{"network", &smithy.OperationError{ServiceID: "SESv2", Err: errors.New("dial tcp: connection refused")}, classTransient, ""},
		{"deadline", context.DeadlineExceeded, classTransient, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, code := classify(tt.err)
			if class != tt.wantClass || code != tt.wantCode {
				t.Errorf("classify() = %q, %q; want %q, %q", class, code, tt.wantClass, tt.wantCode)
			}
		})
	}
}

func TestRecipients(t *testing.T) {
	got := recipients([]string{" a@example.com ", "A@EXAMPLE.COM", "", "b@example.com", "a@example.com"})
	if diff := cmp.Diff(got, []string{"a@example.com", "b@example.com"}); diff != "" {
		t.Errorf("recipients mismatch (-got +want):\n%s", diff)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := loadConfig(env(map[string]string{"HOOKS_TABLE": "hooks", "ALERT_FROM_ADDRESS": "Hooks <alerts@example.net>", "HOOKS_ALERT_QUEUE_ARN": alertsARN, "HOOKS_ALERTS_DLQ_URL": alertsDLQ,
		"HOOKS_ALERT_QUEUE_URL": alertsURL, "HOOKS_APP_URL": appURL + "/", "HOOKS_UNSUBSCRIBE_KEY": testKey, "HOOKS_DIGEST_WINDOW": "2m",
		"HOOKS_RETRY_QUEUE_URL": retriesURL, "HOOKS_AUTO_DISABLE_AFTER": "3m", "HOOKS_AUTO_DISABLE_MIN_EXHAUSTED": "4",
		"HOOKS_FRESHNESS_CHECK_EVERY": "30s", "HOOKS_PROBE_DELAYS": "10s,1m", "HOOKS_PROBE_FOR": "10m"}))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if diff := cmp.Diff(c, config{table: "hooks", from: "Hooks <alerts@example.net>", alertQueueARN: alertsARN, deadLetterURL: alertsDLQ,
		alertQueueURL: alertsURL, digestWindow: 2 * time.Minute, appURL: appURL, unsubscribeKey: []byte(testKey),
		retryQueueURL: retriesURL, autoDisable: hook.AutoDisable{After: 3 * time.Minute, MinExhausted: 4},
		probes:     hook.ProbeSchedule{Delays: []time.Duration{10 * time.Second, time.Minute}, For: 10 * time.Minute},
		checkEvery: 30 * time.Second}, cmp.AllowUnexported(config{})); diff != "" {
		t.Errorf("config mismatch (-got +want):\n%s", diff)
	}

	c, err = loadConfig(env(map[string]string{"HOOKS_TABLE": "hooks", "ALERT_FROM_ADDRESS": "a@example.net", "HOOKS_ALERT_QUEUE_ARN": alertsARN,
		"HOOKS_ALERTS_DLQ_URL": alertsDLQ}))
	if err != nil || !cmp.Equal(c.probes, hook.DefaultProbeSchedule()) {
		t.Errorf("probes unset = %v, %v; want the dispatcher's default", c.probes, err)
	}
	_, err = loadConfig(env(map[string]string{"HOOKS_TABLE": "hooks", "ALERT_FROM_ADDRESS": "a@example.net", "HOOKS_ALERT_QUEUE_ARN": alertsARN,
		"HOOKS_ALERTS_DLQ_URL": alertsDLQ, "HOOKS_PROBE_DELAYS": "1m,x", "HOOKS_PROBE_FOR": "-1h"}))
	if err == nil || !strings.Contains(err.Error(), "HOOKS_PROBE_DELAYS") || !strings.Contains(err.Error(), "HOOKS_PROBE_FOR") {
		t.Errorf("bad probe schedule: %v, want both variables refused", err)
	}
	_, err = loadConfig(env(nil))
	if err == nil || !strings.Contains(err.Error(), "HOOKS_TABLE, ALERT_FROM_ADDRESS, HOOKS_ALERT_QUEUE_ARN, HOOKS_ALERTS_DLQ_URL") {
		t.Errorf("loadConfig(empty) = %v, want both variables named", err)
	}
	_, err = loadConfig(env(map[string]string{"ALERT_FROM_ADDRESS": "not an address"}))
	if err == nil || !strings.Contains(err.Error(), "HOOKS_TABLE") || !strings.Contains(err.Error(), "ALERT_FROM_ADDRESS: not an email address") {
		t.Errorf("loadConfig(bad from, no table) = %v, want both problems", err)
	}
	for _, bad := range []string{"soon", "500ms", "-1m"} {
		_, err = loadConfig(env(map[string]string{"HOOKS_TABLE": "hooks", "ALERT_FROM_ADDRESS": "a@example.net", "HOOKS_ALERT_QUEUE_ARN": alertsARN,
			"HOOKS_ALERTS_DLQ_URL": alertsDLQ, "HOOKS_FRESHNESS_CHECK_EVERY": bad}))
		if err == nil || !strings.Contains(err.Error(), "HOOKS_FRESHNESS_CHECK_EVERY") {
			t.Errorf("HOOKS_FRESHNESS_CHECK_EVERY=%q: %v, want it refused", bad, err)
		}
	}
}

// TestLoadConfigDigestWindow: digests are on for an hour when nothing is
// set, as in production; "0" or no queue of its own turns them off; a
// duration that is not one, or negative, stops the cold start.
func TestLoadConfigDigestWindow(t *testing.T) {
	base := map[string]string{"HOOKS_TABLE": "hooks", "ALERT_FROM_ADDRESS": "a@example.net", "HOOKS_ALERT_QUEUE_ARN": alertsARN,
		"HOOKS_ALERTS_DLQ_URL": alertsDLQ, "HOOKS_ALERT_QUEUE_URL": alertsURL}
	with := func(k, v string) func(string) string {
		m := maps.Clone(base)
		m[k] = v
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name string
		env  func(string) string
		want time.Duration
	}{
		{"unset", with("HOOKS_DIGEST_WINDOW", ""), time.Hour},
		{"shortened", with("HOOKS_DIGEST_WINDOW", "2m"), 2 * time.Minute},
		{"off", with("HOOKS_DIGEST_WINDOW", "0"), 0},
		{"no queue of its own", with("HOOKS_ALERT_QUEUE_URL", ""), 0},
	} {
		c, err := loadConfig(tc.env)
		if err != nil {
			t.Fatalf("%s: loadConfig: %v", tc.name, err)
		}
		if c.digestWindow != tc.want {
			t.Errorf("%s: digest window = %v, want %v", tc.name, c.digestWindow, tc.want)
		}
	}
	for _, bad := range []string{"hourly", "-1h"} {
		if _, err := loadConfig(with("HOOKS_DIGEST_WINDOW", bad)); err == nil || !strings.Contains(err.Error(), "HOOKS_DIGEST_WINDOW") {
			t.Errorf("HOOKS_DIGEST_WINDOW=%q: %v, want it refused", bad, err)
		}
	}
}

// TestHandleRefusesOtherQueues is the forged-message attack for the alerter: an
// alert message is read only from the alerts queue, whatever it holds.
func TestHandleRefusesOtherQueues(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	r := record(t, "foreign", alertMessage(8))
	r.EventSourceARN = "arn:aws:sqs:us-east-1:123456789012:post-load-notifications"
	resp, err := f.h.handle(context.Background(), batch(r))
	if ids := failed(t, resp, err); len(ids) != 0 {
		t.Errorf("failures = %v, want none (dead-lettered)", ids)
	}
	if diff := cmp.Diff(f.queue.all(), []deadLettered{{Queue: alertsDLQ, Body: r.Body, Reason: "event source: not the alerts queue"}}); diff != "" {
		t.Errorf("dead-lettered (-got +want):\n%s", diff)
	}
	if f.store.Calls("Account") != 0 || f.store.Calls("ClaimAlert") != 0 || len(f.ses.calls) != 0 {
		t.Errorf("foreign record went further: %d account reads, %d claims, %d sends", f.store.Calls("Account"), f.store.Calls("ClaimAlert"), len(f.ses.calls))
	}
	if !f.hasLog(t, "malformed message", map[string]any{"messageId": "foreign", "reason": "event source: not the alerts queue"}) {
		t.Errorf("want the reason logged, got:\n%s", f.logs)
	}
}

// TestDeadLetterSendFailureIsRetried: when the dead-letter queue cannot
// take a malformed record, the record is failed, so SQS delivers it again
// (and the queue's redrive policy ends the loop); valid records beside it
// are sent.
func TestDeadLetterSendFailureIsRetried(t *testing.T) {
	f := newFixture(t, "ops@example.com")
	f.queue.err = errors.New("queue unavailable")
	resp, err := f.h.handle(context.Background(), batch(
		events.SQSMessage{MessageId: "bad", Body: "{}", EventSourceARN: alertsARN}, record(t, "m1", alertMessage(8))))
	if diff := cmp.Diff(failed(t, resp, err), []string{"bad"}); diff != "" {
		t.Errorf("failures mismatch (-got +want):\n%s", diff)
	}
	if n := len(f.queue.all()); n != 1 {
		t.Errorf("%d dead-letter sends, want 1", n)
	}
	if !f.hasLog(t, "malformed message", map[string]any{"messageId": "bad", "reason": "kind: required"}) ||
		!f.hasLog(t, "dead-letter send failed", map[string]any{"messageId": "bad"}) {
		t.Errorf("want the reason and the failed send logged, got:\n%s", f.logs)
	}
	if got := f.ses.delivered["ops@example.com"]; got != 1 {
		t.Errorf("emails for the valid record = %d, want 1", got)
	}
}
