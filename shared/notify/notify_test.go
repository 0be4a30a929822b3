package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/strictjson"
)

// specBody is the documented example body (README.md), canonical.
const specBody = `{"version":"1.0","minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"shopify",` +
	`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,` +
	`"tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":100,"num_rows_rejected":11,` +
	`"s3_objects":["stitch-s3-bucket/orders/0_1563294550038.jsonl"],"primary_keys":["order_id"],` +
	`"bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],` +
	`"max_time_extracted":"2026-07-15T14:43:09.030Z"}]}`

func TestParseEncodesCanonicalBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Message
	}{
		{
			name: "spec example as is",
			in:   `{"client_id":116078,"load_id":"b2f6c1d0","status":"succeeded","notification":` + specBody + `}`,
			want: Message{ClientID: 116078, LoadID: "b2f6c1d0", Status: StatusSucceeded, Body: []byte(specBody)},
		},
		{
			name: "fields reordered, spaced, unknown fields dropped, version added",
			in: `{ "status" : "succeeded", "extra": {"x": 1}, "notification": {
				"tables": [{"max_time_extracted": "2026-07-15T14:43:09.030Z", "internal": true,
					"bookmark_metadata": [{"min_value": "2026-06-01T00:00:00Z", "key": "updated_at", "max_value": "2026-06-30T00:00:00Z"}],
					"primary_keys": ["order_id"], "s3_objects": ["stitch-s3-bucket/orders/0_1563294550038.jsonl"],
					"num_rows_rejected": 11, "num_rows": 100, "destination_table_name": "orders", "source_table_name": "orders"}],
				"table_version": 0, "destination_root_table_name": "orders", "source_root_table_name": "orders",
				"new_version": false, "integration_name": "shopify", "minimum_sdc_batched_at": "2026-07-15T14:45:08.026Z",
				"secret_field": "x"},
			  "load_id": "b2f6c1d0", "destination_id": 12345, "client_id": 116078 }`,
			want: Message{ClientID: 116078, DestinationID: 12345, LoadID: "b2f6c1d0", Status: StatusSucceeded, Body: []byte(specBody)},
		},
		{
			name: "optional fields absent, sub-table, numeric bookmark, html characters kept",
			in: `{"client_id":7,"load_id":"l-1","status":"succeeded","notification":{"integration_name":"a<b>&c",
				"new_version":true,"source_root_table_name":"orders","destination_root_table_name":"orders_dst","table_version":3,
				"tables":[{"source_table_name":"orders","destination_table_name":"orders_dst","num_rows":5,"num_rows_rejected":0,
				           "bookmark_metadata":[{"key":"id","max_value":42,"min_value":1.5}]},
				          {"source_table_name":"orders__items","destination_table_name":"orders__items","num_rows":9,"num_rows_rejected":0,"bookmark_metadata":null}]}}`,
			want: Message{ClientID: 7, LoadID: "l-1", Status: StatusSucceeded, Body: []byte(
				`{"version":"1.0","integration_name":"a<b>&c","new_version":true,"source_root_table_name":"orders",` +
					`"destination_root_table_name":"orders_dst","table_version":3,"tables":[` +
					`{"source_table_name":"orders","destination_table_name":"orders_dst","num_rows":5,"num_rows_rejected":0,"bookmark_metadata":[{"key":"id","max_value":42,"min_value":1.5}]},` +
					`{"source_table_name":"orders__items","destination_table_name":"orders__items","num_rows":9,"num_rows_rejected":0,"bookmark_metadata":null}]}`)},
		},
		{
			name: "rejected: bookmark_metadata absent is written as null, empty s3_objects kept",
			in: `{"client_id":1,"load_id":"r","status":"rejected","notification":{"version":"1.0","integration_name":"i",
				"new_version":false,"source_root_table_name":"t","destination_root_table_name":"t","table_version":0,
				"tables":[{"source_table_name":"t","destination_table_name":"t","num_rows":0,"num_rows_rejected":12,"s3_objects":[]}]}}`,
			want: Message{ClientID: 1, LoadID: "r", Status: StatusRejected, Body: []byte(
				`{"version":"1.0","integration_name":"i","new_version":false,"source_root_table_name":"t","destination_root_table_name":"t",` +
					`"table_version":0,"tables":[{"source_table_name":"t","destination_table_name":"t","num_rows":0,"num_rows_rejected":12,"s3_objects":[],"bookmark_metadata":null}]}`)},
		},
		{
			name: "failed needs no notification",
			in:   `{"client_id":1,"load_id":"f","status":"failed"}`,
			want: Message{ClientID: 1, LoadID: "f", Status: StatusFailed},
		},
		{
			name: "failed ignores a broken notification",
			in:   `{"client_id":1,"load_id":"f","status":"failed","notification":{"tables":"nope"}}`,
			want: Message{ClientID: 1, LoadID: "f", Status: StatusFailed},
		},
		{
			name: "load_id of 128 multibyte characters",
			in:   `{"client_id":1,"load_id":"` + strings.Repeat("é", 128) + `","status":"failed"}`,
			want: Message{ClientID: 1, LoadID: strings.Repeat("é", 128), Status: StatusFailed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(got.Body) != string(tt.want.Body) {
				t.Errorf("body:\n got %s\nwant %s", got.Body, tt.want.Body)
			}
			got.Notification, got.Body, tt.want.Body = nil, nil, nil
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("message (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseKeepsTypedNotification(t *testing.T) {
	m, err := Parse([]byte(`{"client_id":116078,"load_id":"x","status":"succeeded","notification":` + specBody + `}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Notification{
		Version: "1.0", MinimumSDCBatchedAt: "2026-07-15T14:45:08.026Z", IntegrationName: "shopify",
		SourceRootTableName: "orders", DestinationRootTableName: "orders",
		Tables: []Table{{
			SourceTableName: "orders", DestinationTableName: "orders", NumRows: 100, NumRowsRejected: 11,
			S3Objects:   []string{"stitch-s3-bucket/orders/0_1563294550038.jsonl"},
			PrimaryKeys: []string{"order_id"},
			BookmarkMetadata: []Bookmark{{Key: "updated_at",
				MaxValue: json.RawMessage(`"2026-06-30T00:00:00Z"`), MinValue: json.RawMessage(`"2026-06-01T00:00:00Z"`)}},
			MaxTimeExtracted: "2026-07-15T14:43:09.030Z",
		}},
	}
	if diff := cmp.Diff(m.Notification, want); diff != "" {
		t.Errorf("notification (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(m.Notification.TableNames(), []string{"orders"}); diff != "" {
		t.Errorf("table names (-got +want):\n%s", diff)
	}
	n, err := ParseBody(m.Body)
	if err != nil {
		t.Fatalf("ParseBody(canonical body): %v", err)
	}
	if diff := cmp.Diff(&n, want); diff != "" {
		t.Errorf("ParseBody (-got +want):\n%s", diff)
	}
}

// table is a valid table with one field replaced (raw JSON).
func table(field, raw string) string {
	fields := map[string]string{
		"source_table_name": `"orders"`, "destination_table_name": `"orders"`, "num_rows": `10`,
		"num_rows_rejected": `0`, "bookmark_metadata": `[{"key":"k","max_value":"b","min_value":"a"}]`,
	}
	return jsonText(fields, field, raw)
}

func notification(field, raw string) string {
	fields := map[string]string{
		"integration_name": `"shopify"`, "new_version": `false`, "source_root_table_name": `"orders"`,
		"destination_root_table_name": `"orders"`, "table_version": `0`, "tables": `[` + table("", "") + `]`,
	}
	return jsonText(fields, field, raw)
}

func message(field, raw string) string {
	fields := map[string]string{
		"client_id": `116078`, "load_id": `"l"`, "status": `"succeeded"`, "notification": notification("", ""),
	}
	return jsonText(fields, field, raw)
}

// jsonText writes fields as a JSON object with fields[field] set to raw
// ("" removes it).
func jsonText(fields map[string]string, field, raw string) string {
	if field != "" {
		if raw == "" {
			delete(fields, field)
		} else {
			fields[field] = raw
		}
	}
	var parts []string
	for k, v := range fields {
		parts = append(parts, `"`+k+`":`+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ValidationError
	}{
		{"not json", `{"client_id":`, ValidationError{Field: "", Reason: "not valid JSON"}},
		{"array", `[]`, ValidationError{Field: "", Reason: "message must be a JSON object"}},
		{"empty", ``, ValidationError{Field: "", Reason: "not valid JSON"}},
		{"client_id missing", message("client_id", ""), ValidationError{Field: "client_id", Reason: "required"}},
		{"client_id null", message("client_id", "null"), ValidationError{Field: "client_id", Reason: "required"}},
		{"client_id string", message("client_id", `"116078"`), ValidationError{Field: "client_id", Reason: "must be an integer"}},
		{"client_id fraction", message("client_id", `1.5`), ValidationError{Field: "client_id", Reason: "must be an integer"}},
		{"client_id zero", message("client_id", `0`), ValidationError{Field: "client_id", Reason: "must be a positive integer"}},
		{"client_id negative", message("client_id", `-4`), ValidationError{Field: "client_id", Reason: "must be a positive integer"}},
		{"client_id wrong case", strings.Replace(message("", ""), `"client_id"`, `"Client_ID"`, 1), ValidationError{Field: "client_id", Reason: "case-variant key"}},
		{"s3_objects wrong case alone", message("notification", notification("tables", `[`+table("S3_Objects", `["x"]`)+`]`)), ValidationError{Field: "notification.tables[0].s3_objects", Reason: "case-variant key"}},
		{"repeated key", `{"client_id":1,"client_id":2,"load_id":"l","status":"failed"}`, ValidationError{Field: "client_id", Reason: "repeated key"}},
		{"destination_id string", message("destination_id", `"12345"`), ValidationError{Field: "destination_id", Reason: "must be an integer"}},
		{"destination_id fraction", message("destination_id", `1.5`), ValidationError{Field: "destination_id", Reason: "must be an integer"}},
		{"destination_id zero", message("destination_id", `0`), ValidationError{Field: "destination_id", Reason: "must be a positive integer"}},
		{"destination_id negative", message("destination_id", `-2`), ValidationError{Field: "destination_id", Reason: "must be a positive integer"}},
		{"primary_keys not an array", message("notification", notification("tables", `[`+table("primary_keys", `"id"`)+`]`)), ValidationError{Field: "notification.tables[0].primary_keys", Reason: "must be an array"}},
		{"primary_keys of numbers", message("notification", notification("tables", `[`+table("primary_keys", `[1]`)+`]`)), ValidationError{Field: "notification.tables[0].primary_keys[0]", Reason: "must be a string"}},
		{"primary_keys empty name", message("notification", notification("tables", `[`+table("primary_keys", `[""]`)+`]`)), ValidationError{Field: "notification.tables[0].primary_keys[0]", Reason: "must not be empty"}},
		{"load_id empty", message("load_id", `""`), ValidationError{Field: "load_id", Reason: "must be 1 to 128 characters"}},
		{"load_id too long", message("load_id", `"`+strings.Repeat("a", 129)+`"`), ValidationError{Field: "load_id", Reason: "must be 1 to 128 characters"}},
		{"load_id control", message("load_id", `"a\nb"`), ValidationError{Field: "load_id", Reason: "must not contain control characters"}},
		{"load_id number", message("load_id", `5`), ValidationError{Field: "load_id", Reason: "must be a string"}},
		{"status unknown", message("status", `"done"`), ValidationError{Field: "status", Reason: "must be succeeded, rejected or failed"}},
		{"notification missing", message("notification", ""), ValidationError{Field: "notification", Reason: "required"}},
		{"notification null", message("notification", "null"), ValidationError{Field: "notification", Reason: "required"}},
		{"notification string", message("notification", `"{}"`), ValidationError{Field: "notification", Reason: "notification must be a JSON object"}},
		{"version 2", message("notification", notification("version", `"2.0"`)), ValidationError{Field: "notification.version", Reason: `must be "1.0"`}},
		{"integration_name empty", message("notification", notification("integration_name", `""`)), ValidationError{Field: "notification.integration_name", Reason: "must not be empty"}},
		{"new_version string", message("notification", notification("new_version", `"false"`)), ValidationError{Field: "notification.new_version", Reason: "must be a boolean"}},
		{"table_version negative", message("notification", notification("table_version", `-1`)), ValidationError{Field: "notification.table_version", Reason: "must not be negative"}},
		{"batched_at not a time", message("notification", notification("minimum_sdc_batched_at", `"yesterday"`)), ValidationError{Field: "notification.minimum_sdc_batched_at", Reason: "must be an RFC 3339 timestamp"}},
		{"tables empty", message("notification", notification("tables", `[]`)), ValidationError{Field: "notification.tables", Reason: "must not be empty"}},
		{"tables object", message("notification", notification("tables", `{}`)), ValidationError{Field: "notification.tables", Reason: "must be an array"}},
		{"root table not first", message("notification", notification("tables", `[`+table("source_table_name", `"orders__items"`)+`]`)), ValidationError{Field: "notification.tables[0].source_table_name", Reason: "must be the root table (source_root_table_name)"}},
		{"num_rows negative", message("notification", notification("tables", `[`+table("", "")+`,`+table("num_rows", `-1`)+`]`)), ValidationError{Field: "notification.tables[1].num_rows", Reason: "must not be negative"}},
		{"num_rows_rejected missing", message("notification", notification("tables", `[`+table("num_rows_rejected", "")+`]`)), ValidationError{Field: "notification.tables[0].num_rows_rejected", Reason: "required"}},
		{"s3_objects of numbers", message("notification", notification("tables", `[`+table("s3_objects", `[1]`)+`]`)), ValidationError{Field: "notification.tables[0].s3_objects[0]", Reason: "must be a string"}},
		{"bookmark value object", message("notification", notification("tables", `[`+table("bookmark_metadata", `[{"key":"k","max_value":{}}]`)+`]`)), ValidationError{Field: "notification.tables[0].bookmark_metadata[0].max_value", Reason: "must be a string, number, boolean or null"}},
		{"bookmark key missing", message("notification", notification("tables", `[`+table("bookmark_metadata", `[{"max_value":1}]`)+`]`)), ValidationError{Field: "notification.tables[0].bookmark_metadata[0].key", Reason: "required"}},
		{"max_time_extracted bad", message("notification", notification("tables", `[`+table("max_time_extracted", `"2026-13-01T00:00:00Z"`)+`]`)), ValidationError{Field: "notification.tables[0].max_time_extracted", Reason: "must be an RFC 3339 timestamp"}},
		{"rejected with rows", strings.Replace(message("notification", notification("tables", `[`+table("bookmark_metadata", "null")+`]`)), `"succeeded"`, `"rejected"`, 1), ValidationError{Field: "notification.tables[0].num_rows", Reason: "must be 0 when status is rejected"}},
		{"rejected with bookmark", strings.Replace(message("notification", notification("tables", `[`+table("num_rows", "0")+`]`)), `"succeeded"`, `"rejected"`, 1), ValidationError{Field: "notification.tables[0].bookmark_metadata", Reason: "must be null when status is rejected"}},
		{"body too large", message("notification", notification("tables", `[`+table("s3_objects", `["`+strings.Repeat("x", MaxBodyBytes)+`"]`)+`]`)), ValidationError{Field: "notification", Reason: "too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %+v, %v; want a *ValidationError", got, err)
			}
			if diff := cmp.Diff(*ve, tt.want); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
			if o, err := strictjson.Parse([]byte(tt.in)); err == nil {
				if _, err := ParseObject(o); !errors.As(err, &ve) || *ve != tt.want {
					t.Errorf("ParseObject: %v, want %v", err, &tt.want)
				}
			}
		})
	}
}

// TestParseRefusesCaseVariantKeys is the case-variant key attack: a message with
// "Client_ID" beside "client_id" (or "STATUS" beside "status") was accepted,
// while a consumer reading the same message with encoding/json (which matches
// keys without case and keeps the last) reads another client or status.
func TestParseRefusesCaseVariantKeys(t *testing.T) {
	const n = `"notification":{"integration_name":"shopify","new_version":false,"source_root_table_name":"orders",` +
		`"destination_root_table_name":"orders","table_version":0,"tables":[{"source_table_name":"orders",` +
		`"destination_table_name":"orders","num_rows":1,"num_rows_rejected":0}]}`
	tests := []struct {
		name, in string
		want     ValidationError
	}{
		{"Client_ID after client_id", `{"client_id":116078,"Client_ID":200,"load_id":"l","status":"succeeded",` + n + `}`,
			ValidationError{Field: "", Reason: "keys differ only in case"}},
		{"client_id after Client_ID", `{"Client_ID":200,"client_id":116078,"load_id":"l","status":"succeeded",` + n + `}`,
			ValidationError{Field: "client_id", Reason: "keys differ only in case"}},
		{"STATUS beside status", `{"client_id":116078,"load_id":"l","status":"succeeded","STATUS":"failed",` + n + `}`,
			ValidationError{Field: "", Reason: "keys differ only in case"}},
		{"long s alone", `{"client_id":116078,"load_id":"l","status":"succeeded",` + strings.Replace(n, `"num_rows":1`, `"num_rows":1,"\u017F3_objects":["x"]`, 1) + `}`,
			ValidationError{Field: "notification.tables[0].s3_objects", Reason: "case-variant key"}},
		{"unknown key alone", `{"client_id":116078,"load_id":"l","status":"succeeded","Extra":1,` + n + `}`,
			ValidationError{}}, // ignored: no documented key is like it
		{"unknown keys differing in case", `{"client_id":116078,"load_id":"l","status":"succeeded","x":1,"X":2,` + n + `}`,
			ValidationError{Field: "", Reason: "keys differ only in case"}},
		{"escaped repeat", `{"client_id":116078,"client\u005fid":200,"load_id":"l","status":"succeeded",` + n + `}`,
			ValidationError{Field: "client_id", Reason: "repeated key"}},
		{"nested", `{"client_id":116078,"load_id":"l","status":"succeeded",` + strings.Replace(n, `"num_rows":1`, `"num_rows":1,"NUM_ROWS":9`, 1) + `}`,
			ValidationError{Field: "notification.tables[0]", Reason: "keys differ only in case"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What a lenient consumer reads: encoding/json disagrees with the
			// strict reader on every refused message.
			var lenient struct {
				ClientID int64  `json:"client_id"`
				Status   string `json:"status"`
			}
			_ = json.Unmarshal([]byte(tt.in), &lenient)
			got, err := Parse([]byte(tt.in))
			if tt.want == (ValidationError{}) {
				if err != nil {
					t.Fatalf("Parse: %v; want accepted", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %+v, %v (encoding/json reads client %d, status %q); want refused", got, err, lenient.ClientID, lenient.Status)
			}
			if diff := cmp.Diff(*ve, tt.want); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
		})
	}
}

func TestValidationErrorNeverQuotesTheValue(t *testing.T) {
	_, err := Parse([]byte(message("load_id", `"`+strings.Repeat("s3cr3t", 30)+`"`)))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v: want a validation error without the value", err)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts encodes to
// valid JSON, and that the encoding is canonical: parsing the body again
// gives the same bytes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"client_id":116078,"load_id":"b2f6c1d0","status":"succeeded","notification":` + specBody + `}`))
	f.Add([]byte(message("", "")))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in)
		if o, serr := strictjson.Parse(in); serr == nil {
			// ParseObject reads a message strictjson has read as Parse does.
			m2, err2 := ParseObject(o)
			if diff := cmp.Diff(m, m2); diff != "" || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("ParseObject differs from Parse: %v / %v (-Parse +ParseObject):\n%s", err, err2, diff)
			}
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			return
		}
		if m.ClientID <= 0 || m.LoadID == "" {
			t.Fatalf("accepted %+v", m)
		}
		// A consumer using encoding/json reads the same message: no
		// repeated or case-variant key made the strict reader read another.
		var lenient struct {
			ClientID int64  `json:"client_id"`
			LoadID   string `json:"load_id"`
			Status   string `json:"status"`
		}
		if json.Unmarshal(in, &lenient) == nil && (lenient.ClientID != m.ClientID || lenient.LoadID != m.LoadID || lenient.Status != m.Status) {
			t.Fatalf("encoding/json reads %+v, Parse read %d %q %q", lenient, m.ClientID, m.LoadID, m.Status)
		}
		if m.Status == StatusFailed {
			return
		}
		if !json.Valid(m.Body) {
			t.Fatalf("body is not JSON: %s", m.Body)
		}
		n, err := ParseBody(m.Body)
		if err != nil {
			t.Fatalf("ParseBody(own body %s): %v", m.Body, err)
		}
		again, err := n.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(m.Body) {
			t.Fatalf("not canonical:\n first %s\nsecond %s", m.Body, again)
		}
		// Differential: encoding/json, looking keys up exactly as Parse
		// does, reads the same destination_id and, per table, the same
		// s3_objects and primary_keys (absent or null: absent from the body).
		strs := func(obj map[string]json.RawMessage, key string) []string {
			raw, ok := obj[key]
			if !ok || string(raw) == "null" {
				return nil
			}
			var out []string
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("Parse accepted %s %s, encoding/json refuses it: %v", key, raw, err)
			}
			return out
		}
		var top, notif map[string]json.RawMessage
		var tables []map[string]json.RawMessage
		if json.Unmarshal(in, &top) != nil || json.Unmarshal(top["notification"], &notif) != nil || json.Unmarshal(notif["tables"], &tables) != nil {
			t.Fatalf("Parse accepted %q, encoding/json cannot read it", in)
		}
		if raw, ok := top["destination_id"]; ok && string(raw) != "null" {
			var id int64
			if err := json.Unmarshal(raw, &id); err != nil || id != m.DestinationID {
				t.Fatalf("destination_id: Parse read %d, encoding/json %d (%v)", m.DestinationID, id, err)
			}
		}
		for i, rt := range tables {
			got := n.Tables[i]
			for key, pair := range map[string][2][]string{
				"s3_objects":   {got.S3Objects, strs(rt, "s3_objects")},
				"primary_keys": {got.PrimaryKeys, strs(rt, "primary_keys")},
			} {
				if !slices.Equal(pair[0], pair[1]) || (pair[0] == nil) != (pair[1] == nil) {
					t.Fatalf("table %d %s: Parse read %q, encoding/json %q", i, key, pair[0], pair[1])
				}
			}
		}
	})
}

