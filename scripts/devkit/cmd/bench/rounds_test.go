package main

import (
	"os"
	"path/filepath"
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
