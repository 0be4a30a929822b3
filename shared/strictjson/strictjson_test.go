package strictjson

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyRule(t *testing.T) {
	tests := []struct {
		name, in, key string
		want          *Error // nil: the key reads fine
	}{
		{"exact", `{"client_id":1}`, "client_id", nil},
		{"unknown keys ignored", `{"client_id":1,"Other":2}`, "client_id", nil},
		{"repeated", `{"client_id":1,"client_id":2}`, "client_id", &Error{"client_id", "repeated key"}},
		{"repeated through an escape", `{"client_id":1,"client\u005fid":2}`, "client_id", &Error{"client_id", "repeated key"}},
		{"pair differing in case", `{"client_id":1,"Client_ID":2}`, "client_id", &Error{"", "keys differ only in case"}},
		{"pair, variant first", `{"Client_ID":2,"client_id":1}`, "client_id", &Error{"client_id", "keys differ only in case"}},
		{"variant alone", `{"CLIENT_ID":2}`, "client_id", &Error{"client_id", "case-variant key"}},
		{"Kelvin sign", `{"\u212Aind":"retry"}`, "kind", &Error{"kind", "case-variant key"}},
		{"long s", `{"\u017Ftatus":"x","status":"y"}`, "status", &Error{"status", "keys differ only in case"}},
		{"not plain keys are not named", `{"<b>":1,"<B>":2}`, "x", &Error{"", "keys differ only in case"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse([]byte(tt.in))
			if err == nil {
				_, _, err = o.Get(tt.key)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if diff := cmp.Diff(se, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

// TestBodyRule: a request body is checked whole before any key is read.
func TestBodyRule(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"object", ` {"a":1,"b":[{"c":"d"}]} `, true},
		{"case variants are other keys", `{"url":"x","URL":"y"}`, true},
		{"repeated key", `{"a":1,"a":2}`, false},
		{"repeated through an escape", `{"a_b":1,"a\u005fb":2}`, false},
		{"repeated in a nested object", `{"a":{"b":1,"b":2}}`, false},
		{"repeated in an object in an array", `{"a":[1,{"b":1,"b":2}]}`, false},
		{"deepest allowed", `{"a":` + nest(MaxBodyDepth) + `}`, true},
		{"too deep", `{"a":` + nest(MaxBodyDepth+1) + `}`, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false},
		{"trailing data", `{"a":1}{}`, false},
		{"not an object", `[1]`, false},
		{"null", `null`, false},
		{"empty", ``, false},
		{"byte order mark", "\ufeff{}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBody([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("ParseBody(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestBodyAccessors(t *testing.T) {
	o, err := ParseBody([]byte(`{"id":7,"tags":["a","b"],"items":[{"ID":1,"id":2}],"cfg":{"url":"u","URL":"v"},"n":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() != 5 || !o.Has("n") || o.Has("ID") {
		t.Errorf("Len %d, Has(n) %v, Has(ID) %v", o.Len(), o.Has("n"), o.Has("ID"))
	}
	if err := o.Exactly("id", "tags", "items", "cfg", "n"); err != nil {
		t.Errorf("Exactly(all keys): %v", err)
	}
	if o.Exactly("id", "tags", "items", "cfg") == nil || o.Exactly("id", "tags", "items", "cfg", "x") == nil {
		t.Error("Exactly accepted another key set")
	}
	if tags, err := o.Strings("tags"); err != nil || !cmp.Equal(tags, []string{"a", "b"}) {
		t.Errorf("Strings = %v, %v", tags, err)
	}
	if _, err := o.Strings("items"); err == nil {
		t.Error("Strings read objects")
	}
	items, err := o.Objects("items")
	if err != nil || len(items) != 1 {
		t.Fatalf("Objects = %v, %v", items, err)
	}
	// Under the body rule a case variant is another key, not a refusal.
	if n, err := items[0].Int("id"); err != nil || n != 2 {
		t.Errorf("Int(id) beside ID = %d, %v", n, err)
	}
	cfg, err := o.Object("cfg")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := cfg.String("url"); err != nil || u != "u" || cfg.Exactly("url") == nil {
		t.Errorf("cfg: url %q, %v; Exactly(url) must fail beside URL", u, err)
	}
	if _, err := o.Objects("tags"); err == nil {
		t.Error("Objects read strings")
	}
	if _, err := o.String("n"); err == nil {
		t.Error("String read null")
	}
	// The message rule is unchanged: the same pair is refused there.
	if _, err := Parse([]byte(`{"url":"u","URL":"v"}`)); err == nil {
		t.Error("Parse accepted keys differing only in case")
	}
}

// TestObjectKeys checks that every key of an object reads as itself, those
// with escapes and non-ASCII text among the plain ones that share one string.
func TestObjectKeys(t *testing.T) {
	o, err := Parse([]byte(`{"a":1,"b\u0061":2,"":3,"ключ":4,"c\"d":5,"last_key":6}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "ba": "2", "": "3", "ключ": "4", `c"d`: "5", "last_key": "6"}
	got := map[string]string{}
	for k, v := range o.fields {
		got[k] = string(v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}
