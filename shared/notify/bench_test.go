package notify

import "testing"

// benchMessage is a realistic load message: the documented example with
// two de-nested sub-tables, as a loader writes it (spaced, with a load id).
const benchMessage = `{"client_id": 116078, "load_id": "b2f6c1d0-5a1e-4c3b-9d2f-0e8a7b6c5d4e", "status": "succeeded",
 "notification": {"version":"1.0","minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"shopify",
 "new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders",
 "table_version":0,
 "tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":100,
            "num_rows_rejected":11,"s3_objects":["stitch-s3-bucket/orders/0_1563294550038.jsonl"],
            "bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],
            "max_time_extracted":"2026-07-15T14:43:09.030Z"},
           {"source_table_name":"orders__order_items","destination_table_name":"orders__order_items","num_rows":340,
            "num_rows_rejected":0,"s3_objects":["stitch-s3-bucket/orders__order_items/0_1563294550038.jsonl"],
            "bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],
            "max_time_extracted":"2026-07-15T14:43:09.030Z"},
           {"source_table_name":"orders__shipping_lines","destination_table_name":"orders__shipping_lines","num_rows":97,
            "num_rows_rejected":2,"s3_objects":["stitch-s3-bucket/orders__shipping_lines/0_1563294550038.jsonl"],
            "bookmark_metadata":null,"max_time_extracted":"2026-07-15T14:43:09.030Z"}]}}`

func BenchmarkParse(b *testing.B) {
	in := []byte(benchMessage)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
