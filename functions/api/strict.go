package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"unicode/utf8"
)

// maxBodyBytes is the largest request body accepted (64 KiB).
const maxBodyBytes = 64 << 10

// maxJSONDepth bounds nesting in request bodies; none of ours nests deeper
// than 3.
const maxJSONDepth = 32

// errMalformed is any reason a body is not strict JSON or not the expected
// shape. Callers translate it to their route's exact error.
var errMalformed = errors.New("malformed JSON body")

// readBody reads the whole request body, refusing more than maxBodyBytes
// (by Content-Length up front, and by counting what is actually read).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// object is a decoded JSON object whose keys are exactly as sent.
type object map[string]json.RawMessage

// decodeObject parses data as exactly one JSON object. It rejects invalid
// UTF-8, a repeated key in any object at any depth, nesting deeper than
// maxJSONDepth, and anything but whitespace after the closing brace. Keys
// are kept exactly as sent: lookups are case-sensitive.
func decodeObject(data []byte) (object, error) {
	if !utf8.Valid(data) {
		return nil, errMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed // trailing data
	}
	var o object
	if err := json.Unmarshal(data, &o); err != nil || o == nil {
		return nil, errMalformed // not an object (or null)
	}
	return o, nil
}

// checkValue consumes one JSON value from dec, failing on syntax errors,
// repeated keys and excessive depth.
func checkValue(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return errMalformed
	}
	tok, err := dec.Token()
	if err != nil {
		return errMalformed
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return errMalformed
			}
			key, ok := tok.(string)
			if !ok || seen[key] {
				return errMalformed
			}
			seen[key] = true
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	default:
		return errMalformed
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return errMalformed
	}
	return nil
}

// hasExactly reports whether o's keys are exactly keys.
func (o object) hasExactly(keys ...string) bool {
	if len(o) != len(keys) {
		return false
	}
	for _, k := range keys {
		if _, ok := o[k]; !ok {
			return false
		}
	}
	return true
}

// onlyKeys reports whether every key of o is in allowed.
func (o object) onlyKeys(allowed []string) bool {
	for k := range o {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

// The accessors below decode one value with its exact JSON type: null, a
// string where a number is expected, a fraction where an integer is
// expected, and so on, all report false.

func (o object) string(key string) (string, bool) {
	raw, ok := o[key]
	if !ok || !isKind(raw, '"') {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

func (o object) bool(key string) (bool, bool) {
	raw, ok := o[key]
	if !ok {
		return false, false
	}
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func (o object) int64(key string) (int64, bool) {
	raw, ok := o[key]
	if !ok || !isKind(raw, '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') {
		return 0, false
	}
	var n int64
	return n, json.Unmarshal(raw, &n) == nil
}

func (o object) object(key string) (object, bool) {
	raw, ok := o[key]
	if !ok || !isKind(raw, '{') {
		return nil, false
	}
	var v object
	return v, json.Unmarshal(raw, &v) == nil
}

// array is the elements of an array value.
func (o object) array(key string) ([]json.RawMessage, bool) {
	raw, ok := o[key]
	if !ok || !isKind(raw, '[') {
		return nil, false
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	return items, true
}

// objects is an array whose elements are all objects.
func (o object) objects(key string) ([]object, bool) {
	items, ok := o.array(key)
	if !ok {
		return nil, false
	}
	out := make([]object, 0, len(items))
	for _, item := range items {
		var v object
		if !isKind(item, '{') || json.Unmarshal(item, &v) != nil {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func (o object) strings(key string) ([]string, bool) {
	items, ok := o.array(key)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		if !isKind(item, '"') {
			return nil, false
		}
		var s string
		if json.Unmarshal(item, &s) != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// isKind reports whether the raw JSON value starts with one of first
// (json.RawMessage values from Unmarshal carry no leading whitespace).
func isKind(raw json.RawMessage, first ...byte) bool {
	return len(raw) > 0 && slices.Contains(first, raw[0])
}
