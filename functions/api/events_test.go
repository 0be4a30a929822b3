package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/apigw"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// fixtureToken is the member token in events/api-*.json.
const fixtureToken = "plh_c2FtcGxlLXRva2VuLWZvci1zYW0tbG9jYWwtaW52b2tl"

// TestEventFixtures runs every events/api-*.json (the `sam local invoke`
// samples) through the real handler in Lambda mode, so they never go stale.
func TestEventFixtures(t *testing.T) {
	hook8 := func(disabledAt string) string {
		reason := `"member"`
		if disabledAt == "null" {
			reason = "null"
		}
		return `{"id":8,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,` +
			`"config":{"url":"https://hooks.example.com/catch/abc"},` +
			`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","disabled_at":` + disabledAt + `,"disabled_reason":` + reason + `,"filter":null,"events":["table_loaded"]}`
	}
	// seed prepares the fake store: account 116078 (advanced) whose member
	// holds fixtureToken, and hook 8 when hook is set.
	type seed struct {
		account      bool
		hook         bool
		hookDisabled bool
		delivery     bool // an exhausted delivery of exhaustedLoad to hook 8
		testHook     bool // hook 9, where api-test-hook.json sends
	}
	const exhaustedLoad = "b2f6c1d0-7a3e-4c51-9f7e-exhausted"
	delivery8 := func(status, body string) string {
		j := `{"id":"` + delivery.ID(exhaustedLoad) + `","load_id":"` + exhaustedLoad + `","integration_name":"shopify","tables":["orders"],` +
			`"status":"` + status + `","webhook_id":"` + hook.WebhookID(116078, exhaustedLoad, 8) + `","created_at":"2026-07-16T16:47:54Z",` +
			`"attempts":[{"at":"2026-07-16T16:47:54Z","outcome":"http_status","status_code":500,"latency_ms":9,"response_snippet":"down"}]`
		if body != "" {
			b, _ := json.Marshal(body)
			j += `,"body":` + string(b)
		}
		return j + "}"
	}
	tests := map[string]struct {
		seed       seed
		wantStatus int
		wantBody   string // exact; for create, without the secret
	}{
		"api-create-hook.json": {seed{account: true}, 200,
			`{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"https://hooks.example.com/catch/abc"},` +
				`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","disabled_at":null,"disabled_reason":null,"filter":null,"events":["table_loaded"],"secret":"<secret>"}`},
		"api-list-hooks.json":   {seed{account: true, hook: true}, 200, `{"post_load":[` + hook8("null") + "]}"},
		"api-enable-hook.json":  {seed{account: true, hook: true, hookDisabled: true}, 200, hook8("null")},
		"api-disable-hook.json": {seed{account: true, hook: true}, 200, hook8(`"2026-07-16T16:47:54Z"`)},
		"api-delete-hook.json":  {seed{account: true, hook: true}, 200, "null"},
		"api-get-hook.json":     {seed{account: true, hook: true}, 200, hook8("null")},
		"api-list-deliveries.json": {seed{account: true, hook: true, delivery: true}, 200,
			`{"data":[` + delivery8("exhausted", "") + `],"next_cursor":null}`},
		"api-get-delivery.json":    {seed{account: true, hook: true, delivery: true}, 200, delivery8("exhausted", exampleNotification)},
		"api-resend-delivery.json": {seed{account: true, hook: true, delivery: true}, 202, delivery8("attempting", "")},
		"api-replay.json":          {seed{account: true, hook: true, delivery: true}, 202, `{"replayed":1}`},
		"api-rotate-secret.json":   {seed{account: true, hook: true}, 200, `{"secret":"<secret>","previous_secret_expires_at":"2026-07-17T16:47:54Z"}`},
		"api-test-hook.json": {seed{account: true, testHook: true}, 200,
			`{"attempt":{"at":"2026-07-16T16:47:54Z","outcome":"success","status_code":204,"latency_ms":5,"response_snippet":""}}`},
		"api-admin-create-account.json": {seed{}, 201,
			`{"client_id":116078,"plan":"advanced","alert_emails":["ops@example.com"],"destinations":[{"id":12345,"type":"s3"}],"api_access":true,"auto_disable":true,"hook_count":0,` +
				`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z"}`},
	}

	files, err := filepath.Glob("../../events/api-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(tests) {
		t.Errorf("found %d fixtures, want at least %d", len(files), len(tests))
	}
	secretRE := regexp.MustCompile(`"secret":"whsec_[A-Za-z0-9+/]{43}="`)
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			tt, ok := tests[name]
			if !ok {
				t.Fatalf("no expectation for %s: add one to this test", name)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			if ev.Version != "2.0" || ev.RouteKey == "" || ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
				t.Errorf("%s is not a complete payload 2.0 event", name)
			}

			st := newTestStore(func() time.Time { return testNow })
			if tt.seed.account {
				st.seedAccount(116078, "advanced", "member0", fixtureToken)
			}
			if tt.seed.hook {
				st.seedHookID(116078, 8, "https://hooks.example.com/catch/abc", tt.seed.hookDisabled)
			}
			if tt.seed.delivery {
				seedLoadDelivery(t, st, 116078, exhaustedLoad, delivery.StatusExhausted, 8)
			}
			if tt.seed.testHook {
				st.seedHookID(116078, 9, "https://hooks.example.com/catch/9", false)
			}
			h := testRoutes(t, discardLogger(), st, iamAdmin, hooksConfig{retries: &fakeQueue{}, sender: &fakeSender{},
				now: func() time.Time { return testNow.Add(24 * time.Hour) }})

			res, err := apigw.Wrap(h)(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			// The body exactly as API Gateway would send it: nothing after
			// the closing brace.
			body := secretRE.ReplaceAllString(res.Body, `"secret":"<secret>"`)
			checkResponse(t, res.StatusCode, body, tt.wantStatus, tt.wantBody)
			if got := res.Headers["Content-Type"]; got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}
