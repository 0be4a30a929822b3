package mail

import (
	"time"
)

// Freshness is what a freshness notice reports: a ruled table that is
// overdue (BackOnTime false) or has loaded again after being overdue.
type Freshness struct {
	ClientID        int64
	IntegrationName string
	Table           string
	MaxInterval     string    // as the member wrote it
	LastLoadedAt    time.Time // zero: no successful load since the rule was made
	RuleCreatedAt   time.Time
	// OverdueSince is when the table became overdue (the rule's due time).
	OverdueSince time.Time
	BackOnTime   bool
}

// Subject prefixes of the freshness notices, followed by
// "<integration> / <table>".
const (
	overduePrefix    = "Table overdue: "
	backOnTimePrefix = "Table back on time: "
)

type freshnessView struct {
	Links
	ClientID     int64
	Integration  string
	Table        string
	MaxInterval  string
	LastLoadedAt string // "" when none
	Since        string // the rule's creation, when there was no load
	OverdueSince string
	BackOnTime   bool
	GeneratedAt  string
}

// FreshnessSubject is the notice's subject line, "Table overdue: shopify /
// orders" or "Table back on time: shopify / orders": one line, no control
// characters, at most MaxSubjectRunes runes.
func FreshnessSubject(f Freshness) string {
	prefix := overduePrefix
	if f.BackOnTime {
		prefix = backOnTimePrefix
	}
	return clip(prefix+clip(nameOr(f.IntegrationName, "unknown integration"), maxSubjectNameRunes)+
		" / "+clip(nameOr(f.Table, "unknown table"), maxSubjectNameRunes), MaxSubjectRunes)
}

// RenderFreshness renders the freshness notice f, sent at now, with the
// recipient's links.
func RenderFreshness(f Freshness, now time.Time, links Links) Email {
	v := freshnessView{
		Links:        links,
		ClientID:     f.ClientID,
		Integration:  clip(nameOr(f.IntegrationName, "unknown integration"), maxNameRunes),
		Table:        clip(nameOr(f.Table, "unknown table"), maxNameRunes),
		MaxInterval:  clip(clean(f.MaxInterval), maxNameRunes),
		Since:        formatTime(f.RuleCreatedAt),
		OverdueSince: formatTime(f.OverdueSince),
		BackOnTime:   f.BackOnTime,
		GeneratedAt:  formatTime(now),
	}
	if !f.LastLoadedAt.IsZero() {
		v.LastLoadedAt = formatTime(f.LastLoadedAt)
	}
	return Email{Subject: FreshnessSubject(f), UnsubscribeURL: links.UnsubscribeURL, Text: freshnessText(v), HTML: freshnessHTML(v)}
}
