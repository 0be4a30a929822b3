package strictjson

import (
	"errors"
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
