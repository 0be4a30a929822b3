package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of GET and PUT .../freshness on the in-memory store.

const freshnessPath = hook.FreshnessPath

func TestFreshnessRules(t *testing.T) {
	api := newTestAPI(t)
	status, body := api.do(t, "GET", freshnessPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, `[]`)

	status, body = api.do(t, "PUT", freshnessPath, bearer(tokenA),
		`[{"integration_name":"shopify","table":"orders","max_interval":"2h"},{"max_interval":"90m","table":"customers","integration_name":"shopify"}]`)
	first := `{"integration_name":"shopify","table":"orders","max_interval":"2h","created_at":"2026-07-16T16:47:54Z"}`
	checkResponse(t, status, body, http.StatusOK, `[`+first+`,{"integration_name":"shopify","table":"customers","max_interval":"90m","created_at":"2026-07-16T16:47:54Z"}]`)

	// A later PUT keeps the creation time of a table still ruled (even with
	// a new interval), and times the new ones now.
	api.store.now = func() time.Time { return testNow.Add(time.Hour) }
	status, body = api.do(t, "PUT", freshnessPath, bearer(tokenA),
		`[{"integration_name":"stripe","table":"charges","max_interval":"168h"},{"integration_name":"shopify","table":"orders","max_interval":"1h30m"}]`)
	want := `[{"integration_name":"stripe","table":"charges","max_interval":"168h","created_at":"2026-07-16T17:47:54Z"},` +
		`{"integration_name":"shopify","table":"orders","max_interval":"1h30m","created_at":"2026-07-16T16:47:54Z"}]`
	checkResponse(t, status, body, http.StatusOK, want)
	status, body = api.do(t, "GET", freshnessPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, want)

	// Another account sees its own (none).
	status, body = api.do(t, "GET", freshnessPath, bearer(tokenB), "")
	checkResponse(t, status, body, http.StatusOK, `[]`)

	status, body = api.do(t, "PUT", freshnessPath, bearer(tokenA), `[]`)
	checkResponse(t, status, body, http.StatusOK, `[]`)
	status, body = api.do(t, "GET", freshnessPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, `[]`)
}

func TestFreshnessRulesInvalid(t *testing.T) {
	api := newTestAPI(t)
	rule := func(integration, table, interval string) string {
		return fmt.Sprintf(`{"integration_name":%q,"table":%q,"max_interval":%q}`, integration, table, interval)
	}
	ok := rule("shopify", "orders", "2h")
	many := strings.Repeat(ok+",", hook.MaxFreshnessRules) + ok
	invalid := func(msg string) string { return `{"data":{"message":"` + msg + `"},"error":"InvalidBody"}` }
	keys := "must be an object with exactly integration_name, table and max_interval"
	for _, tt := range []struct{ body, want string }{
		{``, invalid("Body must be a JSON array of rules")},
		{`{}`, invalid("Body must be a JSON array of rules")},
		{`null`, invalid("Body must be a JSON array of rules")},
		{`[` + ok + `]x`, invalid("Body must be a JSON array of rules")},
		{`[{"integration_name":"a","integration_name":"b","table":"t","max_interval":"1h"}]`, invalid("Body must be a JSON array of rules")},
		{`[` + many + `]`, invalid("At most 100 rules are allowed")},
		{`[` + ok + `,1]`, invalid("Rule 2 " + keys)},
		{`[{"integration_name":"shopify","table":"orders"}]`, invalid("Rule 1 " + keys)},
		{`[{"integration_name":"shopify","table":"orders","max_interval":"2h","x":1}]`, invalid("Rule 1 " + keys)},
		{`[{"Integration_name":"shopify","table":"orders","max_interval":"2h"}]`, invalid("Rule 1 " + keys)},
		{`[{"integration_name":1,"table":"orders","max_interval":"2h"}]`, invalid("Rule 1: integration_name must be a string")},
		{`[{"integration_name":"s","table":null,"max_interval":"2h"}]`, invalid("Rule 1: table must be a string")},
		{`[{"integration_name":"s","table":"t","max_interval":7200}]`, invalid("Rule 1: max_interval must be a string")},
		{`[` + rule("", "orders", "2h") + `]`, invalid("Rule 1: integration_name must be 1 to 256 bytes")},
		{`[` + rule("s", strings.Repeat("t", 257), "2h") + `]`, invalid("Rule 1: table must be 1 to 256 bytes")},
		{`[` + rule("s", "t", "2 hours") + `]`, invalid(`Rule 1: max_interval must be a duration such as \"2h\" or \"90m\"`)},
		{`[` + rule("s", "t", "") + `]`, invalid(`Rule 1: max_interval must be a duration such as \"2h\" or \"90m\"`)},
		{`[` + ok + `,` + rule("s", "t", "4m59s") + `]`, invalid("Rule 2: max_interval must be from 5m to 168h")},
		{`[` + rule("s", "t", "168h0m1s") + `]`, invalid("Rule 1: max_interval must be from 5m to 168h")},
		{`[` + rule("s", "t", "-1h") + `]`, invalid("Rule 1: max_interval must be from 5m to 168h")},
		{`[` + ok + `,` + rule("stripe", "orders", "1h") + `,` + rule("shopify", "orders", "3h") + `]`, invalid("Rule 3: repeats the integration and table of rule 1")},
	} {
		status, got := api.do(t, "PUT", freshnessPath, bearer(tokenA), tt.body)
		if status != http.StatusBadRequest || got != tt.want {
			t.Errorf("PUT %.80q: got %d %s, want 400 %s", tt.body, status, got, tt.want)
		}
	}
	// The bounds themselves are allowed.
	status, got := api.do(t, "PUT", freshnessPath, bearer(tokenA), `[`+rule("s", "a", "5m")+`,`+rule("s", "b", "168h")+`,`+rule("s", "c", "300s")+`]`)
	if status != http.StatusOK || !strings.Contains(got, `"max_interval":"300s"`) {
		t.Errorf("bounds: got %d %s", status, got)
	}
	// 100 rules are allowed.
	var rules []string
	for i := range hook.MaxFreshnessRules {
		rules = append(rules, rule("s", fmt.Sprintf("t%d", i), "1h"))
	}
	status, got = api.do(t, "PUT", freshnessPath, bearer(tokenA), `[`+strings.Join(rules, ",")+`]`)
	if status != http.StatusOK || strings.Count(got, `"created_at"`) != hook.MaxFreshnessRules {
		t.Errorf("100 rules: got %d %.200s", status, got)
	}
}

