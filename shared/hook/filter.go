package hook

import (
	"slices"
	"unicode/utf8"
)

// The event types a hook can be subscribed to. Every request names its
// type in the webhook-event header.
const (
	// EventTableLoaded is one table load: the load notification itself,
	// unchanged. A hook with no events set receives only these.
	EventTableLoaded = "table_loaded"
	// EventRunCompleted is the summary of an integration run.
	EventRunCompleted = "run_completed"
	// EventLoadOverdue is a freshness rule's overdue or back-on-time notice.
	EventLoadOverdue = "load_overdue"
)

// eventTypes are the event types in their canonical order, the order in
// which a hook's events are stored and shown.
var eventTypes = []string{EventTableLoaded, EventRunCompleted, EventLoadOverdue}

// EventTypes lists every event type a hook may subscribe to, in canonical
// order.
func EventTypes() []string { return slices.Clone(eventTypes) }

// DefaultEvents are the events of a hook that never chose any.
func DefaultEvents() []string { return []string{EventTableLoaded} }

// Limits of a filter, so a hook item stays small and matching cheap.
const (
	// MaxFilterPatterns is how many patterns one list of a filter holds.
	MaxFilterPatterns = 50
	// MaxPatternBytes is the longest pattern.
	MaxPatternBytes = 256
)

// Filter limits the table loads a hook receives. A nil *Filter, and a nil
// list in it, matches everything. Patterns match whole names, case
// sensitively; "*" in a pattern matches any run of characters, the empty
// one included ("orders__*" matches every sub-table of orders, "*" any
// name).
type Filter struct {
	Integrations []string // match the notification's integration_name
	Tables       []string // match its destination_root_table_name
}

// Matches reports whether a load of integration into destination root
// table rootTable passes the filter. A nil filter passes every load.
func (f *Filter) Matches(integration, rootTable string) bool {
	if f == nil {
		return true
	}
	return matchesAny(f.Integrations, integration) && matchesAny(f.Tables, rootTable)
}

// matchesAny reports whether name matches one of patterns; a nil list
// matches every name.
func matchesAny(patterns []string, name string) bool {
	if patterns == nil {
		return true
	}
	for _, p := range patterns {
		if MatchPattern(p, name) {
			return true
		}
	}
	return false
}

// MatchPattern reports whether name matches pattern as a whole, where each
// "*" of pattern matches any run of bytes (the empty one included) and
// every other byte matches itself. It runs in O(len(pattern)*len(name)) at
// worst, without recursion, whatever the pattern.
func MatchPattern(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0 // the last star seen, and where name stood then
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			// Let the last star take one more byte and try again.
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Subscribes reports whether the hook receives events of type event.
func (h Hook) Subscribes(event string) bool {
	if h.EventTypes == nil {
		return event == EventTableLoaded
	}
	return slices.Contains(h.EventTypes, event)
}

// Events are the hook's event types in canonical order (DefaultEvents when
// it never chose any).
func (h Hook) Events() []string {
	if h.EventTypes == nil {
		return DefaultEvents()
	}
	return slices.Clone(h.EventTypes)
}

// Wants reports whether the hook is sent the table_loaded notification of
// a load of integration into destination root table rootTable: it is
// subscribed to table_loaded and its filter passes the load. Whether the
// hook is enabled and belongs to the load's destination are separate
// checks (Enabled, SendsLoadsOf). A hook that never set a filter or events
// wants every load, as before filters existed.
func (h Hook) Wants(integration, rootTable string) bool {
	return h.Subscribes(EventTableLoaded) && h.Filter.Matches(integration, rootTable)
}

// SubscriptionUpdate is a change of a hook's filter and events, as one
// PATCH asks for it. Fields not set are kept.
type SubscriptionUpdate struct {
	// SetFilter replaces the filter with Filter (nil: everything).
	SetFilter bool
	Filter    *Filter
	// Events, when not nil, replaces the events: a non-empty list of
	// distinct event types (see NormalizeEvents).
	Events []string
}

// NormalizeEvents checks a list of event types (non-empty, each one of
// EventTypes, none twice) and returns it in canonical order, or nil when it
// is exactly the default, so that a hook set back to the default is stored
// as one that never chose. ok is false for an invalid list.
func NormalizeEvents(events []string) (out []string, ok bool) {
	if len(events) == 0 {
		return nil, false
	}
	seen := map[string]bool{}
	for _, e := range events {
		if !slices.Contains(eventTypes, e) || seen[e] {
			return nil, false
		}
		seen[e] = true
	}
	for _, e := range eventTypes {
		if seen[e] {
			out = append(out, e)
		}
	}
	if slices.Equal(out, DefaultEvents()) {
		return nil, true
	}
	return out, true
}

// NormalizeFilter checks a filter's lists (each, when set, 1 to
// MaxFilterPatterns patterns of 1 to MaxPatternBytes bytes of valid UTF-8)
// and returns the filter to store: nil when it limits nothing (nil, or
// both lists unset). ok is false for an invalid filter.
func NormalizeFilter(f *Filter) (out *Filter, ok bool) {
	if f == nil || (f.Integrations == nil && f.Tables == nil) {
		return nil, true
	}
	for _, l := range [][]string{f.Integrations, f.Tables} {
		if l == nil {
			continue
		}
		if len(l) == 0 || len(l) > MaxFilterPatterns {
			return nil, false
		}
		for _, p := range l {
			if p == "" || len(p) > MaxPatternBytes || !utf8.ValidString(p) {
				return nil, false
			}
		}
	}
	return &Filter{Integrations: slices.Clone(f.Integrations), Tables: slices.Clone(f.Tables)}, true
}

// Clone is a copy of f sharing no memory with it (nil for nil).
func (f *Filter) Clone() *Filter {
	if f == nil {
		return nil
	}
	return &Filter{Integrations: slices.Clone(f.Integrations), Tables: slices.Clone(f.Tables)}
}

// ActionSubscriptionChanged is the audit action of a change of a hook's
// filter or events.
const ActionSubscriptionChanged = "subscription_changed"
