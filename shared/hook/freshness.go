package hook

import (
	"fmt"
	"slices"
	"time"
)

// FreshnessPath is the path of the freshness rules API.
const FreshnessPath = "/notifications/public/v1/api/freshness"

// Limits of an account's freshness rules.
const (
	// MaxFreshnessRules is how many rules one account keeps.
	MaxFreshnessRules = 100
	// MaxFreshnessInterval is the longest max_interval.
	MaxFreshnessInterval = 7 * 24 * time.Hour
	// FreshnessMinInterval is the shortest max_interval by default
	// (HOOKS_FRESHNESS_MIN_INTERVAL shortens it for tests and local runs).
	FreshnessMinInterval = 5 * time.Minute
)

// FreshnessRule says that a table of an integration must load at least
// every Interval: when it has had no successful load for that long, it is
// overdue. The rule's clock starts at the table's last successful load, or
// at CreatedAt when there was none since.
type FreshnessRule struct {
	IntegrationName string
	Table           string // the destination root table
	// MaxInterval is the Go duration as the member wrote it ("2h",
	// "90m"), shown back as given; Interval is its value.
	MaxInterval string
	Interval    time.Duration
	// CreatedAt is when the rule for this (integration, table) was first
	// stored. Replacing the rules keeps it for a table still in them.
	CreatedAt time.Time
}

// Key is what identifies a rule within its account: its integration and
// table.
func (r FreshnessRule) Key() FreshnessKey {
	return FreshnessKey{Integration: r.IntegrationName, Table: r.Table}
}

// FreshnessKey identifies a rule within its account.
type FreshnessKey struct{ Integration, Table string }

// DueAt is when the rule's table becomes overdue: Interval after its last
// successful load (lastLoad, zero when there was none since the rule was
// made), or after the rule's creation.
func (r FreshnessRule) DueAt(lastLoad time.Time) time.Time {
	start := r.CreatedAt
	if lastLoad.After(start) {
		start = lastLoad
	}
	return start.Add(r.Interval)
}

// Longest names in a rule (an integration name or table name beyond is a
// typo or an attack, not a table).
const maxFreshnessName = 256

// CheckFreshnessRules checks the rules a member asked for, in order, and
// fills in each Interval: at most MaxFreshnessRules, each with a non-empty
// integration_name and table (at most 256 bytes each), a max_interval that
// time.ParseDuration reads, from min to MaxFreshnessInterval, and no
// (integration, table) twice. The first problem is a *ValidationError whose
// Message names the rule and the problem.
func CheckFreshnessRules(rules []FreshnessRule, min time.Duration) error {
	if len(rules) > MaxFreshnessRules {
		return &ValidationError{Field: "rules", Message: fmt.Sprintf("At most %d rules are allowed", MaxFreshnessRules)}
	}
	seen := make(map[FreshnessKey]int, len(rules))
	for i := range rules {
		r := &rules[i]
		at := func(field, msg string) error {
			return &ValidationError{Field: field, Message: fmt.Sprintf("Rule %d: %s", i+1, msg)}
		}
		switch {
		case r.IntegrationName == "" || len(r.IntegrationName) > maxFreshnessName:
			return at("integration_name", fmt.Sprintf("integration_name must be 1 to %d bytes", maxFreshnessName))
		case r.Table == "" || len(r.Table) > maxFreshnessName:
			return at("table", fmt.Sprintf("table must be 1 to %d bytes", maxFreshnessName))
		}
		d, err := time.ParseDuration(r.MaxInterval)
		if err != nil {
			return at("max_interval", `max_interval must be a duration such as "2h" or "90m"`)
		}
		if d < min || d > MaxFreshnessInterval {
			return at("max_interval", fmt.Sprintf("max_interval must be from %s to %s", FormatInterval(min), FormatInterval(MaxFreshnessInterval)))
		}
		r.Interval = d
		if j, dup := seen[r.Key()]; dup {
			return at("table", fmt.Sprintf("repeats the integration and table of rule %d", j+1))
		}
		seen[r.Key()] = i
	}
	return nil
}

