// Package notify reads the load messages that loaders put on the
// post-load-notifications queue and turns their notification into the
// canonical version 1.0 webhook body.
//
// Parse validates a message completely (every problem is a *ValidationError
// naming the field and the reason, never the value), reading keys under
// package strictjson's rule (exact, never repeated, never two that differ
// only in case), and encodes the body once;
// the dispatcher then signs and sends those exact bytes to every hook.
//
// The canonical body holds the documented fields only, in the documented
// order, with absent optional fields omitted: minimum_sdc_batched_at,
// s3_objects, primary_keys and max_time_extracted are omitted when the loader
// did not send them (s3_objects and primary_keys come with S3 destinations
// only). bookmark_metadata is always present: the specification says it is
// null when all rows were rejected, so receivers can rely on the key and test
// it for null (it is also null when a succeeded load has no bookmark).
//
// The package does no I/O and does not log. It does not decide who receives
// a notification: that is the dispatcher's job.
package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Load statuses of a message.
const (
	StatusSucceeded = "succeeded"
	StatusRejected  = "rejected"
	StatusFailed    = "failed"
)

// Version is the version of the webhook body this package writes.
const Version = "1.0"

// MaxLoadIDLength is the longest load_id accepted, in characters.
const MaxLoadIDLength = 128

// MaxBodyBytes bounds the canonical webhook body. The body travels again,
// byte for byte, inside retry messages, and its names inside alert messages
// (package delivery), and an SQS message holds at most 256 KiB; 192 KiB
// leaves room for the rest of either.
const MaxBodyBytes = 192 << 10

// Message is one validated load message.
type Message struct {
	ClientID int64
	// DestinationID is the destination that was loaded; 0 when the message
	// has none (a loader older than destinations), which means every
	// enabled hook of the account.
	DestinationID int64
	LoadID        string
	Status        string
	// Notification and Body are nil when Status is StatusFailed: nothing is
	// sent for a failed load, so its notification is not read, except for a
	// load of a run (Notification then holds it when it is valid, for the
	// run's summary; Body stays nil).
	Notification *Notification
	// Body is the canonical webhook body of Notification.
	Body []byte
	// Run is the integration run the load belongs to; nil when the message
	// names none (a "run" key absent or null).
	Run *Run
}

// Run is a load message's "run": the integration run the table load
// belongs to, and how many table notifications that run has.
type Run struct {
	ID     string // 1 to MaxLoadIDLength characters, no control characters
	Tables int64  // at least 1
}

// Notification is the webhook body (README.md in this folder), typed.
type Notification struct {
	Version                  string
	MinimumSDCBatchedAt      string // RFC 3339 as the loader wrote it; "" when absent
	IntegrationName          string
	NewVersion               bool
	SourceRootTableName      string
	DestinationRootTableName string
	TableVersion             int64
	Tables                   []Table // root table first
}

// Table is one loaded table of a notification.
type Table struct {
	SourceTableName      string
	DestinationTableName string
	NumRows              int64
	NumRowsRejected      int64
	S3Objects            []string   // nil when absent (destinations other than S3)
	PrimaryKeys          []string   // nil when absent (destinations other than S3)
	BookmarkMetadata     []Bookmark // nil encodes as null
	MaxTimeExtracted     string     // RFC 3339 as the loader wrote it; "" when absent
}

// Bookmark is one replication bookmark of a table. MinValue and MaxValue
// are JSON scalars (string, number, boolean or null) kept as compact JSON;
// nil when absent.
type Bookmark struct {
	Key      string
	MaxValue json.RawMessage
	MinValue json.RawMessage
}

// ValidationError says why a message is malformed. Field is a JSON path
// ("notification.tables[1].num_rows"); Reason is a fixed phrase. Neither
// ever holds a value from the message, so both are safe to log.
type ValidationError struct {
	Field  string
	Reason string
	// Of names what was read when it is not a load message (a
	// load_overdue body, see ParseOverdue).
	Of string
}

