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

func TestIsEventBodyTellsEventsFromLoads(t *testing.T) {
	if b := (Overdue{State: StateOverdue, IntegrationName: "s", Table: "t", MaxInterval: "2h"}).Encode(); !IsEventBody(b) {
		t.Errorf("IsEventBody(%s) = false", b)
	}
	m, err := Parse([]byte(`{"client_id":1,"load_id":"L1","status":"succeeded","notification":{"integration_name":"shopify","new_version":false,` +
		`"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,"tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":1,"num_rows_rejected":0}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if IsEventBody(m.Body) {
		t.Errorf("IsEventBody(%s) = true for a table load", m.Body)
	}
	// A load body with a "type" is not an event's, and its reader refuses it.
	if _, err := ParseBody([]byte(`{"type":"load_overdue","version":"1.0"}`)); err == nil {
		t.Error("ParseBody accepted a body with a type")
	}
}
