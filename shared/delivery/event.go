package delivery

import (
	"bytes"
	"encoding/json"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// KindEvent is an event notification other than a table load, queued on
// the retry queue for the hooks of the account subscribed to its type.
const KindEvent = "event"

// EventMessage asks for one event notification to be sent to every
// enabled hook of the account subscribed to Event (a hook event type such
// as "load_overdue"), with Body as the webhook body, byte for byte.
// EventID is the notice's own stable id, the same however often the
// message is queued: it plays the load id's part (the delivery record's
// key, and with the hook id the webhook-id), so a notice queued twice is
// sent once. DestinationID, when not 0, limits the hooks to those sent
// that destination's loads (a run's summary goes where its loads went);
// 0 is every hook of the account.
//
//	{"kind":"event","client_id":116078,"event":"load_overdue",
//	 "event_id":"freshness-overdue-1-<16 hex>","body":{...}}
type EventMessage struct {
	Kind     string `json:"kind"` // KindEvent
	ClientID int64  `json:"client_id"`
	// DestinationID is omitted when 0.
	DestinationID int64           `json:"destination_id,omitempty"`
	Event         string          `json:"event"`
	EventID       string          `json:"event_id"`
	Body          json.RawMessage `json:"body"` // the webhook body, as raw JSON
}

// Encode is the message as queued: compact JSON, HTML characters not
// escaped.
func (m EventMessage) Encode() []byte { return encode(m) }

var eventKeys = []string{"kind", "client_id", "destination_id", "event", "event_id", "body"}

// DecodeEvent reads an event message, allowing no other key (all but
// destination_id are required); Body must be a JSON object.
func DecodeEvent(raw []byte) (EventMessage, error) {
	var m EventMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if err := o.Only(eventKeys...); err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindEvent); err != nil {
		return m, err
	}
	if m.ClientID, err = o.Positive("client_id"); err != nil {
		return m, err
	}
	if o.Has("destination_id") {
		if m.DestinationID, err = o.Positive("destination_id"); err != nil {
			return m, err
		}
	}
	if m.Event, err = o.Name("event"); err != nil {
		return m, err
	}
	if m.EventID, err = o.Name("event_id"); err != nil {
		return m, err
	}
	if _, err := o.Object("body"); err != nil {
		return m, err
	}
	m.Body, err = o.Required("body")
	return m, err
}

// eventPrefix is how every event message starts (Encode writes kind
// first), so the dispatcher tells events from retries without parsing.
const eventPrefix = `{"kind":"event",`

// IsEvent reports whether a message of the retry queue is an event message
// as Encode writes it (the dispatcher then reads it with DecodeEvent, which
// checks everything).
func IsEvent(raw []byte) bool { return bytes.HasPrefix(raw, []byte(eventPrefix)) }
