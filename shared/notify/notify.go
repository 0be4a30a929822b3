// Package notify reads the load messages that loaders put on the
// post-load-notifications queue and turns their notification into the
// canonical version 1.0 webhook body.
//
// Parse validates a message completely (every problem is a *ValidationError
// naming the field and the reason, never the value) and encodes the body once;
// the dispatcher then signs and sends those exact bytes to every hook.
//
// The canonical body holds the documented fields only, in the documented
// order, with absent optional fields omitted: minimum_sdc_batched_at,
// s3_objects and max_time_extracted are omitted when the loader did not send
// them. bookmark_metadata is always present: the specification says it is
// null when all rows were rejected, so receivers can rely on the key and test
// it for null (it is also null when a succeeded load has no bookmark).
//
// The package does no I/O and does not log. It does not decide who receives
// a notification: that is the dispatcher's job.
package notify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
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

// MaxBodyBytes bounds the canonical webhook body. The body travels again
// inside retry messages (as a JSON string, so escaped), and an SQS message
// holds at most 256 KiB; 192 KiB leaves room for that.
const MaxBodyBytes = 192 << 10

// Message is one validated load message.
type Message struct {
	ClientID int64
	LoadID   string
	Status   string
	// Notification and Body are nil when Status is StatusFailed: nothing is
	// sent for a failed load, so its notification is not read.
	Notification *Notification
	// Body is the canonical webhook body of Notification.
	Body []byte
}

// Notification is the webhook body (SPEC section 6), typed.
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
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid load message: " + e.Reason
	}
	return "invalid load message: " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// Parse validates a load message and encodes its notification's canonical
// body. Every error is a *ValidationError.
func Parse(body []byte) (Message, error) {
	obj, err := object(body, "")
	if err != nil {
		return Message{}, err
	}
	var m Message
	if m.ClientID, err = obj.int("client_id"); err != nil {
		return Message{}, err
	}
	if m.ClientID <= 0 {
		return Message{}, invalid("client_id", "must be a positive integer")
	}
	if m.LoadID, err = obj.str("load_id"); err != nil {
		return Message{}, err
	}
	if err := CheckLoadID(m.LoadID); err != nil {
		return Message{}, err
	}
	if m.Status, err = obj.str("status"); err != nil {
		return Message{}, err
	}
	switch m.Status {
	case StatusSucceeded, StatusRejected:
	case StatusFailed:
		return m, nil
	default:
		return Message{}, invalid("status", "must be succeeded, rejected or failed")
	}
	raw, err := obj.required("notification")
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
	return decodeNotification(body, "")
}

