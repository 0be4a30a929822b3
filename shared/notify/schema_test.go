package notify

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schemas of the request bodies (schema/*.json, JSON Schema
// 2020-12) hold what is sent: the bodies this package writes validate
// against table_loaded, the documented examples of the other events against
// theirs, and each schema refuses a body that breaks it (so the tests can
// fail).

// compileSchema compiles schema/<name>.json, with formats asserted.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join("schema", name+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

// validate reports whether body is valid under s (and why not).
func validate(t *testing.T, s *jsonschema.Schema, body string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return s.Validate(v)
}

func TestTableLoadedBodiesMatchTheSchema(t *testing.T) {
	s := compileSchema(t, "table_loaded")
	for _, msg := range []string{
		`{"client_id":116078,"load_id":"b2f6c1d0","status":"succeeded","notification":` + specBody + `}`,
		// optional fields absent, a sub-table, numeric bookmarks
		`{"client_id":7,"load_id":"l-1","status":"succeeded","notification":{"integration_name":"a<b>&c",
			"new_version":true,"source_root_table_name":"orders","destination_root_table_name":"orders_dst","table_version":3,
			"tables":[{"source_table_name":"orders","destination_table_name":"orders_dst","num_rows":5,"num_rows_rejected":0,
			           "bookmark_metadata":[{"key":"id","max_value":42,"min_value":1.5}]},
			          {"source_table_name":"orders__items","destination_table_name":"orders__items","num_rows":9,"num_rows_rejected":0,"bookmark_metadata":null}]}}`,
		// rejected: bookmark_metadata null, unknown keys dropped
		`{"client_id":1,"load_id":"r","status":"rejected","extra":1,"notification":{"integration_name":"i","new_version":false,
			"source_root_table_name":"t","destination_root_table_name":"t","table_version":0,"x":true,
			"tables":[{"source_table_name":"t","destination_table_name":"t","num_rows":0,"num_rows_rejected":4,"s3_objects":[],"internal":1}]}}`,
	} {
		m, err := Parse([]byte(msg))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if err := validate(t, s, string(m.Body)); err != nil {
			t.Errorf("body %s\ndoes not match table_loaded: %v", m.Body, err)
		}
	}
}

func TestEventSchemasHoldTheirExamples(t *testing.T) {
	tests := []struct {
		schema string
		valid  []string
		broken []string
	}{
		{
			schema: "table_loaded",
			valid:  []string{specBody},
			broken: []string{
				strings.Replace(specBody, `"version":"1.0"`, `"version":"2.0"`, 1),
				strings.Replace(specBody, `"table_version":0,`, ``, 1),
				strings.Replace(specBody, `"new_version":false`, `"new_version":false,"type":"table_loaded"`, 1),
				strings.Replace(specBody, `"num_rows":100`, `"num_rows":-1`, 1),
			},
		},
		{
			schema: "run_completed",
			valid: []string{
				`{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r1","complete":true,"started_at":"2026-07-15T14:45:08Z","finished_at":"2026-07-15T14:47:00Z","tables":[{"destination_table_name":"orders","status":"succeeded","num_rows":100,"num_rows_rejected":11}]}`,
				`{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r2","complete":false,"started_at":"2026-07-15T14:45:08Z","finished_at":"2026-07-15T14:45:08Z","tables":[{"destination_table_name":"customers","status":"rejected","num_rows":0,"num_rows_rejected":3}]}`,
			},
			broken: []string{
				`{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r1","complete":"yes","started_at":"2026-07-15T14:45:08Z","finished_at":"2026-07-15T14:47:00Z","tables":[]}`,
				`{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r1","complete":true,"started_at":"yesterday","finished_at":"2026-07-15T14:47:00Z","tables":[{"destination_table_name":"orders","status":"succeeded","num_rows":1,"num_rows_rejected":0}]}`,
			},
		},
		{
			schema: "load_overdue",
			valid: []string{
				`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":"2026-07-15T12:40:00Z"}`,
				`{"version":"1.0","type":"load_overdue","state":"back_on_time","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":null}`,
			},
			broken: []string{
				`{"version":"1.0","type":"load_overdue","state":"late","integration_name":"shopify","table":"orders","max_interval":"2h","last_loaded_at":null}`,
				`{"version":"1.0","type":"load_overdue","state":"overdue","integration_name":"shopify","table":"orders","max_interval":"2h"}`,
			},
		},
		{
			schema: "ping",
			valid:  []string{`{"version":"1.0","type":"ping","hook_id":8,"sent_at":"2026-07-15T14:45:08Z"}`},
			broken: []string{
				`{"version":"1.0","type":"ping","hook_id":0,"sent_at":"2026-07-15T14:45:08Z"}`,
				`{"version":"1.0","type":"ping","hook_id":8,"sent_at":"2026-07-15T14:45:08Z","extra":1}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s := compileSchema(t, tt.schema)
			for _, b := range tt.valid {
				if err := validate(t, s, b); err != nil {
					t.Errorf("valid example refused: %v\n%s", err, b)
				}
			}
			for _, b := range tt.broken {
				if validate(t, s, b) == nil {
					t.Errorf("broken body accepted:\n%s", b)
				}
			}
		})
	}
}