// A message's "run": optional (absent or null), else exactly
// {"id":"...","tables":N}; anything else makes the message malformed.
func TestParseRun(t *testing.T) {
	base := `{"client_id":1,"load_id":"l","status":"succeeded",%s"notification":` + specBody + `}`
	with := func(run string) string { return strings.Replace(base, "%s", run, 1) }
	for _, tt := range []struct {
		name, in string
		want     *Run
	}{
		{"absent", with(""), nil},
		{"null", with(`"run":null,`), nil},
		{"valid", with(`"run":{"id":"r1","tables":3},`), &Run{ID: "r1", Tables: 3}},
		{"keys in any order", with(`"run":{"tables":1,"id":"r-2"},`), &Run{ID: "r-2", Tables: 1}},
		{"failed load", strings.Replace(with(`"run":{"id":"r1","tables":2},`), `"succeeded"`, `"failed"`, 1), &Run{ID: "r1", Tables: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m.Run, tt.want); diff != "" {
				t.Errorf("Run (-got +want):\n%s", diff)
			}
		})
	}
	for _, tt := range []struct{ name, run, field string }{
		{"not an object", `"run":"r1",`, "run"},
		{"an array", `"run":[],`, "run"},
		{"unknown key", `"run":{"id":"r1","tables":1,"name":"x"},`, "run"},
		{"case-variant key", `"run":{"ID":"r1","tables":1},`, "run"},
		{"no id", `"run":{"tables":1},`, "run.id"},
		{"empty id", `"run":{"id":"","tables":1},`, "run.id"},
		{"id not a string", `"run":{"id":7,"tables":1},`, "run.id"},
		{"id too long", `"run":{"id":"` + strings.Repeat("r", 129) + `","tables":1},`, "run.id"},
		{"no tables", `"run":{"id":"r1"},`, "run.tables"},
		{"zero tables", `"run":{"id":"r1","tables":0},`, "run.tables"},
		{"negative tables", `"run":{"id":"r1","tables":-2},`, "run.tables"},
		{"fractional tables", `"run":{"id":"r1","tables":1.5},`, "run.tables"},
		{"tables a string", `"run":{"id":"r1","tables":"3"},`, "run.tables"},
		{"repeated run", `"run":{"id":"r1","tables":1},"run":{"id":"r2","tables":1},`, "run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(with(tt.run)))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, want a ValidationError", err)
			}
			if !strings.HasPrefix(ve.Field, tt.field) {
				t.Errorf("field = %q (%s), want %q", ve.Field, ve.Reason, tt.field)
			}
		})
	}
}

// A failed load's notification is read only when the load names its run
// (for the run's summary), and only kept when valid; its body stays nil.
func TestParseFailedLoadOfARun(t *testing.T) {
	msg := func(run, notification string) string {
		return `{"client_id":1,"load_id":"f","status":"failed"` + run + notification + `}`
	}
	run := `,"run":{"id":"r1","tables":2}`
	for _, tt := range []struct {
		name, in string
		tables   int // tables of the notification kept; -1 none
	}{
		{"with its run", msg(run, `,"notification":`+specBody), 1},
		{"without a run", msg("", `,"notification":`+specBody), -1},
		{"broken notification", msg(run, `,"notification":{"tables":"nope"}`), -1},
		{"no notification", msg(run, ""), -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if m.Body != nil {
				t.Errorf("Body = %s, want nil for a failed load", m.Body)
			}
			switch {
			case tt.tables < 0 && m.Notification != nil:
				t.Errorf("Notification = %+v, want nil", m.Notification)
			case tt.tables >= 0 && (m.Notification == nil || len(m.Notification.Tables) != tt.tables):
				t.Errorf("Notification = %+v, want %d tables", m.Notification, tt.tables)
			}
		})
	}
}