// FormatInterval writes d briefly: "5m", "2h", "168h", "1h30m", "90s".
func FormatInterval(d time.Duration) string {
	s := d.String()
	for _, unit := range []string{"m0s", "h0m"} {
		if len(s) > len(unit) && s[len(s)-len(unit):] == unit {
			s = s[:len(s)-len(unit)+1]
		}
	}
	return s
}

// KeepCreation gives each of rules the CreatedAt of the rule for the same
// (integration, table) in old, or now when old has none: replacing the
// rules restarts the clock only of tables new to them.
func KeepCreation(old, rules []FreshnessRule, now time.Time) {
	created := make(map[FreshnessKey]time.Time, len(old))
	for _, r := range old {
		created[r.Key()] = r.CreatedAt
	}
	for i := range rules {
		if at, ok := created[rules[i].Key()]; ok {
			rules[i].CreatedAt = at
		} else {
			rules[i].CreatedAt = now
		}
	}
}

// String writes the key as one string that no other key writes: the
// integration's length in bytes, a colon, the integration, a slash and the
// table ("7:shopify/orders"). The store keys a table's freshness state and
// lists an account's ruled tables with it.
func (k FreshnessKey) String() string {
	return fmt.Sprintf("%d:%s/%s", len(k.Integration), k.Integration, k.Table)
}

// FreshnessState is what is kept of a ruled table between checks: its last
// successful load, and its overdue episodes. An episode opens when the
// table becomes overdue (one overdue notice) and closes when the table has
// loaded again (one back-on-time notice); the rule is then armed again.
type FreshnessState struct {
	// LastLoadedAt is the table's last successful load (zero: none
	// recorded).
	LastLoadedAt time.Time
	// Episode counts the episodes opened so far; Open says whether the
	// last one is still open.
	Episode int64
	Open    bool
	// OpenedLoad is LastLoadedAt as it was when the open episode opened:
	// a later LastLoadedAt means the table has loaded again.
	OpenedLoad time.Time
	// OverdueSent says the open episode's overdue notice is done.
	OverdueSent bool
}

// FreshnessAction is what a check does next for one rule.
type FreshnessAction int

// The actions of a freshness check (see FreshnessRule.Next).
const (
	// FreshnessWait: nothing to do now.
	FreshnessWait FreshnessAction = iota
	// FreshnessOpen: the table is overdue; open episode Episode+1 (a
	// conditional write, so only one check opens it), then send its
	// overdue notice.
	FreshnessOpen
	// FreshnessSendOverdue: the open episode's overdue notice is not done
	// yet (an earlier check opened it and did not finish).
	FreshnessSendOverdue
	// FreshnessSendBack: the table has loaded since the episode opened;
	// send the back-on-time notice, then close the episode.
	FreshnessSendBack
)

// Next decides what a check at now does for the rule whose table is in st.
// An open episode first finishes its overdue notice, then waits for a load;
// a closed one opens when the table is due (DueAt of its last load).
func (r FreshnessRule) Next(st FreshnessState, now time.Time) FreshnessAction {
	switch {
	case st.Open && !st.OverdueSent:
		return FreshnessSendOverdue
	case st.Open && st.LastLoadedAt.After(st.OpenedLoad):
		return FreshnessSendBack
	case st.Open:
		return FreshnessWait
	case !now.Before(r.DueAt(st.LastLoadedAt)):
		return FreshnessOpen
	}
	return FreshnessWait
}

// HasFreshnessRule reports whether the account has a freshness rule for
// the table of the integration (FreshnessTables, kept with the account so
// that a load learns it from the account read it makes anyway).
func (a Account) HasFreshnessRule(integration, table string) bool {
	return slices.Contains(a.FreshnessTables, FreshnessKey{Integration: integration, Table: table}.String())
}
