package main

import "testing"

// Each size row says whether the bootstrap meets 8 MiB and what it weighed
// before; exactly 8 MiB meets the goal, one byte more does not.
func TestSizeVerdict(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   string
		n    int64
		want string
	}{
		{"under, with before", "dispatcher", 7 << 20, "met (goal ≤ 8 MiB); before 7.81"},
		{"exactly the goal", "api", 8 << 20, "met (goal ≤ 8 MiB); before 11.81"},
		{"one byte over", "alerter", 8<<20 + 1, "not met: 0.00 MiB over (goal ≤ 8 MiB); before 10.94"},
		{"over", "api", 11<<20 + 1<<19, "not met: 3.50 MiB over (goal ≤ 8 MiB); before 11.81"},
		{"no before figure", "floorfn", 5 << 20, "met (goal ≤ 8 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sizeVerdict(tc.fn, tc.n); got != tc.want {
				t.Errorf("sizeVerdict(%q, %d) = %q, want %q", tc.fn, tc.n, got, tc.want)
			}
		})
	}
}
