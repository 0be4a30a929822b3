package notify

import (
	"strings"
	"testing"
	"time"
)

func TestParseOverdueReadsWhatEncodeWrites(t *testing.T) {
	for _, o := range []Overdue{
		{State: StateOverdue, IntegrationName: "shopify", Table: "orders", MaxInterval: "2h"},
		{State: StateBackOnTime, IntegrationName: "shopify", Table: "orders", MaxInterval: "90m",
			LastLoadedAt: time.Date(2026, 7, 15, 14, 45, 8, 26e6, time.UTC)},
	} {
		got, err := ParseOverdue(o.Encode())
		if err != nil || got != o {
			t.Errorf("ParseOverdue(%s) = %+v, %v; want %+v", o.Encode(), got, err, o)
		}
	}
}

func TestParseOverdueRefusesOtherBodies(t *testing.T) {
	good := string(Overdue{State: StateOverdue, IntegrationName: "shopify", Table: "orders", MaxInterval: "2h"}.Encode())
	for name, body := range map[string]string{
		"a table load":  `{"version":"1.0","integration_name":"shopify"}`,
		"unknown state": strings.Replace(good, `"state":"overdue"`, `"state":"late"`, 1),
		"other type":    strings.Replace(good, `"type":"load_overdue"`, `"type":"run_completed"`, 1),
		"extra key":     strings.Replace(good, `"table":`, `"x":1,"table":`, 1),
		"empty table":   strings.Replace(good, `"table":"orders"`, `"table":""`, 1),
		"bad time":      strings.Replace(good, `"last_loaded_at":null`, `"last_loaded_at":"yesterday"`, 1),
		"not json":      `{`,
	} {
		if _, err := ParseOverdue([]byte(body)); err == nil {
			t.Errorf("%s: ParseOverdue(%s) accepted it", name, body)
		} else if _, ok := err.(*ValidationError); !ok {
			t.Errorf("%s: error %T, want *ValidationError", name, err)
		}
	}
}
