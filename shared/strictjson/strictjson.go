// Package strictjson is the service's one reader of JSON objects: the
// queue messages (load messages, retry messages, alert messages) and the
// API's request bodies. Both read keys exactly, byte for byte
// (encoding/json ignores case), and refuse a repeated key (encoding/json
// keeps the last), escapes included ("client\u005fid" is "client_id").
//
// Messages (Parse) follow the key rule of the queues:
//
//   - two keys that differ only in case ("client_id" and "Client_ID") make
//     the object invalid, and so does a key that differs only in case from a
//     key the reader asks for ("STATUS" read as "status"), because a consumer
//     of the same message using encoding/json would read it as that key;
//   - other unknown keys are left to the reader: Only refuses them.
//
// Case is compared with Unicode simple folding, as strings.EqualFold does
// (so the Kelvin sign folds with k and the long s with s, as in
// encoding/json).
//
// Request bodies (ParseBody) are checked whole before any key is read:
// valid UTF-8, one JSON object and nothing after it, no key repeated in
// any object at any depth, nesting at most MaxBodyDepth. A key that differs
// only in case from another is just another key there: the API requires
// exact key sets (Exactly, Only), so such a key is an unknown one or leaves
// a required one missing, and the API answers that.
//
// Every problem is an *Error naming the field by its JSON path and a fixed
// reason; neither ever holds a value of the message, and a key is named only
// when it is a plain lower-case key, so both are safe to log.
//
// The package does no I/O and does not log. It does not know any message
// or body: the readers in packages notify and delivery and the API's
// handlers say which keys they need.
package strictjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error says why a message is not as its reader requires. Field is a JSON
// path ("notification.tables[1].num_rows", "" for the whole message);
// Reason is a fixed phrase.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func invalid(field, reason string) error { return &Error{Field: field, Reason: reason} }

// Object is one JSON object of a message or body, read by exact key.
type Object struct {
	path   string
	fields map[string]json.RawMessage
	folded map[string]string // fold(key) -> key, only for keys that fold to something else
	body   bool              // read under the request-body rule: no case folding
}

// Parse reads a whole message: valid JSON holding one object (whitespace
// around it allowed).
func Parse(raw []byte) (Object, error) {
	if !json.Valid(raw) {
		return Object{}, invalid("", "not valid JSON")
	}
	return ParseValid(raw, "")
}

// MaxBodyDepth bounds the nesting of a request body: a value inside more
// than MaxBodyDepth objects or arrays makes it invalid.
const MaxBodyDepth = 32

// ParseBody reads a whole request body under the request-body rule (see
// the package doc). Every error is an *Error with Reason "not one strict
// JSON object".
func ParseBody(raw []byte) (Object, error) {
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return Object{}, errNotStrictBody
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' || !uniqueKeys(raw, 0) {
		return Object{}, errNotStrictBody
	}
	return parseObject(raw, "", true)
}

var errNotStrictBody = invalid("", "not one strict JSON object")

// uniqueKeys reports whether the valid JSON value v, found at depth, and
// every value inside it keep within MaxBodyDepth and repeat no key.
func uniqueKeys(v []byte, depth int) bool {
	if depth > MaxBodyDepth {
		return false
	}
	switch v[0] {
	case '{':
		kv := elements(nil, v)
		seen := make(map[string]bool, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			key, _ := Unquote(kv[i])
			if seen[key] || !uniqueKeys(kv[i+1], depth+1) {
				return false
			}
			seen[key] = true
		}
	case '[':
		for _, e := range elements(nil, v) {
			if !uniqueKeys(e, depth+1) {
				return false
			}
		}
	}
	return true
}

// ParseValid reads raw, which must be valid JSON (a value found inside a
// message that Parse or json.Valid accepted), as the object at path.
func ParseValid(raw []byte, path string) (Object, error) {
	return parseObject(raw, path, false)
}

// parseObject reads the valid JSON value raw as the object at path, under
// the request-body rule when body is set (no case folding), else under the
// message rule.
func parseObject(raw []byte, path string, body bool) (Object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		name := path
		if name == "" {
			name = "message"
		}
		return Object{}, invalid(path, name+" must be a JSON object")
	}
	var buf [16]json.RawMessage  // the objects of a message have few members
	kv := elements(buf[:0], raw) // key, value, key, value...
	var keyBuf [8]string
	keys := keyStrings(keyBuf[:0], kv)
	o := Object{path: path, fields: make(map[string]json.RawMessage, len(kv)/2), body: body}
	var folds map[string]string // fold(key) -> key, for every key once a fold is needed
	for i := 0; i < len(kv); i += 2 {
		key := keys[i/2]
		if _, dup := o.fields[key]; dup {
			return Object{}, invalid(safeField(path, key), "repeated key")
		}
		if body {
			o.fields[key] = kv[i+1]
			continue
		}
		f := fold(key)
		if f != key && folds == nil {
			// First key with upper-case or non-ASCII letters: fold the
			// earlier ones too (they were all their own fold).
			folds = make(map[string]string, len(kv)/2)
			for k := range o.fields {
				folds[k] = k
			}
		}
		if folds != nil {
			if _, clash := folds[f]; clash {
				return Object{}, invalid(safeField(path, key), "keys differ only in case")
			}
			folds[f] = key
			if f != key {
				if o.folded == nil {
					o.folded = map[string]string{}
				}
				o.folded[f] = key
			}
		}
		o.fields[key] = kv[i+1]
	}
	return o, nil
}

