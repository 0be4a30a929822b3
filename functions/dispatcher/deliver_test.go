package main

import (
	"testing"

	"github.com/postloadhooks/hooks/shared/hook"
)

// TestAttemptsNameTheirAccount: every attempt tells the webhook client which
// account it is for, so that two accounts' deliveries never share a
// connection (shared/webhook pools connections per account), even when
// their hooks point at the same URL.
func TestAttemptsNameTheirAccount(t *testing.T) {
	e := newEnv(t)
	const other = int64(9)
	e.store.PutAccount(hook.Account{ClientID: other, Plan: "advanced"})
	e.store.SetHooks(other, []hook.Hook{{ID: 1, ClientID: other, URL: "https://one.example/h", Secret: "whsec_nine"}})
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(other, "L1", "succeeded")))

	owner := map[string]int64{"whsec_one": testClient, "whsec_two": testClient, "whsec_nine": other}
	reqs := e.hooks.calls()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	for _, r := range reqs {
		if want := owner[r.Secret]; r.ClientID != want {
			t.Errorf("request to %s signed for account %d carries ClientID %d", r.URL, want, r.ClientID)
		}
	}
}
