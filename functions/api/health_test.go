package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAutoDisableSwitch: an account's auto_disable is true unless an
// operator sets it false, in POST and PATCH, and GET shows it; anything but a
// boolean is refused with the exact body.
func TestAutoDisableSwitch(t *testing.T) {
	a := newTestAPI(t)
	admin := bearer(adminToken)
	status, body := a.do(t, "POST", "/admin/v1/accounts", admin, `{"client_id":9,"plan":"advanced","auto_disable":false}`)
	if status != http.StatusCreated || !strings.Contains(body, `"auto_disable":false`) {
		t.Fatalf("create with auto_disable false: %d %s", status, body)
	}
	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"auto_disable":1}`)
	checkResponse(t, status, body, http.StatusBadRequest, `{"data":{"message":"auto_disable must be a boolean"},"error":"InvalidBody"}`)
	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"auto_disable":false}`)
	if status != http.StatusOK || !strings.Contains(body, `"auto_disable":false`) {
		t.Fatalf("PATCH auto_disable false: %d %s", status, body)
	}
	if acct, _ := a.store.StoredAccount(116078); !acct.NoAutoDisable {
		t.Error("stored account still auto-disables")
	}
	status, body = a.do(t, "GET", "/admin/v1/accounts/116078", admin, "")
	if status != http.StatusOK || !strings.Contains(body, `"api_access":true,"auto_disable":false,`) {
		t.Errorf("GET: %d %s", status, body)
	}
	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"auto_disable":true}`)
	if status != http.StatusOK || !strings.Contains(body, `"auto_disable":true`) {
		t.Errorf("PATCH auto_disable true: %d %s", status, body)
	}
}

// disableForFailing has the service disable account A's hook id for
// failing, as the alerter does after its exhausted deliveries.
func disableForFailing(t *testing.T, a *testAPI, id int64) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		if _, err := a.store.NoteHookExhausted(ctx, clientA, id, "l", 1, a.store.now()); err != nil {
			t.Fatal(err)
		}
	}
	h, err := a.store.GetHook(ctx, clientA, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.store.AutoDisableHook(ctx, clientA, id, h.Health.FailingSince, h.Health.FailingSince); !ok || err != nil {
		t.Fatalf("AutoDisableHook: %v %v", ok, err)
	}
}

// TestDisabledReason: the hook object says why a hook is disabled, in every
// answer that carries it: null while enabled, "member", "plan", and
// "failing" while the service holds it disabled; a member disabling a
// failing hook makes it "member".
func TestDisabledReason(t *testing.T) {
	a := newTestAPI(t)
	h := a.store.seedHook(clientA, urlA, false)
	status, body := a.do(t, "GET", hooksPath+"/1", bearer(tokenA), "")
	if status != http.StatusOK || !strings.Contains(body, `"disabled_at":null,"disabled_reason":null,"filter"`) {
		t.Fatalf("enabled: %d %s", status, body)
	}
	disableForFailing(t, a, h.ID)
	for _, path := range []string{hooksPath + "/1", hooksPath} {
		status, body = a.do(t, "GET", path, bearer(tokenA), "")
		if status != http.StatusOK || !strings.Contains(body, `"disabled_reason":"failing","filter"`) {
			t.Errorf("GET %s while failing: %d %s", path, status, body)
		}
	}
	status, body = a.do(t, "GET", "/admin/v1/accounts/116078/hooks", bearer(adminToken), "")
	if status != http.StatusOK || !strings.Contains(body, `"disabled_reason":"failing"`) {
		t.Errorf("admin view while failing: %d %s", status, body)
	}
	status, body = a.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":false}`)
	if status != http.StatusOK || !strings.Contains(body, `"disabled_reason":"member"`) {
		t.Errorf("member disables the failing hook: %d %s", status, body)
	}
	a.store.seedHook(clientStd, urlA, true)
	status, body = a.do(t, "GET", hooksPath+"/1", bearer(tokenStd), "")
	if status != http.StatusOK || !strings.Contains(body, `"disabled_reason":`) {
		t.Errorf("downgraded: %d %s", status, body)
	}
}

// TestDowngradeCountsEnabledHooksOnly: a downgrade answers how many hooks it
// disabled, those that were enabled; a hook disabled for failing shows as
// disabled by the plan afterwards (its probes stopped) but is not counted,
// and one a member disabled stays as it was.
func TestDowngradeCountsEnabledHooksOnly(t *testing.T) {
	a := newTestAPI(t)
	disableForFailing(t, a, a.store.seedHook(clientA, urlA, false).ID)
	a.store.seedHook(clientA, "https://b.example.com/", false)
	a.store.seedHook(clientA, "https://c.example.com/", false)
	a.store.seedHook(clientA, "https://d.example.com/", true)

	status, body := a.do(t, "PATCH", "/admin/v1/accounts/116078", bearer(adminToken), `{"plan":"standard"}`)
	want := strings.NewReplacer(`"advanced"`, `"standard"`, `"hook_count":0`, `"hook_count":4`).Replace(accountA)
	checkResponse(t, status, body, http.StatusOK, patched(want, 2))

	var list struct {
		PostLoad []struct {
			Reason string `json:"disabled_reason"`
		} `json:"post_load"`
	}
	status, body = a.do(t, "GET", "/admin/v1/accounts/116078/hooks", bearer(adminToken), "")
	if err := json.Unmarshal([]byte(body), &list); status != http.StatusOK || err != nil {
		t.Fatalf("admin view: %d %s %v", status, body, err)
	}
	var reasons []string
	for _, h := range list.PostLoad {
		reasons = append(reasons, h.Reason)
	}
	if want := []string{"plan", "plan", "plan", "member"}; !slices.Equal(reasons, want) {
		t.Errorf("disabled_reason after the downgrade: %q, want %q", reasons, want)
	}
}