// Only fails when o has a key that is not one of keys (the error names o,
// not the key, so it is the same whichever unknown key is met first).
func (o Object) Only(keys ...string) error {
	for k := range o.fields {
		if !slices.Contains(keys, k) {
			return invalid(o.path, "unknown key")
		}
	}
	return nil
}

// Exactly fails unless o's keys are exactly keys.
func (o Object) Exactly(keys ...string) error {
	if len(o.fields) != len(keys) {
		return invalid(o.path, "keys are not exactly "+strings.Join(keys, ", "))
	}
	for _, k := range keys {
		if _, ok := o.fields[k]; !ok {
			return invalid(o.path, "keys are not exactly "+strings.Join(keys, ", "))
		}
	}
	return nil
}

// Has reports whether o holds key, exactly (null included).
func (o Object) Has(key string) bool {
	_, ok := o.fields[key]
	return ok
}

// Len is the number of keys of o.
func (o Object) Len() int { return len(o.fields) }

// Field is the JSON path of key in o.
func (o Object) Field(key string) string { return Join(o.path, key) }

// Get returns the value of key. It fails when the object has a key that
// differs from key only in case.
func (o Object) Get(key string) (json.RawMessage, bool, error) {
	if v, ok := o.fields[key]; ok {
		return v, true, nil
	}
	if o.folded != nil {
		if _, variant := o.folded[fold(key)]; variant {
			return nil, false, invalid(o.Field(key), "case-variant key")
		}
	}
	return nil, false, nil
}

// Optional returns the value of key; nil when it is absent or null.
func (o Object) Optional(key string) (json.RawMessage, error) {
	v, ok, err := o.Get(key)
	if err != nil || !ok || IsNull(v) {
		return nil, err
	}
	return v, nil
}

// Required returns the value of key, failing when it is absent or null.
func (o Object) Required(key string) (json.RawMessage, error) {
	v, err := o.Optional(key)
	if err == nil && v == nil {
		err = invalid(o.Field(key), "required")
	}
	return v, err
}

// String reads a required string.
func (o Object) String(key string) (string, error) {
	v, err := o.Required(key)
	if err != nil {
		return "", err
	}
	s, ok := Unquote(v)
	if !ok {
		return "", invalid(o.Field(key), "must be a string")
	}
	return s, nil
}

// OptString reads an optional string; "" when absent or null.
func (o Object) OptString(key string) (string, error) {
	if v, err := o.Optional(key); err != nil || v == nil {
		return "", err
	}
	return o.String(key)
}

// Name reads a required non-empty string.
func (o Object) Name(key string) (string, error) {
	s, err := o.String(key)
	if err == nil && s == "" {
		err = invalid(o.Field(key), "must not be empty")
	}
	return s, err
}

// Int reads a required integer: a JSON number without fraction or exponent
// that fits in an int64 (what encoding/json accepts for an int64).
func (o Object) Int(key string) (int64, error) {
	v, err := o.Required(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, invalid(o.Field(key), "must be an integer")
	}
	return n, nil
}

// OptInt reads an optional integer; 0 when absent or null.
func (o Object) OptInt(key string) (int64, error) {
	if v, err := o.Optional(key); err != nil || v == nil {
		return 0, err
	}
	return o.Int(key)
}

// Count reads a required integer that must not be negative.
func (o Object) Count(key string) (int64, error) {
	n, err := o.Int(key)
	if err == nil && n < 0 {
		err = invalid(o.Field(key), "must not be negative")
	}
	return n, err
}

// Positive reads a required integer that must be at least 1.
func (o Object) Positive(key string) (int64, error) {
	n, err := o.Int(key)
	if err == nil && n <= 0 {
		err = invalid(o.Field(key), "must be a positive integer")
	}
	return n, err
}

// Bool reads a required boolean.
func (o Object) Bool(key string) (bool, error) {
	v, err := o.Required(key)
	if err != nil {
		return false, err
	}
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(o.Field(key), "must be a boolean")
}

// Array reads a required array and returns its elements.
func (o Object) Array(key string) ([]json.RawMessage, error) {
	v, err := o.Required(key)
	if err != nil {
		return nil, err
	}
	if v[0] != '[' {
		return nil, invalid(o.Field(key), "must be an array")
	}
	return elements(nil, v), nil
}

// Object reads a required object, under o's rule.
func (o Object) Object(key string) (Object, error) {
	v, err := o.Required(key)
	if err != nil {
		return Object{}, err
	}
	return parseObject(v, o.Field(key), o.body)
}

