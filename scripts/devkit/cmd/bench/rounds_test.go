package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The end-to-end ratio pairs the i-th run of the handler with the i-th run
// of the raw client, whichever of the two went first in its round, and takes
// the median of those ratios, not the ratio of the medians; warm-up lines
// (prefixed by scripts/bench) are not runs.
func TestRoundRatio(t *testing.T) {
	const out = `warm-up: BenchmarkEndToEnd/floor-2 200 9999 deliveries/s
warm-up: BenchmarkEndToEnd/handler/store=dynamodb-2 200 1 deliveries/s
BenchmarkEndToEnd/floor-2 200 2000 deliveries/s 200 p50-ms
BenchmarkEndToEnd/handler/store=dynamodb-2 200 1800 deliveries/s 300 p50-ms
BenchmarkEndToEnd/handler/store=dynamodb-2 200 500 deliveries/s 900 p50-ms
BenchmarkEndToEnd/floor-2 200 1000 deliveries/s 400 p50-ms
BenchmarkEndToEnd/floor-2 200 4000 deliveries/s 100 p50-ms
BenchmarkEndToEnd/handler/store=dynamodb-2 200 2800 deliveries/s 200 p50-ms
`
	b := parseOutput(t, out)
	const e2e, floor = "BenchmarkEndToEnd/handler/store=dynamodb", "BenchmarkEndToEnd/floor"
	if n := b.runs(e2e); n != 3 {
		t.Errorf("runs = %d, want 3 (the warm-up is not counted)", n)
	}
	// Rounds: 1800/2000 = 0.9, 500/1000 = 0.5, 2800/4000 = 0.7; the
	// medians' ratio would be 1800/2000 = 0.9.
	if r, ok := b.roundRatio(e2e, floor, "deliveries/s"); !ok || r != 0.7 {
		t.Errorf("roundRatio = %v, %v; want 0.7, true", r, ok)
	}
	delete(b[floor], "deliveries/s")
	b[floor]["deliveries/s"] = []float64{2000, 1000}
	if r, ok := b.roundRatio(e2e, floor, "deliveries/s"); ok {
		t.Errorf("roundRatio with a round missing = %v, true; want no figure", r)
	}
}

// Section 1's ratios are the median of the runs' ratios too: each run of
// BenchmarkDelivery measures the floor and the handler in one process, so a
// slow run moves both sides of its own ratio. Here the medians' ratio would
// be 66/55 = 1.20×; the runs' ratios are 1.50, 1.10 and 1.25.
func TestDeliveryRatioIsTheRunsMedian(t *testing.T) {
	const out = `BenchmarkDelivery/floor-2 200 1 ns/op 40 cpu-µs/delivery
BenchmarkDelivery/handler/store=fake-2 200 1 ns/op 60 cpu-µs/delivery
BenchmarkDelivery/handler/store=dynamodb-2 200 1 ns/op 200 cpu-µs/delivery
BenchmarkDelivery/floor-2 200 1 ns/op 60 cpu-µs/delivery
BenchmarkDelivery/handler/store=fake-2 200 1 ns/op 66 cpu-µs/delivery
BenchmarkDelivery/handler/store=dynamodb-2 200 1 ns/op 240 cpu-µs/delivery
BenchmarkDelivery/floor-2 200 1 ns/op 55 cpu-µs/delivery
BenchmarkDelivery/handler/store=fake-2 200 1 ns/op 68.75 cpu-µs/delivery
BenchmarkDelivery/handler/store=dynamodb-2 200 1 ns/op 220 cpu-µs/delivery
`
	table := render(parseOutput(t, out), nil, apiResult{}, options{memoryMB: 256})
	for _, want := range []string{
		"median of 3 runs; ratios: median of the runs' ratios)",
		"| CPU µs per delivery, store = in-memory fake | 66.0 | 55.0 | 1.25× (goal ≤ 1.2×;",
		// 5.00, 4.00 and 4.00: the medians' ratio would be 220/55 = 4.00 too.
		"| CPU µs per delivery, store = DynamoDB Local | 220.0 | 55.0 | 4.00× (goal ≤ 270 µs;",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
}

// parseOutput is parseGoBench of out, go test -bench output as scripts/bench
// writes it to a file.
func parseOutput(t *testing.T, out string) benchResults {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gobench.txt")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := parseGoBench(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
