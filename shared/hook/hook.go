// Package hook is the domain of post-load hooks: accounts, their members and
// their webhook hooks, the plans that include the feature, and the errors the
// rest of the service maps to HTTP statuses or queue outcomes.
//
// It imports only the standard library. It does not talk to DynamoDB, HTTP or
// SQS, and it does not log.
package hook

import (
	"slices"
	"time"
)

// MaxHooks is how many hooks one account may keep.
const MaxHooks = 10

// TypePostLoad is the only hook type.
const TypePostLoad = "post_load"

// Version is the hook object's version field.
const Version = 1

// featurePlans are the plans that include post-load hooks, sorted.
var featurePlans = []string{"advanced", "enterprise", "free_trial", "premium", "unlimited", "unlimited_plus"}

// FeaturePlans lists the plans that include post-load hooks, sorted.
func FeaturePlans() []string { return slices.Clone(featurePlans) }

// PlanHasHooks reports whether plan includes post-load hooks.
func PlanHasHooks(plan string) bool { return slices.Contains(featurePlans, plan) }

// APIPath is the base path of the hooks API (SPEC section 3).
const APIPath = "/notifications/public/v1/api/hooks"

// Account is one customer (client) of the data pipeline.
type Account struct {
	ClientID    int64
	Plan        string
	AlertEmails []string
	HookCount   int
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// HasHooks reports whether the account's plan includes the feature.
func (a Account) HasHooks() bool { return PlanHasHooks(a.Plan) }

// Member is one team member of an account. Its API token is never kept: only
// its hash is stored.
type Member struct {
	ID        string
	ClientID  int64
	Email     string
	CreatedAt time.Time
}

// Principal is who made a request: a member of an account, or an operator.
type Principal struct {
	ClientID int64
	MemberID string
}

// Change is one entry of a hook's audit trail.
type Change struct {
	At     time.Time
	By     string // member id, or "operator" for admin-driven changes
	Action string // "created", "enabled", "disabled", "plan_downgraded"
}

// Operator is the audit name of changes made through the admin API.
const Operator = "operator"

// Hook is one webhook of an account.
type Hook struct {
	ID         int64
	ClientID   int64
	URL        string
	Secret     string // "whsec_" + base64 of 32 random bytes
	CreatedAt  time.Time
	ModifiedAt time.Time
	DisabledAt *time.Time // nil while enabled
	Audit      []Change
}

// Enabled reports whether the hook receives notifications.
func (h Hook) Enabled() bool { return h.DisabledAt == nil }
