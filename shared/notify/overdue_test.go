package notify

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOverdueEncode(t *testing.T) {
	at := time.Date(2026, 7, 15, 16, 45, 8, 26_000_000, time.FixedZone("CEST", 2*3600))
	for _, tt := range []struct {
		name string
		in   Overdue
		want string
	}{
		{"overdue after a load", Overdue{State: StateOverdue, IntegrationName: "shopify", Table: "orders", MaxInterval: "2h", LastLoadedAt: at},
			`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":"2026-07-15T14:45:08.026Z"}`},
		{"overdue with no load: null", Overdue{State: StateOverdue, IntegrationName: "shopify", Table: "orders", MaxInterval: "90m"},
			`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"90m","last_loaded_at":null}`},
		{"back on time, interval echoed as given", Overdue{State: StateBackOnTime, IntegrationName: "stripe", Table: "charges", MaxInterval: "1h30m0s", LastLoadedAt: at},
			`{"version":"1.0","type":"load_overdue","state":"back_on_time","integration_name":"stripe","table":"charges","max_interval":"1h30m0s","last_loaded_at":"2026-07-15T14:45:08.026Z"}`},
		{"names escaped as JSON, not HTML", Overdue{State: StateOverdue, IntegrationName: `a"<b>`, Table: "t\n", MaxInterval: "5m"},
			`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"a\"<b>","table":"t\n","max_interval":"5m","last_loaded_at":null}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.Encode()
			if diff := cmp.Diff(string(got), tt.want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}
