package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// An invocation's latencies go out in lines of at most 100 values, the
// most an embedded metric format line may carry for one metric.
func TestAttemptLatencyInLinesOfAtMost100(t *testing.T) {
	var out bytes.Buffer
	m := newMetrics(&out, func() time.Time { return time.UnixMilli(1796283208013) })
	var tl tally
	for i := range 250 {
		tl.add("success", "delivered", int64(i))
	}
	m.attempts(&tl)
	var sizes []int
	total := 0.0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var emf map[string]any
		if err := json.Unmarshal([]byte(l), &emf); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if vs, ok := emf["AttemptLatency"].([]any); ok {
			sizes = append(sizes, len(vs))
			for _, v := range vs {
				total += v.(float64)
			}
		}
	}
	if len(sizes) != 3 || sizes[0] != 100 || sizes[1] != 100 || sizes[2] != 50 || total != 249*250/2 {
		t.Errorf("latency lines of %v values, sum %v; want 100, 100, 50 and every value once", sizes, total)
	}
}
