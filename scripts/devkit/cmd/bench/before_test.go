package main

import (
	"strings"
	"testing"
)

// Every goal's row prints the figure of the design this one replaced beside
// today's: the CPU rows as µs and the multiple of that run's raw client, the
// end-to-end ratio, and the cost cases' counts (TestRenderCost has their
// price).
func TestRenderBefore(t *testing.T) {
	const out = `BenchmarkDelivery/floor-2 200 1 ns/op 100 cpu-µs/delivery
BenchmarkDelivery/handler/store=fake-2 200 1 ns/op 120 cpu-µs/delivery
BenchmarkDelivery/handler/store=dynamodb-2 200 1 ns/op 300 cpu-µs/delivery
BenchmarkEndToEnd/floor-2 200 1 ns/op 2000 deliveries/s
BenchmarkEndToEnd/handler/store=dynamodb-2 200 1 ns/op 1000 deliveries/s
BenchmarkDeliveryCost/hooks=10-2 10 1 ns/op 0.24 ddb-req/delivery 0.43 ddb-wcu/delivery 0.01 ddb-rcu/delivery
`
	b := parseOutput(t, out)
	table := render(b, nil, apiResult{}, options{memoryMB: 256})
	for _, want := range []string{
		"| _before_: the design replaced, measured 2026-12-02 08:03 UTC, a record per pair |",
		"| CPU µs per delivery, store = in-memory fake | 120.0 | 100.0 | 1.20× (goal ≤ 1.2×; before 73.1 µs, 1.30×) |",
		"| CPU µs per delivery, store = DynamoDB Local | 300.0 | 100.0 | 3.00× (goal ≤ 270 µs; before 882.0 µs, 15.67×) |",
		"0.50× (goal ≥ 0.8×; before 0.24×) |",
		"| hooks=10: DynamoDB write / read units per delivery | 0.43 / 0.010 |  | goal ≤ 0.5 write units; before 2.00 write units |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
}