// Encode returns the canonical body of n: version "1.0", documented fields
// only, in the documented order, compact, HTML characters not escaped.
func (n Notification) Encode() ([]byte, error) {
	w := wireNotification{
		Version:                  Version,
		MinimumSDCBatchedAt:      n.MinimumSDCBatchedAt,
		IntegrationName:          n.IntegrationName,
		NewVersion:               n.NewVersion,
		SourceRootTableName:      n.SourceRootTableName,
		DestinationRootTableName: n.DestinationRootTableName,
		TableVersion:             n.TableVersion,
		Tables:                   make([]wireTable, len(n.Tables)),
	}
	for i, t := range n.Tables {
		wt := wireTable{
			SourceTableName:      t.SourceTableName,
			DestinationTableName: t.DestinationTableName,
			NumRows:              t.NumRows,
			NumRowsRejected:      t.NumRowsRejected,
			MaxTimeExtracted:     t.MaxTimeExtracted,
		}
		if t.S3Objects != nil {
			s := t.S3Objects
			wt.S3Objects = &s
		}
		if t.BookmarkMetadata != nil {
			wt.BookmarkMetadata = make([]wireBookmark, len(t.BookmarkMetadata))
			for j, b := range t.BookmarkMetadata {
				wt.BookmarkMetadata[j] = wireBookmark(b)
			}
		}
		w.Tables[i] = wt
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, invalid("notification", "cannot be encoded")
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > MaxBodyBytes {
		return nil, invalid("notification", "too large")
	}
	return out, nil
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

// The wire types fix the field order and the omission rules of the body.
type wireNotification struct {
	Version                  string      `json:"version"`
	MinimumSDCBatchedAt      string      `json:"minimum_sdc_batched_at,omitempty"`
	IntegrationName          string      `json:"integration_name"`
	NewVersion               bool        `json:"new_version"`
	SourceRootTableName      string      `json:"source_root_table_name"`
	DestinationRootTableName string      `json:"destination_root_table_name"`
	TableVersion             int64       `json:"table_version"`
	Tables                   []wireTable `json:"tables"`
}

type wireTable struct {
	SourceTableName      string         `json:"source_table_name"`
	DestinationTableName string         `json:"destination_table_name"`
	NumRows              int64          `json:"num_rows"`
	NumRowsRejected      int64          `json:"num_rows_rejected"`
	S3Objects            *[]string      `json:"s3_objects,omitempty"`
	BookmarkMetadata     []wireBookmark `json:"bookmark_metadata"`
	MaxTimeExtracted     string         `json:"max_time_extracted,omitempty"`
}

type wireBookmark struct {
	Key      string          `json:"key"`
	MaxValue json.RawMessage `json:"max_value,omitempty"`
	MinValue json.RawMessage `json:"min_value,omitempty"`
}

func decodeNotification(raw []byte, path string) (Notification, error) {
	obj, err := object(raw, path)
	if err != nil {
		return Notification{}, err
	}
	var n Notification
	if v, ok := obj.get("version"); ok {
		var s string
		if json.Unmarshal(v, &s) != nil || s != Version {
			return Notification{}, invalid(join(path, "version"), `must be "1.0"`)
		}
	}
	n.Version = Version
	if n.MinimumSDCBatchedAt, err = obj.optTime("minimum_sdc_batched_at"); err != nil {
		return Notification{}, err
	}
	if n.IntegrationName, err = obj.name("integration_name"); err != nil {
		return Notification{}, err
	}
	if n.NewVersion, err = obj.bool("new_version"); err != nil {
		return Notification{}, err
	}
	if n.SourceRootTableName, err = obj.name("source_root_table_name"); err != nil {
		return Notification{}, err
	}
	if n.DestinationRootTableName, err = obj.name("destination_root_table_name"); err != nil {
		return Notification{}, err
	}
	if n.TableVersion, err = obj.int("table_version"); err != nil {
		return Notification{}, err
	}
	if n.TableVersion < 0 {
		return Notification{}, invalid(join(path, "table_version"), "must not be negative")
	}
	tables, err := obj.array("tables")
	if err != nil {
		return Notification{}, err
	}
	if len(tables) == 0 {
		return Notification{}, invalid(join(path, "tables"), "must not be empty")
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
	obj, err := object(raw, path)
	if err != nil {
		return Table{}, err
	}
	var t Table
	if t.SourceTableName, err = obj.name("source_table_name"); err != nil {
		return Table{}, err
	}
	if t.DestinationTableName, err = obj.name("destination_table_name"); err != nil {
		return Table{}, err
	}
	if t.NumRows, err = obj.count("num_rows"); err != nil {
		return Table{}, err
	}
	if t.NumRowsRejected, err = obj.count("num_rows_rejected"); err != nil {
		return Table{}, err
	}
	if raw, ok := obj.get("s3_objects"); ok && !isNull(raw) {
		items, err := obj.array("s3_objects")
		if err != nil {
			return Table{}, err
		}
		t.S3Objects = make([]string, len(items))
		for i, it := range items {
			p := path + ".s3_objects[" + strconv.Itoa(i) + "]"
			if json.Unmarshal(it, &t.S3Objects[i]) != nil || isNull(it) {
				return Table{}, invalid(p, "must be a string")
			}
			if t.S3Objects[i] == "" {
				return Table{}, invalid(p, "must not be empty")
			}
		}
	}
	if raw, ok := obj.get("bookmark_metadata"); ok && !isNull(raw) {
		items, err := obj.array("bookmark_metadata")
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
	if t.MaxTimeExtracted, err = obj.optTime("max_time_extracted"); err != nil {
		return Table{}, err
	}
	return t, nil
}

func decodeBookmark(raw []byte, path string) (Bookmark, error) {
	obj, err := object(raw, path)
	if err != nil {
		return Bookmark{}, err
	}
	var b Bookmark
	if b.Key, err = obj.name("key"); err != nil {
		return Bookmark{}, err
	}
	if b.MaxValue, err = obj.scalar("max_value"); err != nil {
		return Bookmark{}, err
	}
	if b.MinValue, err = obj.scalar("min_value"); err != nil {
		return Bookmark{}, err
	}
	return b, nil
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

// jsonObject is one JSON object of the message, read by exact key (unlike
// encoding/json, whose field matching ignores case). Unknown keys are
// ignored: they are not part of the documented body and are not forwarded.
type jsonObject struct {
	path   string
	fields map[string]json.RawMessage
}

// object decodes raw as a JSON object, refusing repeated keys (which
// encoding/json would silently resolve to the last one).
func object(raw []byte, path string) (jsonObject, error) {
	name := path
	if name == "" {
		name = "message"
	}
	if !json.Valid(raw) {
		return jsonObject{}, invalid(path, "not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return jsonObject{}, invalid(path, name+" must be a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonObject{}, invalid(path, "not valid JSON")
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return jsonObject{}, invalid(path, "not valid JSON")
		}
		if _, dup := fields[key]; dup {
			return jsonObject{}, invalid(join(path, key), "repeated key")
		}
		fields[key] = v
	}
	return jsonObject{path: path, fields: fields}, nil
}

func (o jsonObject) get(key string) (json.RawMessage, bool) {
	v, ok := o.fields[key]
	return v, ok
}

func (o jsonObject) field(key string) string { return join(o.path, key) }

// required returns the value of key, failing when it is absent or null.
func (o jsonObject) required(key string) (json.RawMessage, error) {
	v, ok := o.fields[key]
	if !ok || isNull(v) {
		return nil, invalid(o.field(key), "required")
	}
	return v, nil
}

func (o jsonObject) str(key string) (string, error) {
	v, err := o.required(key)
	if err != nil {
		return "", err
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", invalid(o.field(key), "must be a string")
	}
	return s, nil
}

// name reads a required non-empty string.
func (o jsonObject) name(key string) (string, error) {
	s, err := o.str(key)
	if err == nil && s == "" {
		err = invalid(o.field(key), "must not be empty")
	}
	return s, err
}

func (o jsonObject) int(key string) (int64, error) {
	v, err := o.required(key)
	if err != nil {
		return 0, err
	}
	var n int64
	if json.Unmarshal(v, &n) != nil {
		return 0, invalid(o.field(key), "must be an integer")
	}
	return n, nil
}

// count reads a required integer that must not be negative.
func (o jsonObject) count(key string) (int64, error) {
	n, err := o.int(key)
	if err == nil && n < 0 {
		err = invalid(o.field(key), "must not be negative")
	}
	return n, err
}

func (o jsonObject) bool(key string) (bool, error) {
	v, err := o.required(key)
	if err != nil {
		return false, err
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		return false, invalid(o.field(key), "must be a boolean")
	}
	return b, nil
}

func (o jsonObject) array(key string) ([]json.RawMessage, error) {
	v, err := o.required(key)
	if err != nil {
		return nil, err
	}
	var a []json.RawMessage
	if json.Unmarshal(v, &a) != nil {
		return nil, invalid(o.field(key), "must be an array")
	}
	return a, nil
}

// optTime reads an optional RFC 3339 timestamp, kept as written; "" when
// absent or null.
func (o jsonObject) optTime(key string) (string, error) {
	v, ok := o.fields[key]
	if !ok || isNull(v) {
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", invalid(o.field(key), "must be an RFC 3339 timestamp")
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return "", invalid(o.field(key), "must be an RFC 3339 timestamp")
	}
	return s, nil
}

// scalar reads an optional JSON scalar, compacted; nil when absent.
func (o jsonObject) scalar(key string) (json.RawMessage, error) {
	v, ok := o.fields[key]
	if !ok {
		return nil, nil
	}
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] == '{' || v[0] == '[' {
		return nil, invalid(o.field(key), "must be a string, number, boolean or null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, invalid(o.field(key), "not valid JSON")
	}
	if v[0] == '"' {
		// Re-encode strings so escapes are canonical.
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid(o.field(key), "not valid JSON")
		}
		return marshalString(s), nil
	}
	return buf.Bytes(), nil
}

func marshalString(s string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func tablePath(path string, i int) string { return join(path, "tables["+strconv.Itoa(i)+"]") }
