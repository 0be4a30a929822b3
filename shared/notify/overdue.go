package notify

import "time"

// Event types a hook can subscribe to besides the load itself.
const (
	// EventLoadOverdue is the freshness notice: a ruled table is overdue,
	// or back on time.
	EventLoadOverdue = "load_overdue"
)

// States of a load_overdue notice.
const (
	StateOverdue    = "overdue"
	StateBackOnTime = "back_on_time"
)

// Overdue is the body of a load_overdue notice: the table of the
// integration has had no successful load for MaxInterval (State
// "overdue"), or has loaded again after that (State "back_on_time").
type Overdue struct {
	State           string
	IntegrationName string
	Table           string // the destination root table
	// MaxInterval is the rule's max_interval exactly as the member wrote it.
	MaxInterval string
	// LastLoadedAt is the table's last successful load; zero when there
	// was none since the rule was made.
	LastLoadedAt time.Time
}

// overdueTime is how LastLoadedAt is written: RFC 3339 in UTC with
// milliseconds, as the load body's times are.
const overdueTime = "2006-01-02T15:04:05.000Z"

// Encode writes the body, its fields in this order and none other:
//
//	{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify",
//	 "table":"orders","max_interval":"2h","last_loaded_at":"2026-07-15T14:45:08.026Z"}
//
// with "last_loaded_at":null when there was no load.
func (o Overdue) Encode() []byte {
	b := make([]byte, 0, 192)
	b = append(b, `{"version":`...)
	b = appendString(b, Version)
	b = append(b, `,"type":`...)
	b = appendString(b, EventLoadOverdue)
	b = append(b, `,"state":`...)
	b = appendString(b, o.State)
	b = append(b, `,"integration_name":`...)
	b = appendString(b, o.IntegrationName)
	b = append(b, `,"table":`...)
	b = appendString(b, o.Table)
	b = append(b, `,"max_interval":`...)
	b = appendString(b, o.MaxInterval)
	b = append(b, `,"last_loaded_at":`...)
	if o.LastLoadedAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendString(b, o.LastLoadedAt.UTC().Format(overdueTime))
	}
	return append(b, '}')
}