// Objects reads a required array whose elements are all objects, under o's
// rule.
func (o Object) Objects(key string) ([]Object, error) {
	items, err := o.Array(key)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(items))
	for i, it := range items {
		if out[i], err = parseObject(it, o.Field(key)+"[]", o.body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Strings reads a required array whose elements are all strings.
func (o Object) Strings(key string) ([]string, error) {
	items, err := o.Array(key)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := Unquote(it)
		if !ok {
			return nil, invalid(o.Field(key), "must be strings")
		}
		out[i] = s
	}
	return out, nil
}

// OptTime reads an optional RFC 3339 timestamp, kept as written; "" when
// absent or null.
func (o Object) OptTime(key string) (string, error) {
	v, err := o.Optional(key)
	if err != nil || v == nil {
		return "", err
	}
	s, ok := Unquote(v)
	if !ok {
		return "", invalid(o.Field(key), "must be an RFC 3339 timestamp")
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return "", invalid(o.Field(key), "must be an RFC 3339 timestamp")
	}
	return s, nil
}

// Time reads a required RFC 3339 timestamp.
func (o Object) Time(key string) (time.Time, error) {
	s, err := o.OptTime(key)
	if err == nil && s == "" {
		err = invalid(o.Field(key), "required")
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Elements returns the elements of a valid JSON array.
func Elements(raw json.RawMessage) []json.RawMessage { return elements(nil, bytes.TrimSpace(raw)) }

// elements appends to dst the values of raw, a valid JSON array or object
// without surrounding space, or for an object its keys and values in turn.
// Validity makes this a plain walk: ':' and ',' only ever separate them.
func elements(dst []json.RawMessage, raw []byte) []json.RawMessage {
	for i := skipSpace(raw, 1); raw[i] != ']' && raw[i] != '}'; {
		end := valueEnd(raw, i)
		dst = append(dst, raw[i:end])
		if i = skipSpace(raw, end); raw[i] == ',' || raw[i] == ':' {
			i = skipSpace(raw, i+1)
		}
	}
	return dst
}

// valueEnd returns the index just past the valid JSON value starting at raw[i].
func valueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		for i++; raw[i] != '"'; i++ {
			if raw[i] == '\\' {
				i++ // the escaped byte cannot end the string
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for {
			switch raw[i] {
			case '"':
				i = valueEnd(raw, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false or null
		for i < len(raw) && !strings.ContainsRune(",:]} \t\n\r", rune(raw[i])) {
			i++
		}
		return i
	}
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// keyStrings appends to dst the keys of an object's elements kv (key,
// value, key, value...), unquoted. The keys without escapes, nearly all of
// them, share one string: one allocation for the object, not one per key.
func keyStrings(dst []string, kv []json.RawMessage) []string {
	var b strings.Builder
	size := 0
	for i := 0; i < len(kv); i += 2 {
		size += len(kv[i])
	}
	b.Grow(size)
	var endBuf [8]int
	ends := endBuf[:0] // where each key ends in b; -1 for a key unquoted on its own
	for i := 0; i < len(kv); i += 2 {
		if text, ok := plainText(kv[i]); ok {
			b.Write(text)
			ends = append(ends, b.Len())
			dst = append(dst, "")
			continue
		}
		key, _ := Unquote(kv[i])
		ends = append(ends, -1)
		dst = append(dst, key)
	}
	all, start := b.String(), 0
	for i, end := range ends {
		if end >= 0 {
			dst[len(dst)-len(ends)+i] = all[start:end]
			start = end
		}
	}
	return dst
}

// Unquote returns the string a valid JSON value holds; ok is false when the
// value is not a string. Strings without escapes, nearly all of them, are
// copied directly; the others are left to encoding/json.
func Unquote(v []byte) (s string, ok bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if text, ok := plainText(v); ok {
		return string(text), true
	}
	return s, json.Unmarshal(v, &s) == nil
}

// plainText is the text of the JSON string v when it holds no escape and
// is valid UTF-8: the string it holds, as it is.
func plainText(v []byte) ([]byte, bool) {
	text := v[1 : len(v)-1]
	return text, bytes.IndexByte(text, '\\') < 0 && utf8.Valid(text)
}

// IsNull reports whether v is the JSON null.
func IsNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// Join is the JSON path of key inside path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// safeField names key in an error only when it is a plain key (lower-case
// ASCII letters, digits and underscores, at most 64 bytes); any other key is
// a value of the sender's choosing and stays out of logs.
func safeField(path, key string) string {
	if len(key) == 0 || len(key) > 64 {
		return path
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return path
		}
	}
	return Join(path, key)
}

// fold maps s to one representative of the keys equal to it under Unicode
// simple case folding: lower-case ASCII wherever a letter folds to ASCII.
// Lower-case ASCII keys, nearly all of them, are their own fold and cost
// nothing.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			var b strings.Builder
			b.Grow(len(s))
			for _, r := range s {
				b.WriteRune(foldRune(r))
			}
			return b.String()
		}
	}
	return s
}

// foldRune is the representative of r's simple folding orbit: its ASCII
// lower-case member when it has an ASCII member (the Kelvin sign is k),
// else its smallest member.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return unicode.ToLower(r)
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return unicode.ToLower(f)
		}
		m = min(m, f)
	}
	return m
}
