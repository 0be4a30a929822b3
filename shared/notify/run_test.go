package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRunCompletedEncode(t *testing.T) {
	t0 := time.Date(2026, 7, 15, 14, 45, 8, 26_000_000, time.UTC)
	r := RunCompleted{IntegrationName: "shop<ify>", RunID: "r1", Complete: true, StartedAt: t0, FinishedAt: t0.Add(time.Minute),
		Tables: []RunTable{{"orders", StatusSucceeded, 100, 11}, {"orders__items", StatusRejected, 0, 4}}}
	got := string(r.Encode())
	want := `{"version":"1.0","type":"run_completed","integration_name":"shop<ify>","run_id":"r1","complete":true,` +
		`"started_at":"2026-07-15T14:45:08.026Z","finished_at":"2026-07-15T14:46:08.026Z",` +
		`"tables":[{"destination_table_name":"orders","status":"succeeded","num_rows":100,"num_rows_rejected":11},` +
		`{"destination_table_name":"orders__items","status":"rejected","num_rows":0,"num_rows_rejected":4}]}`
	if got != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseRunCompleted([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, r); diff != "" {
		t.Errorf("ParseRunCompleted(Encode) (-got +want):\n%s", diff)
	}
	if !IsEventBody([]byte(got)) {
		t.Error("IsEventBody = false for a run_completed body")
	}
}

func TestRunCompletedBodiesMatchTheSchema(t *testing.T) {
	s := compileSchema(t, "run_completed")
	t0 := time.Date(2026, 7, 15, 14, 45, 8, 0, time.UTC)
	for _, r := range []RunCompleted{
		{IntegrationName: "shopify", RunID: "r1", Complete: true, StartedAt: t0, FinishedAt: t0,
			Tables: []RunTable{{"orders", StatusSucceeded, 100, 11}}},
		{IntegrationName: "i\"\\\u2028", RunID: strings.Repeat("é", 128), Complete: false, StartedAt: t0, FinishedAt: t0.Add(time.Hour),
			Tables: []RunTable{{"a", StatusFailed, 0, 0}, {"b", StatusRejected, 0, 9}}},
	} {
		if err := validate(t, s, string(r.Encode())); err != nil {
			t.Errorf("%s does not match run_completed: %v", r.Encode(), err)
		}
	}
}

func TestParseRunCompletedRejects(t *testing.T) {
	ok := `{"version":"1.0","type":"run_completed","integration_name":"s","run_id":"r","complete":false,"started_at":"2026-07-15T14:45:08Z","finished_at":"2026-07-15T14:45:08Z","tables":[{"destination_table_name":"o","status":"succeeded","num_rows":1,"num_rows_rejected":0}]}`
	if _, err := ParseRunCompleted([]byte(ok)); err != nil {
		t.Fatalf("valid body: %v", err)
	}
	for name, body := range map[string]string{
		"type":      strings.Replace(ok, `"run_completed"`, `"load_overdue"`, 1),
		"no tables": strings.Replace(ok, `[{"destination_table_name":"o","status":"succeeded","num_rows":1,"num_rows_rejected":0}]`, `[]`, 1),
		"status":    strings.Replace(ok, `"succeeded"`, `"done"`, 1),
		"negative":  strings.Replace(ok, `"num_rows":1`, `"num_rows":-1`, 1),
		"extra key": strings.Replace(ok, `"complete":false`, `"complete":false,"x":1`, 1),
		"time":      strings.Replace(ok, `"2026-07-15T14:45:08Z"`, `"yesterday"`, 1),
	} {
		if _, err := ParseRunCompleted([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		}
	}
}

// An alert about a summary names its integration and at most its first 10
// tables, the first as the root table.
func TestRunCompletedNotification(t *testing.T) {
	r := RunCompleted{IntegrationName: "shopify"}
	for i := range 15 {
		r.Tables = append(r.Tables, RunTable{DestinationTableName: string(rune('a' + i)), Status: StatusSucceeded})
	}
	n := r.Notification()
	if n.IntegrationName != "shopify" || n.DestinationRootTableName != "a" || len(n.Tables) != 10 || n.Tables[9].DestinationTableName != "j" {
		t.Errorf("Notification = %+v, want shopify, root a, tables a..j", n)
	}
}
