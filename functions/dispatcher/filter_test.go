package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

// A hook's filter and events decide which table loads it is sent, and
// every request carries the loader's load id.
func TestFiltersAndEventsChooseTheHooksOfALoad(t *testing.T) {
	tests := []struct {
		name string
		hook hook.Hook
		want []string
	}{
		{"no filter", hook.Hook{}, []string{"https://one.example/h", "https://four.example/h"}},
		{"integration matches", hook.Hook{Filter: &hook.Filter{Integrations: []string{"shop*"}}}, []string{"https://one.example/h", "https://four.example/h"}},
		{"integration differs", hook.Hook{Filter: &hook.Filter{Integrations: []string{"hubspot"}}}, []string{"https://one.example/h"}},
		{"table matches", hook.Hook{Filter: &hook.Filter{Tables: []string{"orders", "orders__*"}}}, []string{"https://one.example/h", "https://four.example/h"}},
		{"table differs", hook.Hook{Filter: &hook.Filter{Tables: []string{"customers"}}}, []string{"https://one.example/h"}},
		{"only run summaries", hook.Hook{EventTypes: []string{hook.EventRunCompleted}}, []string{"https://one.example/h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			h := tt.hook
			h.ID, h.ClientID, h.DestinationID, h.URL, h.Secret = 4, testClient, testDest, "https://four.example/h", "whsec_four"
			e.store.PutHook(h)
			e.mustRun(t, sqsEvent(loadMessageTo(testClient, testDest, "L1")))
			var got []string
			for _, r := range e.hooks.calls() {
				got = append(got, r.URL)
				if r.LoadID != "L1" {
					t.Errorf("request to %s carries load id %q, want L1", r.URL, r.LoadID)
				}
			}
			if diff := cmp.Diff(got, tt.want, cmpSorted); diff != "" {
				t.Errorf("hooks sent to (-got +want):\n%s", diff)
			}
		})
	}
}
