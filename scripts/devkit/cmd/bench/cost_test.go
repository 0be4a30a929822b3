package main

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// A known mix gives a known figure: each line of the sum by hand.
func TestPerMillion(t *testing.T) {
	u := usage{
		writeUnits:  2,    // 2 x 0.625 = 1.25 $/M
		readUnits:   0.1,  // 0.1 x 0.125 = 0.0125 $/M
		sqsRequests: 0.25, // 0.25 x 0.40 = 0.10 $/M
		lambdaMs:    1,    // 0.001 s x 0.25 GB = 0.00025 GB-s x 0.0000133334 x 10^6 = 0.00333335 $/M
		memoryMB:    256,
		invocations: 0.01, // 0.01 x 0.20 = 0.002 $/M
		logBytes:    250,  // 250e6 bytes = 0.25 GB: 0.125 $/M
	}
	c := listPrices.perMillion(u)
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"dynamodb", c.dynamoDB, 1.2625},
		{"sqs", c.sqs, 0.10},
		{"lambda", c.lambda, 0.00333335 + 0.002},
		{"logs", c.logs, 0.125},
		{"total", c.total(), 1.2625 + 0.10 + 0.00533335 + 0.125},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %.9f $/M, want %.9f", f.name, f.got, f.want)
		}
	}
}

func TestPerMillionNothing(t *testing.T) {
	if c := listPrices.perMillion(usage{memoryMB: 256}); c.total() != 0 {
		t.Errorf("no usage costs %+v", c)
	}
}

// From go test output to the printed figure: 2 write units, 0.01 read
// units, 0.1 records and 0.01 invocations per delivery, 0.2 poll requests
// per record and 1 producer request per 10 loads.
func TestRenderCost(t *testing.T) {
	out := "BenchmarkDeliveryCost/hooks=10-2 10 1 ns/op 0.01 ddb-rcu/delivery 2.01 ddb-req/delivery 2 ddb-wcu/delivery " +
		"0.01 invocations/delivery 1 lambda-ms/delivery 250 log-bytes/delivery 0.1 records/delivery 0 sqs-send-chunks/delivery\n" +
		"BenchmarkEndToEnd/handler/store=dynamodb-2 30 1 ns/op 0.2 sqs-poll-req/record 0.1 sqs-producer-req/load\n"
	b := parseOutput(t, out)
	u, ok := deliveryUsage(b, "hooks=10", 10, 256)
	// SQS: 0 sends + 0.1 records x 0.2 + 0.1 / 10 hooks = 0.03 per delivery.
	want := usage{writeUnits: 2, readUnits: 0.01, sqsRequests: 0.03, lambdaMs: 1, memoryMB: 256, invocations: 0.01, logBytes: 250}
	if !ok || !near(u.sqsRequests, want.sqsRequests) {
		t.Fatalf("usage = %+v (%v), want %+v", u, ok, want)
	}
	u.sqsRequests = want.sqsRequests
	if u != want {
		t.Fatalf("usage = %+v, want %+v", u, want)
	}
	var rows []string
	renderCost(func(cells ...string) { rows = append(rows, strings.Join(cells, " | ")) }, b, options{memoryMB: 256})
	// 1.25 + 0.00125 (DynamoDB) + 0.012 (SQS) + 0.0053 (Lambda) + 0.125 (Logs) = 1.394
	wantRow := "hooks=10: $ per million deliveries, Lambda at the handler's wall time | $1.394 (DynamoDB 1.251, SQS 0.012, Lambda 0.005, Logs 0.125) |  | goal ≤ $0.40"
	if !slices.Contains(rows, wantRow) {
		t.Errorf("no row %q in\n%s", wantRow, strings.Join(rows, "\n"))
	}
	// The goals are the 10-hook loads'; the other cases are shown beside them.
	// The before figures: the replaced design's counts, and their price.
	for _, want := range []string{
		"hooks=1: DynamoDB requests per delivery | n/a |  | for comparison (goal ≤ 0.3 is for hooks=10); before 2.100",
		"hooks=10: DynamoDB requests per delivery | 2.010 |  | goal ≤ 0.3; before 2.010",
		// 2 x 0.625 + 0.01 x 0.125 (DynamoDB) + 0.031 x 0.40 (SQS) +
		// 1.66 ms at 256 MB and 0.01 requests (Lambda) + 249 bytes (Logs).
		"hooks=10: $ per million deliveries, the design before (a record per pair, its counts at today's prices) | $1.396 (DynamoDB 1.251, SQS 0.012, Lambda 0.008, Logs 0.125) |  | ",
	} {
		if !slices.Contains(rows, want) {
			t.Errorf("no row %q in\n%s", want, strings.Join(rows, "\n"))
		}
	}
	if _, ok := deliveryUsage(b, "retry", 10, 256); ok {
		t.Error("a case the output does not hold has a usage")
	}
}

// The outage case delivers nothing: its rows are per exhausted pair, with
// no goal and no before figure.
func TestRenderCostOutage(t *testing.T) {
	out := "BenchmarkDeliveryCost/outage-2 10 1 ns/op 0.51 ddb-rcu/delivery 11.74 ddb-req/delivery 208.9 ddb-wcu/delivery " +
		"0.51 invocations/delivery 20 lambda-ms/delivery 2194 log-bytes/delivery 5.1 records/delivery 6 sqs-send-chunks/delivery\n" +
		"BenchmarkEndToEnd/handler/store=dynamodb-2 30 1 ns/op 0.2 sqs-poll-req/record 0.1 sqs-producer-req/load\n"
	var rows []string
	renderCost(func(cells ...string) { rows = append(rows, strings.Join(cells, " | ")) }, parseOutput(t, out), options{memoryMB: 256})
	for _, want := range []string{
		"outage: DynamoDB write / read units per exhausted pair | 208.90 / 0.510 |  | no goal: nothing is delivered",
		// 208.9 x 0.625 + 0.51 x 0.125 = 130.63 (DynamoDB); 20 ms at
		// 0.25 GB and 0.51 requests = 0.067 + 0.102 (Lambda).
		"outage: $ per million exhausted pairs, Lambda at the handler's wall time | $134.704 (DynamoDB 130.626, SQS 2.812, Lambda 0.169, Logs 1.097) |  | no goal: nothing is delivered",
	} {
		if !slices.Contains(rows, want) {
			t.Errorf("no row %q in\n%s", want, strings.Join(rows, "\n"))
		}
	}
	for _, r := range rows {
		if strings.HasPrefix(r, "outage:") && strings.Contains(r, "before") {
			t.Errorf("outage row with a before figure: %q", r)
		}
	}
}
