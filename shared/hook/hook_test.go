package hook

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWebhookID(t *testing.T) {
	tests := []struct {
		name     string
		clientID int64
		loadID   string
		hookID   int64
		want     string
	}{
		// Pinned: receivers de-duplicate on this value, so it must never
		// change for a given (load, hook) pair.
		{"pinned vector", 116078, "b2f6c1d0-7a3e-4c51-9f7e-retry", 1, "msg_9e07994557dc45396743c4ed7f62c992"},
		{"load id with separators", 1, "a:b", 2, "msg_" + sha256Prefix("1:a:b:2")},
		{"longest load id", 9223372036854775807, strings.Repeat("é", 128), 10,
			"msg_" + sha256Prefix("9223372036854775807:"+strings.Repeat("é", 128)+":10")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WebhookID(tt.clientID, tt.loadID, tt.hookID); got != tt.want {
				t.Errorf("WebhookID(%d, %q, %d) = %q, want %q", tt.clientID, tt.loadID, tt.hookID, got, tt.want)
			}
		})
	}
	if WebhookID(1, "x", 1) == WebhookID(1, "x", 2) || WebhookID(1, "x", 1) == WebhookID(2, "x", 1) {
		t.Error("WebhookID does not tell hooks or clients apart")
	}
}

func sha256Prefix(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func TestSecretsAndTokens(t *testing.T) {
	secret := NewSecret()
	key, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		t.Fatalf("NewSecret() = %q, want prefix %q", secret, SecretPrefix)
	}
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 32 {
		t.Errorf("NewSecret() key decodes to %d bytes (err %v), want 32", len(raw), err)
	}

	token := NewToken()
	body, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		t.Fatalf("NewToken() = %q, want prefix %q", token, TokenPrefix)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(body); err != nil || len(raw) != 32 {
		t.Errorf("NewToken() decodes to %d bytes (err %v), want 32", len(raw), err)
	}
	if NewToken() == token || NewSecret() == secret {
		t.Error("two calls returned the same value")
	}

	hash := HashToken(token)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) || strings.Contains(hash, body) {
		t.Errorf("HashToken() = %q, want 64 hex digits that do not contain the token", hash)
	}
	if HashToken(token) != hash {
		t.Error("HashToken is not deterministic")
	}
	if id := NewMemberID(); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("NewMemberID() = %q, want 32 hex digits", id)
	}
}

func TestPlans(t *testing.T) {
	tests := []struct {
		plan string
		want bool
	}{
		{"free_trial", true},
		{"advanced", true},
		{"premium", true},
		{"enterprise", true},
		{"unlimited", true},
		{"unlimited_plus", true},
		{"standard", false},
		{"Advanced", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := PlanHasHooks(tt.plan); got != tt.want {
			t.Errorf("PlanHasHooks(%q) = %v, want %v", tt.plan, got, tt.want)
		}
	}
	plans := FeaturePlans()
	if !slices.IsSorted(plans) || len(plans) != len(featurePlans) {
		t.Errorf("FeaturePlans() = %v, want the %d feature plans sorted", plans, len(featurePlans))
	}
	for _, p := range plans {
		if !PlanHasHooks(p) {
			t.Errorf("FeaturePlans() lists %q, which PlanHasHooks refuses", p)
		}
	}
}

func TestDisabledReason(t *testing.T) {
	at := time.Date(2026, 7, 16, 0, 0, 0, 0, time.UTC)
	change := func(action string) Change { return Change{At: at, By: "m1", Action: action} }
	tests := []struct {
		name     string
		disabled bool
		audit    []string
		want     string
	}{
		{"enabled", false, []string{"created", ActionSecretRotated}, ""},
		{"by a member", true, []string{"created", "disabled"}, DisabledByMember},
		{"by the plan", true, []string{"created", ActionPlanDowngraded}, DisabledByPlan},
		{"by the plan, then rotated", true, []string{"created", ActionPlanDowngraded, ActionSecretRotated, ActionSecretRotated}, DisabledByPlan},
		{"by a member, then rotated", true, []string{"created", ActionPlanDowngraded, "enabled", "disabled", ActionSecretRotated}, DisabledByMember},
		{"no trail", true, nil, DisabledByMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Hook{ID: 1}
			if tt.disabled {
				h.DisabledAt = &at
			}
			for _, a := range tt.audit {
				h.Audit = append(h.Audit, change(a))
			}
			if got := h.DisabledReason(); got != tt.want {
				t.Errorf("DisabledReason = %q, want %q", got, tt.want)
			}
		})
	}
}
