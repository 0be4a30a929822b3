package notify

import (
	"bytes"
	"time"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

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

// overdueKeys are the keys of a load_overdue body, in the order Encode
// writes them.
var overdueKeys = []string{"version", "type", "state", "integration_name", "table", "max_interval", "last_loaded_at"}

// ParseOverdue reads a load_overdue body as Encode writes it: exactly its
// keys, version 1.0, a known state, names not empty, last_loaded_at an
// RFC 3339 time or null. Every error is a *ValidationError.
func ParseOverdue(body []byte) (Overdue, error) {
	o, err := parseOverdue(body)
	if ve, ok := err.(*ValidationError); ok {
		ve.Of = "load_overdue body"
	}
	return o, err
}

func parseOverdue(body []byte) (Overdue, error) {
	var o Overdue
	obj, err := strictjson.Parse(body)
	if err != nil {
		return o, validation(err)
	}
	if err := obj.Exactly(overdueKeys...); err != nil {
		return o, validation(err)
	}
	if v, err := obj.String("version"); err != nil || v != Version {
		return o, invalid("version", "must be "+Version)
	}
	if t, err := obj.String("type"); err != nil || t != EventLoadOverdue {
		return o, invalid("type", "must be "+EventLoadOverdue)
	}
	if o.State, err = obj.String("state"); err != nil || (o.State != StateOverdue && o.State != StateBackOnTime) {
		return o, invalid("state", "must be "+StateOverdue+" or "+StateBackOnTime)
	}
	if o.IntegrationName, err = obj.Name("integration_name"); err != nil {
		return o, validation(err)
	}
	if o.Table, err = obj.Name("table"); err != nil {
		return o, validation(err)
	}
	if o.MaxInterval, err = obj.Name("max_interval"); err != nil {
		return o, validation(err)
	}
	if raw, _, _ := obj.Get("last_loaded_at"); string(raw) != "null" {
		if o.LastLoadedAt, err = obj.Time("last_loaded_at"); err != nil {
			return o, validation(err)
		}
	}
	return o, nil
}

// Notification is what an alert about the notice names: its integration
// and its table (as the destination root table and the one table).
func (o Overdue) Notification() Notification {
	return Notification{IntegrationName: o.IntegrationName, DestinationRootTableName: o.Table,
		Tables: []Table{{DestinationTableName: o.Table}}}
}

// eventBodyPrefix is how every event body starts (its Encode writes the
// version, then the type); a table load's body has no type.
const eventBodyPrefix = `{"version":"` + Version + `","type":`

// IsEventBody reports whether a body the service wrote is an event's rather
// than a table load's. A body written otherwise is read as a table load's,
// whose strict reader refuses a "type".
func IsEventBody(body []byte) bool { return bytes.HasPrefix(body, []byte(eventBodyPrefix)) }