func TestFreshnessRulesMinInterval(t *testing.T) {
	api := newTestAPIHooks(t, hooksConfig{freshnessMin: time.Second})
	status, got := api.do(t, "PUT", freshnessPath, bearer(tokenA), `[{"integration_name":"s","table":"t","max_interval":"2s"}]`)
	if status != http.StatusOK {
		t.Errorf("2s with a 1s minimum: got %d %s", status, got)
	}
	status, got = api.do(t, "PUT", freshnessPath, bearer(tokenA), `[{"integration_name":"s","table":"t","max_interval":"500ms"}]`)
	checkResponse(t, status, got, http.StatusBadRequest, `{"data":{"message":"Rule 1: max_interval must be from 1s to 168h"},"error":"InvalidBody"}`)
}

func TestFreshnessRulesAccess(t *testing.T) {
	api := newTestAPI(t)
	body := `[{"integration_name":"shopify","table":"orders","max_interval":"2h"}]`
	for _, method := range []string{"GET", "PUT"} {
		status, got := api.do(t, method, freshnessPath, "", body)
		checkResponse(t, status, got, http.StatusUnauthorized, bodyUnauthorized)
		status, got = api.do(t, method, freshnessPath, bearer("plh_unknown"), body)
		checkResponse(t, status, got, http.StatusUnauthorized, bodyUnauthorized)
	}
	// Without the feature: reading and removing all are allowed, adding is not.
	status, got := api.do(t, "PUT", freshnessPath, bearer(tokenStd), body)
	checkResponse(t, status, got, http.StatusBadRequest, bodyNoAccess)
	status, got = api.do(t, "PUT", freshnessPath, bearer(tokenStd), `[]`)
	checkResponse(t, status, got, http.StatusOK, `[]`)
	status, got = api.do(t, "GET", freshnessPath, bearer(tokenStd), "")
	checkResponse(t, status, got, http.StatusOK, `[]`)
	status, got = api.do(t, "PUT", freshnessPath, bearer(tokenA), `[`+strings.Repeat(" ", maxBodyBytes)+`]`)
	checkResponse(t, status, got, http.StatusRequestEntityTooLarge, bodyTooLarge)
}
