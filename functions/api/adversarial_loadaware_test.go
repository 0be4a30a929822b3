package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The adversarial suite's attacks on PATCH .../hooks/{id} (filter and
// events) and GET/PUT .../freshness, on the real store (newAdvStack).
// Another account's hooks and malformed ids are in the suite's shared tests
// (TestAdversarialOtherAccountToken, TestAdversarialHookIDs), which include
// PATCH.

// TestAdversarialPatchBodies: any body but one object of filter and/or
// events is refused with the exact Invalid PATCH body answer and changes
// nothing in the table.
func TestAdversarialPatchBodies(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	for _, body := range []string{
		``, `{}`, `null`, `[]`, `{"enable":false}`, "\ufeff{\"filter\":null}",
		`{"filter":null,"filter":{"tables":["x"]}}`,
		`{"filter":{"tables":["x"],"tab\u006ces":["y"]}}`,
		`{"events":[]}`, `{"events":["table_loaded","table_loaded"]}`, `{"events":["ping"]}`,
		`{"filter":{"tables":[]}}`, `{"filter":{"integrations":[""]}}`, `{"filter":{"tables":["` + strings.Repeat("x", 257) + `"]}}`,
		`{"filter":{"client_id":116078}}`, `{"filter":null,"client_id":200}`, `{"filter":null,"destination_id":1}`,
		`{"filter":null}` + "\x00",
		deepJSON(2000),
	} {
		for _, id := range s.hooksA {
			status, got := s.do(t, "PATCH", hookPath(id), s.tokA, body)
			if status != http.StatusBadRequest || got != bodyInvalidPatchBody {
				t.Errorf("PATCH %d %.40q: got %d %s, want 400 %s", id, body, status, got, bodyInvalidPatchBody)
			}
		}
	}
	s.unchanged(t, before)
}

// TestAdversarialPatchOnTheStore: a PATCH changes only its hook's item; the
// defaults leave no attribute behind (the item is what it was, but for
// modified_at and the audit trail).
func TestAdversarialPatchOnTheStore(t *testing.T) {
	s := newAdvStack(t)
	target := s.hooksA[1]
	key := fmt.Sprintf("S:CLIENT#%d|S:HOOK#%010d", advClientA, target)
	before := s.items(t, "")
	body := s.mustDo(t, "PATCH", hookPath(target), s.tokA, `{"filter":{"tables":["orders","orders__*"]},"events":["table_loaded","load_overdue"]}`, http.StatusOK, nil)
	if !strings.Contains(body, `"filter":{"tables":["orders","orders__*"]},"events":["table_loaded","load_overdue"]`) || strings.Contains(body, "whsec_") {
		t.Errorf("PATCH answer %s", body)
	}
	after := s.items(t, "")
	for k, v := range after {
		if k != key && fmt.Sprint(v) != fmt.Sprint(before[k]) {
			t.Errorf("PATCH of hook %d changed item %s", target, k)
		}
	}
	s.mustDo(t, "PATCH", hookPath(target), s.tokA, `{"filter":null,"events":["table_loaded"]}`, http.StatusOK, nil)
	item, _ := s.items(t, "")[key].(map[string]any)
	for _, attr := range []string{"filter", "events"} {
		if _, ok := item[attr]; ok {
			t.Errorf("a hook set back to the defaults keeps attribute %s: %v", attr, item[attr])
		}
	}
}

// TestAdversarialFreshness: the rules are the token's account's only; a
// refused body changes nothing.
func TestAdversarialFreshness(t *testing.T) {
	s := newAdvStack(t)
	rules := `[{"integration_name":"shopify","table":"orders","max_interval":"2h"}]`
	s.mustDo(t, "PUT", freshnessPath, s.tokA, rules, http.StatusOK, nil)
	before := s.snapshot(t)
	status, got := s.do(t, "GET", freshnessPath, s.tokB, "")
	checkResponse(t, status, got, http.StatusOK, `[]`)
	for _, path := range []string{freshnessPath + "?client_id=116078", freshnessPath} {
		req := s.request(t, "GET", path, "", bearer(s.tokB))
		req.Header.Set("X-Client-Id", "116078")
		status, got := s.send(t, req)
		checkResponse(t, status, got, http.StatusOK, `[]`)
	}
	invalid := func(msg string) string { return `{"data":{"message":"` + msg + `"},"error":"InvalidBody"}` }
	for _, tt := range []struct{ body, want string }{
		{`{"integration_name":"shopify","table":"orders","max_interval":"2h"}`, invalid("Body must be a JSON array of rules")},
		{`[{"integration_name":"shopify","table":"orders","max_interval":"2h","client_id":200}]`, invalid("Rule 1 must be an object with exactly integration_name, table and max_interval")},
		{`[{"integration_name":"shopify","table":"orders","max_interval":"2h","max_interval":"3h"}]`, invalid("Body must be a JSON array of rules")},
		{`[{"integration_name":"shopify","table":"orders","max_interval":"1ns"}]`, invalid("Rule 1: max_interval must be from 5m to 168h")},
		{`[{"integration_name":"shopify","table":"orders","max_interval":"9999999999h"}]`, invalid(`Rule 1: max_interval must be a duration such as \"2h\" or \"90m\"`)},
		{`[` + deepJSON(2000) + `]`, invalid("Body must be a JSON array of rules")},
	} {
		status, got := s.do(t, "PUT", freshnessPath, s.tokA, tt.body)
		if status != http.StatusBadRequest || got != tt.want {
			t.Errorf("PUT %.40q: got %d %s, want 400 %s", tt.body, status, got, tt.want)
		}
	}
	s.unchanged(t, before)
	// B replacing its own rules leaves A's alone.
	s.mustDo(t, "PUT", freshnessPath, s.tokB, `[]`, http.StatusOK, nil)
	status, got = s.do(t, "GET", freshnessPath, s.tokA, "")
	if status != http.StatusOK || !strings.Contains(got, `"table":"orders"`) {
		t.Errorf("A's rules after B's PUT: %d %s", status, got)
	}
}
