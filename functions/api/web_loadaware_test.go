package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

// The settings page's filter and events form and its freshness rules
// section, on the in-memory store.

func TestWebHookSubscription(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	h := wt.store.seedHook(clientA, "https://example.com/a", false)
	path := settingsHooks + "/" + itoa(h.ID) + "/subscription"
	if body := wt.settings(t, c, ""); !strings.Contains(body, "Every load. Events: Table loaded") || !strings.Contains(body, "?edit="+itoa(h.ID)) {
		t.Errorf("the hook row does not show its filter and events, or the edit link")
	}
	body := wt.settings(t, c, "?edit="+itoa(h.ID))
	for _, want := range []string{`id="f-integrations"`, `id="f-tables"`, `value="table_loaded" checked`, `value="run_completed">`, `name="csrf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}

	rec := wt.post(t, c, path, url.Values{"integrations": {"shopify"}, "tables": {"orders, orders__*"}, "events": {"run_completed", "table_loaded"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != settingsPath+"?notice=subscription" {
		t.Fatalf("save: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	got, _ := wt.store.hook(clientA, h.ID)
	if diff := cmp.Diff(got.Filter, &hook.Filter{Integrations: []string{"shopify"}, Tables: []string{"orders", "orders__*"}}); diff != "" || !cmp.Equal(got.EventTypes, []string{"table_loaded", "run_completed"}) {
		t.Errorf("stored filter diff %s, events %v", diff, got.EventTypes)
	}
	if body := wt.settings(t, c, "?notice=subscription"); !strings.Contains(body, "Only integrations shopify; tables orders, orders__*. Events: Table loaded, Run completed") {
		t.Errorf("the row does not show the saved filter")
	}
	if body := wt.settings(t, c, "?edit="+itoa(h.ID)); !strings.Contains(body, `value="orders, orders__*"`) || !strings.Contains(body, `value="run_completed" checked`) {
		t.Errorf("the edit form does not hold the saved values")
	}

	// Errors beside their fields, in the API's words; nothing changes.
	for _, tc := range []struct {
		form url.Values
		id   string
	}{
		{url.Values{"integrations": {"shopify"}}, "f-events-error"},
		{url.Values{"events": {"ping"}}, "f-events-error"},
		{url.Values{"events": {"table_loaded"}, "tables": {strings.Repeat("t", hook.MaxPatternBytes+1)}}, "f-tables-error"},
		{url.Values{"events": {"table_loaded"}, "integrations": {strings.Repeat("a ", hook.MaxFilterPatterns+1)}}, "f-integrations-error"},
	} {
		rec := wt.post(t, c, path, tc.form)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="`+tc.id+`" class="error">Invalid PATCH body`) {
			t.Errorf("%v: %d, want 400 with %s", tc.form, rec.Code, tc.id)
		}
	}
	if again, _ := wt.store.hook(clientA, h.ID); !cmp.Equal(again.EventTypes, got.EventTypes) || !cmp.Equal(again.Filter, got.Filter) {
		t.Errorf("a refused form changed the hook")
	}
	// Empty fields and table_loaded only: back to every load.
	if rec := wt.post(t, c, path, url.Values{"integrations": {" "}, "tables": {""}, "events": {"table_loaded"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", rec.Code)
	}
	if reset, _ := wt.store.hook(clientA, h.ID); reset.Filter != nil || reset.EventTypes != nil {
		t.Errorf("reset hook %+v %v", reset.Filter, reset.EventTypes)
	}
}

func TestWebFreshnessRules(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	ctx := context.Background()
	if body := wt.settings(t, c, ""); !strings.Contains(body, `id="freshness-title"`) || !strings.Contains(body, "No freshness rules yet.") {
		t.Fatalf("no freshness section")
	}
	add := func(integration, table, interval string) *http.Response {
		return wt.post(t, c, settingsFreshness, url.Values{"integration_name": {integration}, "table": {table}, "max_interval": {interval}}).Result()
	}
	if res := add("shopify", "orders", "2h"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	if res := add("shopify", "customers", "90m"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	rules, _ := wt.store.FreshnessRules(ctx, clientA)
	if len(rules) != 2 || rules[0].MaxInterval != "2h" || rules[1].Table != "customers" {
		t.Fatalf("rules %+v", rules)
	}
	if body := wt.settings(t, c, "?notice=rule-added"); !strings.Contains(body, `<span class="url">shopify / orders</span>`) || !strings.Contains(body, `<td class="mono">2h</td>`) {
		t.Errorf("rule not listed")
	}
	for _, tc := range []struct{ integration, table, interval, id, msg string }{
		{"shopify", "orders", "3h", "r-table-error", "Rule 3: repeats the integration and table of rule 1"},
		{"", "t", "1h", "r-integration-error", "Rule 3: integration_name must be 1 to 256 bytes"},
		{"s", "t", "soon", "r-interval-error", `Rule 3: max_interval must be a duration such as &#34;2h&#34; or &#34;90m&#34;`},
		{"s", "t", "1m", "r-interval-error", "Rule 3: max_interval must be from 5m to 168h"},
	} {
		rec := wt.post(t, c, settingsFreshness, url.Values{"integration_name": {tc.integration}, "table": {tc.table}, "max_interval": {tc.interval}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="`+tc.id+`" class="error">`+tc.msg) {
			t.Errorf("%+v: %d, want 400 with %s", tc, rec.Code, tc.msg)
		}
	}
	if again, _ := wt.store.FreshnessRules(ctx, clientA); len(again) != 2 {
		t.Errorf("a refused rule changed the rules: %+v", again)
	}
	if rec := wt.post(t, c, settingsFreshness, url.Values{"remove": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d", rec.Code)
	}
	if rules, _ := wt.store.FreshnessRules(ctx, clientA); len(rules) != 1 || rules[0].Table != "customers" {
		t.Errorf("after remove: %+v", rules)
	}
	// Another account's rules are its own; a plan without the feature cannot add.
	if rules, _ := wt.store.FreshnessRules(ctx, clientB); len(rules) != 0 {
		t.Errorf("another account has %+v", rules)
	}
	std := wt.signIn(t, "memberstd@example.com")
	rec := wt.post(t, std, settingsFreshness, url.Values{"integration_name": {"s"}, "table": {"t"}, "max_interval": {"1h"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="r-error" class="error">Client does not have access to hooks.`) {
		t.Errorf("no feature: %d", rec.Code)
	}
}
