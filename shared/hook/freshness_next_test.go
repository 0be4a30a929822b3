package hook

import (
	"testing"
	"time"
)

func TestFreshnessRuleNext(t *testing.T) {
	created := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	r := FreshnessRule{IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", Interval: 2 * time.Hour, CreatedAt: created}
	load := created.Add(3 * time.Hour)
	for _, tt := range []struct {
		name string
		st   FreshnessState
		at   time.Time
		want FreshnessAction
	}{
		{"no load: clock from creation, not yet due", FreshnessState{}, created.Add(2*time.Hour - time.Nanosecond), FreshnessWait},
		{"no load: due at creation + interval", FreshnessState{}, created.Add(2 * time.Hour), FreshnessOpen},
		{"a load before the rule counts from creation", FreshnessState{LastLoadedAt: created.Add(-time.Hour)}, created.Add(time.Hour), FreshnessWait},
		{"after a load: clock from the load", FreshnessState{LastLoadedAt: load, Episode: 1}, load.Add(time.Hour), FreshnessWait},
		{"after a load: due", FreshnessState{LastLoadedAt: load, Episode: 1}, load.Add(2 * time.Hour), FreshnessOpen},
		{"open, overdue notice not done", FreshnessState{Episode: 1, Open: true}, created.Add(5 * time.Hour), FreshnessSendOverdue},
		{"open, notice done, no load: wait", FreshnessState{Episode: 1, Open: true, OverdueSent: true}, created.Add(50 * time.Hour), FreshnessWait},
		{"open, loaded since: back on time", FreshnessState{Episode: 1, Open: true, OverdueSent: true, LastLoadedAt: load}, load, FreshnessSendBack},
		{"open, same load as when opened: wait", FreshnessState{Episode: 2, Open: true, OverdueSent: true, LastLoadedAt: load, OpenedLoad: load}, load.Add(9 * time.Hour), FreshnessWait},
		{"open, loaded but overdue notice first", FreshnessState{Episode: 1, Open: true, LastLoadedAt: load}, load, FreshnessSendOverdue},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Next(tt.st, tt.at); got != tt.want {
				t.Errorf("Next = %d, want %d", got, tt.want)
			}
		})
	}
	if k := (FreshnessKey{Integration: "a/b", Table: "c"}).String(); k == (FreshnessKey{Integration: "a", Table: "b/c"}).String() {
		t.Errorf("keys collide: %q", k)
	}
}