func (e *ValidationError) Error() string {
	of := e.Of
	if of == "" {
		of = "load message"
	}
	if e.Field == "" {
		return "invalid " + of + ": " + e.Reason
	}
	return "invalid " + of + ": " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// Parse validates a load message and encodes its notification's canonical
// body. Every error is a *ValidationError. Keys follow package strictjson's
// rule: exact, never repeated, never two that differ only in case.
func Parse(body []byte) (Message, error) {
	m, err := parse(body)
	return m, validation(err)
}

func parse(body []byte) (Message, error) {
	if !json.Valid(body) {
		return Message{}, invalid("", "not valid JSON")
	}
	obj, err := strictjson.ParseValid(body, "")
	if err != nil {
		return Message{}, err
	}
	return decodeMessage(obj)
}

// ParseObject is Parse of a message that strictjson.Parse has read already
// (a reader that looks at other keys of it first reads it once).
func ParseObject(obj strictjson.Object) (Message, error) {
	m, err := decodeMessage(obj)
	return m, validation(err)
}

func decodeMessage(obj strictjson.Object) (Message, error) {
	var err error
	var m Message
	if m.ClientID, err = obj.Int("client_id"); err != nil {
		return Message{}, err
	}
	if m.ClientID <= 0 {
		return Message{}, invalid("client_id", "must be a positive integer")
	}
	if raw, err := obj.Optional("destination_id"); err != nil {
		return Message{}, err
	} else if raw != nil {
		if m.DestinationID, err = obj.Positive("destination_id"); err != nil {
			return Message{}, err
		}
	}
	if m.LoadID, err = obj.String("load_id"); err != nil {
		return Message{}, err
	}
	if err := CheckLoadID(m.LoadID); err != nil {
		return Message{}, err
	}
	if m.Status, err = obj.String("status"); err != nil {
		return Message{}, err
	}
	if m.Run, err = decodeRun(obj); err != nil {
		return Message{}, err
	}
	switch m.Status {
	case StatusSucceeded, StatusRejected:
	case StatusFailed:
		// Nothing is sent for a failed load, but its run counts it: its
		// notification, when valid, names the run's integration and tables.
		// Absent or invalid, it is ignored as before, and the load is in no
		// run.
		if m.Run != nil {
			if raw, _ := obj.Optional("notification"); raw != nil {
				if n, err := decodeNotification(raw, "notification"); err == nil {
					m.Notification = &n
				}
			}
		}
		return m, nil
	default:
		return Message{}, invalid("status", "must be succeeded, rejected or failed")
	}
	raw, err := obj.Required("notification")
	if err != nil {
		return Message{}, err
	}
	n, err := decodeNotification(raw, "notification")
	if err != nil {
		return Message{}, err
	}
	if m.Status == StatusRejected {
		for i, t := range n.Tables {
			p := tablePath("notification", i)
			if t.NumRows != 0 {
				return Message{}, invalid(p+".num_rows", "must be 0 when status is rejected")
			}
			if t.BookmarkMetadata != nil {
				return Message{}, invalid(p+".bookmark_metadata", "must be null when status is rejected")
			}
		}
	}
	if m.Body, err = n.Encode(); err != nil {
		return Message{}, err
	}
	m.Notification = &n
	return m, nil
}

// ParseBody decodes and validates a webhook body (a notification on its own),
// as carried by retry messages. Every error is a *ValidationError.
func ParseBody(body []byte) (Notification, error) {
	if !json.Valid(body) {
		return Notification{}, invalid("", "not valid JSON")
	}
	n, err := decodeNotification(body, "")
	return n, validation(err)
}

// Encode returns the canonical body of n: version "1.0", documented fields
// only, in the documented order, compact, HTML characters not escaped
// (byte for byte what encoding/json writes with SetEscapeHTML(false)).
func (n Notification) Encode() ([]byte, error) {
	// Room for the usual body; append grows it when that is short.
	b := make([]byte, 0, 256+512*len(n.Tables))
	b = append(b, `{"version":"`+Version+`"`...)
	if n.MinimumSDCBatchedAt != "" {
		b = appendString(append(b, `,"minimum_sdc_batched_at":`...), n.MinimumSDCBatchedAt)
	}
	b = appendString(append(b, `,"integration_name":`...), n.IntegrationName)
	b = strconv.AppendBool(append(b, `,"new_version":`...), n.NewVersion)
	b = appendString(append(b, `,"source_root_table_name":`...), n.SourceRootTableName)
	b = appendString(append(b, `,"destination_root_table_name":`...), n.DestinationRootTableName)
	b = strconv.AppendInt(append(b, `,"table_version":`...), n.TableVersion, 10)
	b = append(b, `,"tables":[`...)
	for i, t := range n.Tables {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"source_table_name":`...), t.SourceTableName)
		b = appendString(append(b, `,"destination_table_name":`...), t.DestinationTableName)
		b = strconv.AppendInt(append(b, `,"num_rows":`...), t.NumRows, 10)
		b = strconv.AppendInt(append(b, `,"num_rows_rejected":`...), t.NumRowsRejected, 10)
		if t.S3Objects != nil {
			b = appendStrings(append(b, `,"s3_objects":`...), t.S3Objects)
		}
		if t.PrimaryKeys != nil {
			b = appendStrings(append(b, `,"primary_keys":`...), t.PrimaryKeys)
		}
		b = append(b, `,"bookmark_metadata":`...)
		if t.BookmarkMetadata == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, bm := range t.BookmarkMetadata {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(append(b, `{"key":`...), bm.Key)
				var err error
				if len(bm.MaxValue) > 0 {
					if b, err = appendCompact(append(b, `,"max_value":`...), bm.MaxValue); err != nil {
						return nil, invalid("notification", "cannot be encoded")
					}
				}
				if len(bm.MinValue) > 0 {
					if b, err = appendCompact(append(b, `,"min_value":`...), bm.MinValue); err != nil {
						return nil, invalid("notification", "cannot be encoded")
					}
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		if t.MaxTimeExtracted != "" {
			b = appendString(append(b, `,"max_time_extracted":`...), t.MaxTimeExtracted)
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	if len(b) > MaxBodyBytes {
		return nil, invalid("notification", "too large")
	}
	return b, nil
}

// appendString appends s as a JSON string, as encoding/json writes it with
// HTML escaping off. A string holding nothing that encoding/json escapes or
// replaces (quote, backslash, control characters, invalid UTF-8, U+2028,
// U+2029) is copied as is; any other goes through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return append(b, marshalString(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendStrings appends ss as a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for j, s := range ss {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendCompact appends the JSON value v without insignificant space,
// failing when v is not valid JSON.
func appendCompact(b []byte, v json.RawMessage) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	err := json.Compact(buf, v)
	return buf.Bytes(), err
}

// TableNames returns the destination table names of n, root table first:
// the names the account sees in its warehouse.
func (n Notification) TableNames() []string {
	names := make([]string, len(n.Tables))
	for i, t := range n.Tables {
		names[i] = t.DestinationTableName
	}
	return names
}

func decodeNotification(raw []byte, path string) (Notification, error) {
	obj, err := strictjson.ParseValid(raw, path)
	if err != nil {
		return Notification{}, err
	}
	var n Notification
	if v, ok, err := obj.Get("version"); err != nil {
		return Notification{}, err
	} else if ok {
		if s, ok := strictjson.Unquote(v); !ok || s != Version {
			return Notification{}, invalid(strictjson.Join(path, "version"), `must be "1.0"`)
		}
	}
	n.Version = Version
	if n.MinimumSDCBatchedAt, err = obj.OptTime("minimum_sdc_batched_at"); err != nil {
		return Notification{}, err
	}
	if n.IntegrationName, err = obj.Name("integration_name"); err != nil {
		return Notification{}, err
	}
	if n.NewVersion, err = obj.Bool("new_version"); err != nil {
		return Notification{}, err
	}
	if n.SourceRootTableName, err = obj.Name("source_root_table_name"); err != nil {
		return Notification{}, err
	}
	if n.DestinationRootTableName, err = obj.Name("destination_root_table_name"); err != nil {
		return Notification{}, err
	}
	if n.TableVersion, err = obj.Int("table_version"); err != nil {
		return Notification{}, err
	}
	if n.TableVersion < 0 {
		return Notification{}, invalid(strictjson.Join(path, "table_version"), "must not be negative")
	}
	tables, err := obj.Array("tables")
	if err != nil {
		return Notification{}, err
	}
	if len(tables) == 0 {
		return Notification{}, invalid(strictjson.Join(path, "tables"), "must not be empty")
	}
	n.Tables = make([]Table, len(tables))
	for i, raw := range tables {
		if n.Tables[i], err = decodeTable(raw, tablePath(path, i)); err != nil {
			return Notification{}, err
		}
	}
	if n.Tables[0].SourceTableName != n.SourceRootTableName {
		return Notification{}, invalid(tablePath(path, 0)+".source_table_name", "must be the root table (source_root_table_name)")
	}
	return n, nil
}

func decodeTable(raw []byte, path string) (Table, error) {
	obj, err := strictjson.ParseValid(raw, path)
	if err != nil {
		return Table{}, err
	}
	var t Table
	if t.SourceTableName, err = obj.Name("source_table_name"); err != nil {
		return Table{}, err
	}
	if t.DestinationTableName, err = obj.Name("destination_table_name"); err != nil {
		return Table{}, err
	}
	if t.NumRows, err = obj.Count("num_rows"); err != nil {
		return Table{}, err
	}
	if t.NumRowsRejected, err = obj.Count("num_rows_rejected"); err != nil {
		return Table{}, err
	}
	if t.S3Objects, err = optStrings(obj, "s3_objects", path); err != nil {
		return Table{}, err
	}
	if t.PrimaryKeys, err = optStrings(obj, "primary_keys", path); err != nil {
		return Table{}, err
	}
	if raw, err := obj.Optional("bookmark_metadata"); err != nil {
		return Table{}, err
	} else if raw != nil {
		items, err := obj.Array("bookmark_metadata")
		if err != nil {
			return Table{}, err
		}
		t.BookmarkMetadata = make([]Bookmark, len(items))
		for i, it := range items {
			if t.BookmarkMetadata[i], err = decodeBookmark(it, path+".bookmark_metadata["+strconv.Itoa(i)+"]"); err != nil {
				return Table{}, err
			}
		}
	}
	if t.MaxTimeExtracted, err = obj.OptTime("max_time_extracted"); err != nil {
		return Table{}, err
	}
	return t, nil
}

func decodeBookmark(raw []byte, path string) (Bookmark, error) {
	obj, err := strictjson.ParseValid(raw, path)
	if err != nil {
		return Bookmark{}, err
	}
	var b Bookmark
	if b.Key, err = obj.Name("key"); err != nil {
		return Bookmark{}, err
	}
	if b.MaxValue, err = scalar(obj, "max_value"); err != nil {
		return Bookmark{}, err
	}
	if b.MinValue, err = scalar(obj, "min_value"); err != nil {
		return Bookmark{}, err
	}
	return b, nil
}

// decodeRun reads a message's optional "run": exactly {"id":"...",
// "tables":N}, id as a load id is (1 to 128 characters, no control
// characters), N a positive integer. Absent or null: nil.
func decodeRun(obj strictjson.Object) (*Run, error) {
	raw, err := obj.Optional("run")
	if err != nil || raw == nil {
		return nil, err
	}
	o, err := obj.Object("run")
	if err != nil {
		return nil, err
	}
	if err := o.Only("id", "tables"); err != nil {
		return nil, err
	}
	var r Run
	if r.ID, err = o.String("id"); err != nil {
		return nil, err
	}
	if err := CheckLoadID(r.ID); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, invalid("run.id", ve.Reason)
		}
		return nil, err
	}
	if r.Tables, err = o.Positive("tables"); err != nil {
		return nil, err
	}
	return &r, nil
}

// CheckLoadID validates a load id: valid UTF-8, 1 to 128 characters, no
// control characters. The error is a *ValidationError on field load_id.
func CheckLoadID(id string) error {
	if !utf8.ValidString(id) {
		return invalid("load_id", "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > MaxLoadIDLength {
		return invalid("load_id", "must be 1 to 128 characters")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return invalid("load_id", "must not contain control characters")
		}
	}
	return nil
}

// optStrings reads an optional array of non-empty strings of o: nil when
// absent or null.
func optStrings(o strictjson.Object, key, path string) ([]string, error) {
	raw, err := o.Optional(key)
	if err != nil || raw == nil {
		return nil, err
	}
	items, err := o.Array(key)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	item := func(i int) string { return path + "." + key + "[" + strconv.Itoa(i) + "]" }
	for i, it := range items {
		s, ok := strictjson.Unquote(it)
		if !ok {
			return nil, invalid(item(i), "must be a string")
		}
		if s == "" {
			return nil, invalid(item(i), "must not be empty")
		}
		out[i] = s
	}
	return out, nil
}

// scalar reads an optional JSON scalar of o, compacted; nil when absent.
func scalar(o strictjson.Object, key string) (json.RawMessage, error) {
	v, ok, err := o.Get(key)
	if err != nil || !ok {
		return nil, err
	}
	if v[0] == '{' || v[0] == '[' {
		return nil, invalid(o.Field(key), "must be a string, number, boolean or null")
	}
	if s, ok := strictjson.Unquote(v); ok {
		// Re-encode strings so escapes are canonical.
		return appendString(nil, s), nil
	}
	return bytes.Clone(v), nil // a number, true, false or null: compact already
}

// validation turns the strict reader's error into the package's own.
func validation(err error) error {
	var se *strictjson.Error
	if errors.As(err, &se) {
		return &ValidationError{Field: se.Field, Reason: se.Reason}
	}
	return err
}

func marshalString(s string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func tablePath(path string, i int) string {
	return strictjson.Join(path, "tables["+strconv.Itoa(i)+"]")
}
