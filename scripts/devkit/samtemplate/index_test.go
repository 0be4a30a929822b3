package samtemplate

import (
	"slices"
	"testing"
)

// TestHistoryIndex: the table has the delivery history's index as the
// store queries it (gpk, gsk), projecting what the history shows and not
// the webhook body.
func TestHistoryIndex(t *testing.T) {
	tp := loadRepoTemplate(t)
	var idx map[string]any
	for _, g := range toSlice(props(tp, "HooksTable")["GlobalSecondaryIndexes"]) {
		if m, _ := g.(map[string]any); m["IndexName"] == "by_created" {
			idx = m
		}
	}
	if idx == nil {
		t.Fatal("HooksTable has no index by_created")
	}
	var keys []string
	for _, k := range toSlice(idx["KeySchema"]) {
		m, _ := k.(map[string]any)
		keys = append(keys, m["AttributeName"].(string)+" "+m["KeyType"].(string))
	}
	if !slices.Equal(keys, []string{"gpk HASH", "gsk RANGE"}) {
		t.Errorf("by_created key schema = %v, want [gpk HASH gsk RANGE]", keys)
	}
	proj, _ := idx["Projection"].(map[string]any)
	if proj["ProjectionType"] != "INCLUDE" {
		t.Errorf("by_created projection = %v, want INCLUDE", proj["ProjectionType"])
	}
	attrs := toSlice(proj["NonKeyAttributes"])
	// Names of shared/store/loadrecord.go: load id, integration, tables,
	// the hooks' entries; the body is b.
	for _, want := range []string{"load_id", "in", "tb", "h"} {
		if !slices.Contains(attrs, any(want)) {
			t.Errorf("by_created does not project %s", want)
		}
	}
	if slices.Contains(attrs, any("b")) {
		t.Error("by_created projects the webhook body")
	}
}
