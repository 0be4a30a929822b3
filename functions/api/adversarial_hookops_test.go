package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

// The adversarial suite's attacks on GET .../hooks/{id},
// POST .../hooks/{id}/secret/rotate and POST .../hooks/{id}/test, on the
// real store (newAdvStack). Another account's ids, malformed ids and the
// body limit are in the suite's shared tests (TestAdversarialOtherAccountToken,
// TestAdversarialHookIDs, TestAdversarialBodySize, TestAdversarialRevokedToken).

// TestAdversarialBodilessPostBodies: rotate and test take no body, so any
// body, even one that names a secret of the caller's choosing, is refused
// with the exact Invalid POST body answer, changes nothing and sends
// nothing.
func TestAdversarialBodilessPostBodies(t *testing.T) {
	s := newAdvStack(t)
	before := s.snapshot(t)
	bodies := []string{
		`{}`, `null`, `""`, `[]`, `0`, " ", "\n", "\x00", "\ufeff",
		`{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJbDdkZlQ0Jk="}`,
		`{"previous_secret_expires_at":"2099-01-01T00:00:00Z"}`,
		`{"url":"https://169.254.169.254/latest/meta-data/"}`,
		`{"body":"{}"}`,
		deepJSON(20000),
	}
	for _, route := range []string{"/secret/rotate", "/test"} {
		for _, body := range bodies {
			t.Run(route+" "+body[:min(len(body), 30)], func(t *testing.T) {
				status, got := s.do(t, "POST", hookPath(s.hooksA[0])+route, s.tokA, body)
				checkResponse(t, status, got, http.StatusBadRequest, bodyInvalidPostBody)
				s.unchanged(t, before)
			})
		}
	}
	if n := len(s.sender.sent()); n != 0 {
		t.Errorf("refused requests sent %d test notifications", n)
	}
}

// TestAdversarialRotateOnTheStore: a rotation answers the stored secret,
// changes only the rotated hook's item, and the hook's answers never show
// a secret, old or new.
func TestAdversarialRotateOnTheStore(t *testing.T) {
	s := newAdvStack(t)
	target := s.hooksA[1]
	before := s.items(t, "")
	var got struct {
		Secret                  string `json:"secret"`
		PreviousSecretExpiresAt string `json:"previous_secret_expires_at"`
	}
	body := s.mustDo(t, "POST", hookPath(target)+"/secret/rotate", s.tokA, "", http.StatusOK, &got)
	if !strings.HasPrefix(got.Secret, hook.SecretPrefix) || len(got.Secret) != len(hook.NewSecret()) || got.PreviousSecretExpiresAt == "" {
		t.Fatalf("rotate answered %s", body)
	}
	after := s.items(t, "")
	if len(after) != len(before) {
		t.Errorf("the rotation changed the number of items: %d, was %d", len(after), len(before))
	}
	for k, v := range after {
		item := v.(map[string]any)
		if strings.HasSuffix(k, fmt.Sprintf("|S:HOOK#%010d", target)) {
			if item["secret"] != "S:"+got.Secret || item["previous_secret"] == nil || item["previous_secret"] == item["secret"] {
				t.Errorf("rotated item %v, want the answered secret and the previous one", item)
			}
			continue
		}
		if diff := cmp.Diff(v, before[k]); diff != "" {
			t.Errorf("item %s changed by the rotation of another hook:\n%s", k, diff)
		}
	}
	for _, path := range []string{hookPath(target), hooksPath} {
		if out := s.mustDo(t, "GET", path, s.tokA, "", http.StatusOK, nil); strings.Contains(out, "whsec_") || strings.Contains(out, "secret") {
			t.Errorf("GET %s shows a secret: %s", path, out)
		}
	}
	// The disabled hook rotates too; the plan is not consulted.
	s.mustDo(t, "POST", hookPath(s.hooksA[2])+"/secret/rotate", s.tokA, "", http.StatusOK, nil)
}

// TestAdversarialTestSendRefusals: a disabled hook and a plan without the
// feature are refused with their exact bodies on the real store, before
// anything is sent.
func TestAdversarialTestSendRefusals(t *testing.T) {
	s := newAdvStack(t)
	status, body := s.do(t, "POST", hookPath(s.hooksA[2])+"/test", s.tokA, "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyHookDisabled)
	s.mustDo(t, "PATCH", "/admin/v1/accounts/116078", adminToken, `{"plan":"standard"}`, http.StatusOK, nil)
	for _, id := range s.hooksA {
		status, body := s.do(t, "POST", hookPath(id)+"/test", s.tokA, "")
		checkResponse(t, status, body, http.StatusBadRequest, bodyNoAccess)
	}
	if n := len(s.sender.sent()); n != 0 {
		t.Errorf("refused tests sent %d notifications", n)
	}
}
