package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names used by several item kinds.
const (
	attrClientID   = "client_id"
	attrCreatedAt  = "created_at"
	attrModifiedAt = "modified_at"
)

// Item encoding helpers shared by every item kind of the package. Each item
// kind has one encode function building its attribute map with these and one
// decode function reading it with an itemDecoder.

// attrS is a string attribute value.
func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// attrN is a number attribute value.
func attrN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// attrTime is a time attribute value: a string in the package's timeFormat.
func attrTime(t time.Time) types.AttributeValue { return attrS(formatTime(t)) }

// attrStrings is a list of strings (L of S, which unlike an SS may be empty
// and keeps order and duplicates as given).
func attrStrings(v []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = attrS(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// key is the primary key of an item.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: attrS(pk), attrSK: attrS(sk)}
}

// itemDecoder reads typed attributes from an item and remembers the first
// problem (missing attribute, wrong type, bad number or time), so decode
// functions read every field and check one error at the end.
type itemDecoder struct {
	item map[string]types.AttributeValue
	err  error
}

func (d *itemDecoder) fail(name, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("attribute %s: %s", name, fmt.Sprintf(format, args...))
	}
}

// result is nil, or the first problem met, naming the item kind.
func (d *itemDecoder) result(kind string) error {
	if d.err != nil {
		return fmt.Errorf("decode %s item: %w", kind, d.err)
	}
	return nil
}

// has reports whether the item holds attribute name.
func (d *itemDecoder) has(name string) bool {
	_, ok := d.item[name]
	return ok
}

// str reads a required string attribute.
func (d *itemDecoder) str(name string) string {
	return d.strFrom(d.item[name], name)
}

func (d *itemDecoder) strFrom(v types.AttributeValue, name string) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case nil:
		d.fail(name, "missing")
	default:
		d.fail(name, "want S, got %T", v)
	}
	return ""
}

// optStr reads an optional string attribute: "" when absent.
func (d *itemDecoder) optStr(name string) string {
	if !d.has(name) {
		return ""
	}
	return d.str(name)
}

// int reads a required number attribute holding an integer.
func (d *itemDecoder) int(name string) int64 {
	switch v := d.item[name].(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.fail(name, "%v", err)
		}
		return n
	case nil:
		d.fail(name, "missing")
	default:
		d.fail(name, "want N, got %T", v)
	}
	return 0
}

// optInt reads an optional number attribute holding an integer: 0 when
// absent.
func (d *itemDecoder) optInt(name string) int64 {
	if !d.has(name) {
		return 0
	}
	return d.int(name)
}

// flag reads an optional boolean attribute: false when absent.
func (d *itemDecoder) flag(name string) bool {
	switch v := d.item[name].(type) {
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case nil:
		return false
	default:
		d.fail(name, "want BOOL, got %T", v)
	}
	return false
}

// time reads a required time attribute.
func (d *itemDecoder) time(name string) time.Time {
	return d.timeFrom(d.item[name], name)
}

func (d *itemDecoder) timeFrom(v types.AttributeValue, name string) time.Time {
	s := d.strFrom(v, name)
	if s == "" {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		d.fail(name, "%v", err)
	}
	return t
}

// optTime reads an optional time attribute: nil when absent.
func (d *itemDecoder) optTime(name string) *time.Time {
	if !d.has(name) {
		return nil
	}
	t := d.time(name)
	return &t
}

// strings reads a list of strings (absent reads as empty).
func (d *itemDecoder) strings(name string) []string {
	l := d.list(name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, d.strFrom(v, name))
	}
	return out
}

// list reads a list attribute (absent reads as nil).
func (d *itemDecoder) list(name string) []types.AttributeValue {
	switch v := d.item[name].(type) {
	case *types.AttributeValueMemberL:
		return v.Value
	case nil:
		return nil
	default:
		d.fail(name, "want L, got %T", v)
	}
	return nil
}
