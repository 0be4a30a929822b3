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

// plainPlans are the known plans without post-load hooks, sorted.
var plainPlans = []string{"basic", "free", "standard", "starter"}

// KnownPlans lists every plan name the service accepts, sorted: the plans
// with the feature and those without. Any other name is a typo.
func KnownPlans() []string {
	all := append(slices.Clone(featurePlans), plainPlans...)
	slices.Sort(all)
	return all
}

// PlanKnown reports whether plan is one of KnownPlans.
func PlanKnown(plan string) bool {
	return PlanHasHooks(plan) || slices.Contains(plainPlans, plan)
}

// APIPath is the base path of the hooks API.
const APIPath = "/notifications/public/v1/api/hooks"

// Account is one customer (client) of the data pipeline.
type Account struct {
	ClientID     int64
	Plan         string
	AlertEmails  []string
	Destinations []Destination // in the order the operator gave them
	HookCount    int
	// NoAPIAccess is true when an operator has turned off the account's
	// API access: its members may not use the hooks API with their tokens
	// (the web app works either way). The zero value has access, as an
	// account does unless told otherwise.
	NoAPIAccess bool
	// NoAutoDisable is true when an operator has switched off auto-disable
	// for the account: its hooks are never disabled for failing. The zero
	// value auto-disables, as an account does unless told otherwise.
	NoAutoDisable bool
	// FreshnessTables lists the FreshnessKey.String of every table the
	// account has a freshness rule for (nil when none), kept in step with
	// the rules.
	FreshnessTables []string
	CreatedAt       time.Time
	ModifiedAt      time.Time
}

// HasHooks reports whether the account's plan includes the feature.
func (a Account) HasHooks() bool { return PlanHasHooks(a.Plan) }

// HasDestination reports whether id is one of the account's destinations.
func (a Account) HasDestination(id int64) bool {
	return slices.ContainsFunc(a.Destinations, func(d Destination) bool { return d.ID == id })
}

// Destination is where the data pipeline loads an account's data (a
// warehouse or a bucket). A hook belongs to one destination and is sent the
// loads of that destination only.
type Destination struct {
	ID   int64  // positive, unique within the account
	Type string // a lower-case word: "s3", "snowflake", "redshift", ...
}

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
	ID       int64
	ClientID int64
	// DestinationID is the destination whose loads the hook is sent. It is 0
	// for a hook stored before destinations existed: such a hook is sent
	// every load of its account, as it was then (see SendsLoadsOf).
	DestinationID int64
	URL           string
	Secret        string // "whsec_" + base64 of 32 random bytes
	// PreviousSecret is the secret a rotation replaced, which still signs
	// every request (besides Secret) until PreviousSecretExpiresAt. Both
	// are zero when the hook was never rotated.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	CreatedAt               time.Time
	ModifiedAt              time.Time
	DisabledAt              *time.Time // nil while enabled
	// Filter limits the loads the hook is sent (nil: every load) and
	// EventTypes the events (nil: DefaultEvents); see filter.go.
	Filter     *Filter
	EventTypes []string
	Audit      []Change
	// Health is what the service keeps of the hook's recent outcomes, to
	// disable it when it only fails (health.go).
	Health Health
	// Probe is set while the hook is disabled for failing: the service
	// then probes it to enable it again (health.go). It is nil otherwise.
	Probe *Probe
	// MaxInFlight is the most requests in flight to the hook at once,
	// across every dispatcher instance, as operators set it (0: unset, the
	// default of delivery.DefaultMaxInFlight).
	MaxInFlight int
}

// Enabled reports whether the hook receives notifications.
func (h Hook) Enabled() bool { return h.DisabledAt == nil }

// Why a hook is disabled (DisabledReason).
const (
	DisabledByMember = "member"
	DisabledByPlan   = "plan"
)

// DisabledReason says why a disabled hook is disabled: DisabledForFailing
// while the service holds it disabled for failing, DisabledByPlan when its
// last change was a plan downgrade, else DisabledByMember. It is "" for an
// enabled hook.
func (h Hook) DisabledReason() string {
	if h.Enabled() {
		return ""
	}
	if h.Probe != nil {
		return DisabledForFailing
	}
	// The last change of the hook's state says why; a rotation of its
	// secret or a change of its filter changes nothing about it.
	for i := len(h.Audit) - 1; i >= 0; i-- {
		if a := h.Audit[i].Action; a == ActionSecretRotated || a == ActionSubscriptionChanged {
			continue
		}
		if h.Audit[i].Action == ActionPlanDowngraded {
			return DisabledByPlan
		}
		break
	}
	return DisabledByMember
}

// ActionSecretRotated is the audit action of a rotation of the hook's
// signing secret.
const ActionSecretRotated = "secret_rotated"

// SecretOverlap is how long, by default, a rotated-out secret still signs
// every request beside the new one, so receivers can switch to the new
// secret without refusing a single request.
const SecretOverlap = 24 * time.Hour

// ActionPlanDowngraded is the audit action of a hook disabled by a plan
// downgrade.
const ActionPlanDowngraded = "plan_downgraded"

// SendsLoadsOf reports whether the hook is sent a load of destination
// destinationID. A destinationID of 0 is a load message without one (from a
// loader older than destinations): every hook is sent it. A hook without a
// destination (stored before destinations) is sent every load.
func (h Hook) SendsLoadsOf(destinationID int64) bool {
	return destinationID == 0 || h.DestinationID == 0 || h.DestinationID == destinationID
}
