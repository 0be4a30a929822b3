package strictjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// ParseBodyArray reads a whole request body that is one JSON array, under
// the request-body rule (see the package doc), and returns its elements as
// they are. Every error is an *Error with Reason "not one strict JSON
// array".
func ParseBodyArray(raw []byte) ([]json.RawMessage, error) {
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return nil, errNotStrictArray
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '[' || !uniqueKeys(raw, 0) {
		return nil, errNotStrictArray
	}
	return Elements(raw), nil
}

var errNotStrictArray = invalid("", "not one strict JSON array")

// BodyElement reads element i of an array that ParseBodyArray returned as
// an object under the request-body rule.
func BodyElement(raw json.RawMessage, i int) (Object, error) {
	return parseObject(raw, "["+strconv.Itoa(i)+"]", true)
}
