package main

import "fmt"

// The design this work replaced kept a delivery record per (load,
// hook): a claim and a result write for every pair. Its code is gone, so
// its figures are the ones scripts/bench measured for it on 2026-12-02 at
// 08:03 UTC on this project's 2-core machine (200 batches, 3 runs), and the
// table prints them beside today's. The cost of that design is computed
// from its counts with today's prices, like today's.

// beforeDate says when and on what the before figures were measured.
const beforeDate = "2026-12-02 08:03 UTC, a record per pair"

// beforeCPU is that run's in-process CPU per delivery, in µs.
var beforeCPU = struct{ floor, fake, dynamoDB float64 }{floor: 56.3, fake: 73.1, dynamoDB: 882.0}

// beforeEndToEnd is that run's end-to-end ratio to the raw client (440
// against 1806 deliveries per s).
const beforeEndToEnd = 440.0 / 1806.0

// beforeUsage is what a successful delivery used then, per cost case, and
// its DynamoDB requests.
var beforeUsage = map[string]struct {
	usage
	requests float64
}{
	"hooks=10": {usage{writeUnits: 2.00, readUnits: 0.010, sqsRequests: 0.031, lambdaMs: 1.66, invocations: 0.010, logBytes: 249}, 2.010},
	"hooks=1":  {usage{writeUnits: 2.00, readUnits: 0.100, sqsRequests: 0.310, lambdaMs: 2.07, invocations: 0.100, logBytes: 248}, 2.100},
	"retry":    {usage{writeUnits: 4.00, readUnits: 0.110, sqsRequests: 1.241, lambdaMs: 4.06, invocations: 0.110, logBytes: 495}, 4.112},
}

// beforeCPURatio is the before figure of a CPU row: µs and the multiple of
// the raw client of that run.
func beforeCPURatio(us float64) string {
	return fmt.Sprintf("before %.1f µs, %.2f×", us, us/beforeCPU.floor)
}
