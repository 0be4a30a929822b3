package hook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"orders", "orders", true},
		{"orders", "Orders", false},
		{"orders", "orders__items", false},
		{"orders", "order", false},
		{"orders__*", "orders__items", true},
		{"orders__*", "orders__", true},
		{"orders__*", "orders", false},
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "x", false},
		{"*__items", "orders__items", true},
		{"*__items", "orders__itemsx", false},
		{"o*s", "orders", true},
		{"o*s", "os", true},
		{"o*s", "ordersx", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "abcbc", true},
		{"a*b*c", "acb", false},
		{"**", "x", true},
		{"a**b", "ab", true},
		{"shop*fy", "shopify", true},
		{"?", "a", false}, // only * is special
		{"é*", "été", true},
	}
	for _, tt := range tests {
		if got := MatchPattern(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestWants(t *testing.T) {
	shop := &Filter{Integrations: []string{"shopify"}}
	orders := &Filter{Tables: []string{"orders", "orders__*"}}
	both := &Filter{Integrations: []string{"shopify", "stripe*"}, Tables: []string{"orders"}}
	tests := []struct {
		name        string
		h           Hook
		integration string
		table       string
		want        bool
	}{
		{"no filter, default events: every load", Hook{}, "anything", "any_table", true},
		{"empty filter: every load", Hook{Filter: &Filter{}}, "x", "y", true},
		{"integration matches", Hook{Filter: shop}, "shopify", "whatever", true},
		{"integration differs", Hook{Filter: shop}, "stripe", "orders", false},
		{"table exact", Hook{Filter: orders}, "x", "orders", true},
		{"table wildcard", Hook{Filter: orders}, "x", "orders__items", true},
		{"table differs", Hook{Filter: orders}, "x", "customers", false},
		{"both must match", Hook{Filter: both}, "stripe_v2", "orders", true},
		{"both: table differs", Hook{Filter: both}, "shopify", "refunds", false},
		{"both: integration differs", Hook{Filter: both}, "hubspot", "orders", false},
		{"not subscribed to table_loaded", Hook{EventTypes: []string{EventRunCompleted}}, "x", "y", false},
		{"subscribed among others", Hook{EventTypes: []string{EventTableLoaded, EventLoadOverdue}, Filter: shop}, "shopify", "y", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Wants(tt.integration, tt.table); got != tt.want {
				t.Errorf("Wants(%q, %q) = %v, want %v", tt.integration, tt.table, got, tt.want)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	if got := (Hook{}).Events(); !cmp.Equal(got, []string{"table_loaded"}) {
		t.Errorf("default Events() = %v", got)
	}
	if (Hook{}).Subscribes(EventRunCompleted) || !(Hook{}).Subscribes(EventTableLoaded) {
		t.Error("a hook that never chose is subscribed to table_loaded only")
	}
	tests := []struct {
		in     []string
		want   []string
		wantOK bool
	}{
		{[]string{"table_loaded"}, nil, true}, // the default is stored as none
		{[]string{"load_overdue", "table_loaded"}, []string{"table_loaded", "load_overdue"}, true},
		{[]string{"run_completed"}, []string{"run_completed"}, true},
		{[]string{"load_overdue", "run_completed", "table_loaded"}, []string{"table_loaded", "run_completed", "load_overdue"}, true},
		{nil, nil, false},
		{[]string{}, nil, false},
		{[]string{"table_loaded", "table_loaded"}, nil, false},
		{[]string{"ping"}, nil, false},
		{[]string{"Table_Loaded"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := NormalizeEvents(tt.in)
		if ok != tt.wantOK || !cmp.Equal(got, tt.want) {
			t.Errorf("NormalizeEvents(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestNormalizeFilter(t *testing.T) {
	long := strings.Repeat("a", MaxPatternBytes)
	many := make([]string, MaxFilterPatterns)
	for i := range many {
		many[i] = "t"
	}
	tests := []struct {
		name   string
		in     *Filter
		want   *Filter
		wantOK bool
	}{
		{"nil", nil, nil, true},
		{"no lists", &Filter{}, nil, true},
		{"integrations only", &Filter{Integrations: []string{"shopify"}}, &Filter{Integrations: []string{"shopify"}}, true},
		{"longest pattern, most patterns", &Filter{Integrations: []string{long}, Tables: many}, &Filter{Integrations: []string{long}, Tables: many}, true},
		{"empty list", &Filter{Tables: []string{}}, nil, false},
		{"empty pattern", &Filter{Tables: []string{""}}, nil, false},
		{"pattern too long", &Filter{Tables: []string{long + "a"}}, nil, false},
		{"too many patterns", &Filter{Tables: append(many, "t")}, nil, false},
		{"invalid utf-8", &Filter{Tables: []string{"\xff"}}, nil, false},
	}
	for _, tt := range tests {
		got, ok := NormalizeFilter(tt.in)
		if ok != tt.wantOK || !cmp.Equal(got, tt.want) {
			t.Errorf("%s: NormalizeFilter = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// matchReference is MatchPattern written the obvious, exponential way.
func matchReference(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if matchReference(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && s[0] == p[0] && matchReference(p[1:], s[1:])
}

func FuzzMatchPattern(f *testing.F) {
	for _, seed := range [][2]string{{"orders__*", "orders__items"}, {"a*b*c", "abcbc"}, {"*", ""}, {"**a", "ba"}, {"a*", "b"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 12 || len(name) > 24 {
			return // keep the reference's exponential search small
		}
		if got, want := MatchPattern(pattern, name), matchReference(pattern, name); got != want {
			t.Errorf("MatchPattern(%q, %q) = %v, reference %v", pattern, name, got, want)
		}
		if !MatchPattern(pattern, strings.ReplaceAll(pattern, "*", "")) {
			t.Errorf("MatchPattern(%q) refuses the pattern without its stars", pattern)
		}
		if !MatchPattern("*", name) || MatchPattern(name+"x", name) {
			t.Errorf("trivial patterns fail on %q", name)
		}
	})
}
