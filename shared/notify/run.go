package notify

import (
	"bytes"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// EventRunCompleted is the summary of an integration run.
const EventRunCompleted = "run_completed"

// RunCompleted is the body of a run_completed notice: the tables of one
// integration run, sent once when all its table notifications have arrived
// (Complete), or when the wait for the missing ones is over, with what
// arrived.
type RunCompleted struct {
	IntegrationName string
	RunID           string
	Complete        bool
	StartedAt       time.Time // the run's first table notification arrived
	FinishedAt      time.Time // its last counted one arrived
	Tables          []RunTable
}

// RunTable is one table of a run summary.
type RunTable struct {
	DestinationTableName string
	Status               string
	NumRows              int64
	NumRowsRejected      int64
}

// Encode writes the body, its fields in this order and none other:
//
//	{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r1",
//	 "complete":true,"started_at":"2026-07-15T14:45:08.026Z","finished_at":"2026-07-15T14:47:01.114Z",
//	 "tables":[{"destination_table_name":"orders","status":"succeeded","num_rows":100,"num_rows_rejected":11}]}
func (r RunCompleted) Encode() []byte {
	b := make([]byte, 0, 256+80*len(r.Tables))
	b = append(b, `{"version":`...)
	b = appendString(b, Version)
	b = append(b, `,"type":`...)
	b = appendString(b, EventRunCompleted)
	b = append(b, `,"integration_name":`...)
	b = appendString(b, r.IntegrationName)
	b = append(b, `,"run_id":`...)
	b = appendString(b, r.RunID)
	b = append(b, `,"complete":`...)
	b = strconv.AppendBool(b, r.Complete)
	b = append(b, `,"started_at":`...)
	b = appendString(b, r.StartedAt.UTC().Format(overdueTime))
	b = append(b, `,"finished_at":`...)
	b = appendString(b, r.FinishedAt.UTC().Format(overdueTime))
	b = append(b, `,"tables":[`...)
	for i, t := range r.Tables {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"destination_table_name":`...)
		b = appendString(b, t.DestinationTableName)
		b = append(b, `,"status":`...)
		b = appendString(b, t.Status)
		b = append(b, `,"num_rows":`...)
		b = strconv.AppendInt(b, t.NumRows, 10)
		b = append(b, `,"num_rows_rejected":`...)
		b = strconv.AppendInt(b, t.NumRowsRejected, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

var (
	runCompletedKeys = []string{"version", "type", "integration_name", "run_id", "complete", "started_at", "finished_at", "tables"}
	runTableKeys     = []string{"destination_table_name", "status", "num_rows", "num_rows_rejected"}
)

// ParseRunCompleted reads a run_completed body as Encode writes it:
// exactly its keys, version 1.0, names not empty, times RFC 3339, at least
// one table, each with exactly its keys, a known status and counts not
// negative. Every error is a *ValidationError.
func ParseRunCompleted(body []byte) (RunCompleted, error) {
	r, err := parseRunCompleted(body)
	if err != nil {
		err = validation(err)
		if ve, ok := err.(*ValidationError); ok {
			ve.Of = "run_completed body"
		}
	}
	return r, err
}

func parseRunCompleted(body []byte) (RunCompleted, error) {
	var r RunCompleted
	obj, err := strictjson.Parse(body)
	if err != nil {
		return r, err
	}
	if err := obj.Exactly(runCompletedKeys...); err != nil {
		return r, err
	}
	if v, err := obj.String("version"); err != nil || v != Version {
		return r, invalid("version", "must be "+Version)
	}
	if t, err := obj.String("type"); err != nil || t != EventRunCompleted {
		return r, invalid("type", "must be "+EventRunCompleted)
	}
	if r.IntegrationName, err = obj.Name("integration_name"); err != nil {
		return r, err
	}
	if r.RunID, err = obj.Name("run_id"); err != nil {
		return r, err
	}
	if r.Complete, err = obj.Bool("complete"); err != nil {
		return r, err
	}
	if r.StartedAt, err = obj.Time("started_at"); err != nil {
		return r, err
	}
	if r.FinishedAt, err = obj.Time("finished_at"); err != nil {
		return r, err
	}
	tables, err := obj.Objects("tables")
	if err != nil {
		return r, err
	}
	if len(tables) == 0 {
		return r, invalid("tables", "must not be empty")
	}
	for _, o := range tables {
		if err := o.Exactly(runTableKeys...); err != nil {
			return r, err
		}
		var t RunTable
		if t.DestinationTableName, err = o.Name("destination_table_name"); err != nil {
			return r, err
		}
		if t.Status, err = o.String("status"); err != nil {
			return r, err
		}
		if t.Status != StatusSucceeded && t.Status != StatusRejected && t.Status != StatusFailed {
			return r, invalid(o.Field("status"), "must be succeeded, rejected or failed")
		}
		if t.NumRows, err = o.Count("num_rows"); err != nil {
			return r, err
		}
		if t.NumRowsRejected, err = o.Count("num_rows_rejected"); err != nil {
			return r, err
		}
		r.Tables = append(r.Tables, t)
	}
	return r, nil
}

// runAlertTables is the most tables an alert about a summary names, so
// its alert message stays as small as a load's.
const runAlertTables = 10

// Notification is what an alert about the summary names: its integration
// and its first tables (the first as the root table).
func (r RunCompleted) Notification() Notification {
	n := Notification{IntegrationName: r.IntegrationName}
	for _, t := range r.Tables[:min(len(r.Tables), runAlertTables)] {
		n.Tables = append(n.Tables, Table{DestinationTableName: t.DestinationTableName})
	}
	if len(r.Tables) > 0 {
		n.DestinationRootTableName = r.Tables[0].DestinationTableName
	}
	return n
}

// runCompletedPrefix is how every run_completed body starts (Encode writes
// the version, then the type).
const runCompletedPrefix = eventBodyPrefix + `"` + EventRunCompleted + `"`

// IsRunCompletedBody reports whether a body the service wrote is a
// run_completed summary (then read with ParseRunCompleted).
func IsRunCompletedBody(body []byte) bool { return bytes.HasPrefix(body, []byte(runCompletedPrefix)) }
