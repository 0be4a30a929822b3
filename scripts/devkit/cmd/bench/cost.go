package main

import "fmt"

// The cost of a successful delivery at AWS on-demand list prices, from what
// the benchmarks counted (BenchmarkDeliveryCost, BenchmarkEndToEnd).

// priceRegion and priceDate say which list prices these are: us-east-1,
// on-demand, as known to the author on 2026-12-02, not fetched from AWS.
// Check them against AWS's pricing pages before relying on the figure.
const (
	priceRegion = "us-east-1"
	priceDate   = "2026-12-02"
)

// prices are dollars per unit.
type prices struct {
	writeRequestUnit float64 // DynamoDB on-demand write request unit (standard table class)
	readRequestUnit  float64 // DynamoDB on-demand read request unit
	sqsRequest       float64 // SQS standard queue request (a 64 KiB chunk), beyond the free tier
	lambdaGBSecond   float64 // Lambda arm64 duration, first tier
	lambdaRequest    float64 // Lambda request
	logsIngestByte   float64 // CloudWatch Logs standard ingestion, per byte (1 GB = 10^9 bytes)
}

var listPrices = prices{
	writeRequestUnit: 0.625 / 1e6,
	readRequestUnit:  0.125 / 1e6,
	sqsRequest:       0.40 / 1e6,
	lambdaGBSecond:   0.0000133334,
	lambdaRequest:    0.20 / 1e6,
	logsIngestByte:   0.50 / 1e9,
}

// usage is what one successful delivery uses, on average.
type usage struct {
	writeUnits  float64 // DynamoDB write capacity units
	readUnits   float64 // DynamoDB read capacity units
	sqsRequests float64 // SQS requests, in 64 KiB chunks
	lambdaMs    float64 // handler milliseconds (billed duration, before rounding up)
	memoryMB    int     // the function's configured memory
	invocations float64 // Lambda invocations
	logBytes    float64 // bytes written to CloudWatch Logs
}

// cost is dollars per million successful deliveries, by service.
type cost struct {
	dynamoDB, sqs, lambda, logs float64
}

func (c cost) total() float64 { return c.dynamoDB + c.sqs + c.lambda + c.logs }

// perMillion prices a million deliveries of u. Free tiers, storage (items
// until their TTL, logs after ingestion), CloudWatch metrics and data
// transfer are not counted, nor is the rounding of each invocation's
// duration up to the next millisecond.
func (p prices) perMillion(u usage) cost {
	const m = 1e6
	gbSeconds := u.lambdaMs / 1000 * float64(u.memoryMB) / 1024
	return cost{
		dynamoDB: m * (u.writeUnits*p.writeRequestUnit + u.readUnits*p.readRequestUnit),
		sqs:      m * u.sqsRequests * p.sqsRequest,
		lambda:   m * (gbSeconds*p.lambdaGBSecond + u.invocations*p.lambdaRequest),
		logs:     m * u.logBytes * p.logsIngestByte,
	}
}

// costCases are BenchmarkDeliveryCost's cases, the hooks of their account,
// and what their figures are per: a successful delivery, or, for the
// outage (every attempt fails, answered with an error page), a pair that
// ran out of attempts.
var costCases = []struct {
	name  string
	hooks float64
	per   string
}{{"hooks=10", 10, "delivery"}, {"hooks=1", 1, "delivery"}, {"retry", 10, "delivery"}, {"outage", 10, "exhausted pair"}}

// deliveryUsage is the usage of one case of BenchmarkDeliveryCost. SQS
// requests are the handler's sends (counted in 64 KiB chunks), plus, per
// record it handled, the event source's receives and deletes, plus the
// producer's send of the load (both per request, from the end-to-end run,
// where every request was one chunk).
func deliveryUsage(b benchResults, name string, hooks float64, memoryMB int) (usage, bool) {
	const e2e = "BenchmarkEndToEnd/handler/store=dynamodb"
	get := func(bench, unit string, ok *bool) float64 {
		v, found := b.get(bench, unit)
		*ok = *ok && found
		return v
	}
	ok := true
	bench := "BenchmarkDeliveryCost/" + name
	u := usage{
		writeUnits: get(bench, "ddb-wcu/delivery", &ok),
		readUnits:  get(bench, "ddb-rcu/delivery", &ok),
		sqsRequests: get(bench, "sqs-send-chunks/delivery", &ok) +
			get(bench, "records/delivery", &ok)*get(e2e, "sqs-poll-req/record", &ok) +
			get(e2e, "sqs-producer-req/load", &ok)/hooks,
		lambdaMs:    get(bench, "lambda-ms/delivery", &ok),
		memoryMB:    memoryMB,
		invocations: get(bench, "invocations/delivery", &ok),
		logBytes:    get(bench, "log-bytes/delivery", &ok),
	}
	return u, ok
}

// renderCost is section 5 of the table.
func renderCost(row func(...string), b benchResults, o options) {
	row(fmt.Sprintf("**5. Cost per successful delivery** (DynamoDB Local, units as it reports them with ReturnConsumedCapacity; %s on-demand list prices as known on %s, to be checked; dispatcher memory %d MB from the template)", priceRegion, priceDate, o.memoryMB), "", "", "")
	for _, c := range costCases {
		renderCostCase(row, b, o, c.name, c.hooks, c.per)
	}
}

// renderCostCase is one case's rows: its counts and price beside the goal
// and the before figures, then the price of the design before.
func renderCostCase(row func(...string), b benchResults, o options, name string, hooks float64, per string) {
	bench := "BenchmarkDeliveryCost/" + name
	v := func(unit, format string) string {
		x, ok := b.get(bench, unit)
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf(format, x)
	}
	// The goals are for loads fanning out to 10 hooks; a load to one hook,
	// or a retry of one pair, needs a claim and a result of its own, and is
	// shown beside them.
	goal := func(g string) string {
		if name == "hooks=10" {
			return "goal " + g
		}
		return "for comparison (goal " + g + " is for hooks=10)"
	}
	if per != "delivery" {
		goal = func(string) string { return "no goal: nothing is delivered" }
	}
	was, hadBefore := beforeUsage[name]
	before := func(format string, x float64) string {
		if !hadBefore {
			return ""
		}
		return "; before " + fmt.Sprintf(format, x)
	}
	row(name+": DynamoDB requests per "+per, v("ddb-req/delivery", "%.3f"), "", goal("≤ 0.3")+before("%.3f", was.requests))
	row(name+": DynamoDB write / read units per "+per, v("ddb-wcu/delivery", "%.2f")+" / "+v("ddb-rcu/delivery", "%.3f"), "", goal("≤ 0.5 write units")+before("%.2f write units", was.writeUnits))
	if u, ok := deliveryUsage(b, name, hooks, o.memoryMB); !ok {
		row(name+": cost per million "+plural(per), "n/a", "", goal("≤ $0.40"))
	} else {
		row(name+": SQS requests (64 KiB chunks) / invocations per "+per, fmt.Sprintf("%.3f / %.3f", u.sqsRequests, u.invocations), "", "")
		row(name+": handler ms / log bytes per "+per, fmt.Sprintf("%.2f / %.0f", u.lambdaMs, u.logBytes), "", "handler ms: wall time on DynamoDB Local")
		row(name+": $ per million "+plural(per)+", Lambda at the handler's wall time", money(listPrices.perMillion(u)), "", goal("≤ $0.40"))
		if cpu, ok := b.get("BenchmarkDelivery/handler/store=dynamodb", "cpu-µs/delivery"); ok && name == "hooks=10" {
			u.lambdaMs = cpu / 1000
			row(name+": $ per million deliveries, Lambda at the CPU time (section 1)", money(listPrices.perMillion(u)), "", goal("≤ $0.40"))
		}
	}
	if hadBefore {
		u := was.usage
		u.memoryMB = o.memoryMB
		row(name+": $ per million deliveries, the design before (a record per pair, its counts at today's prices)", money(listPrices.perMillion(u)), "", "")
	}
}

// plural is what a case's figures are per, counted in millions.
func plural(per string) string {
	if per == "delivery" {
		return "deliveries"
	}
	return per + "s"
}

// money is a price per million deliveries, with its parts.
func money(c cost) string {
	return fmt.Sprintf("$%.3f (DynamoDB %.3f, SQS %.3f, Lambda %.3f, Logs %.3f)", c.total(), c.dynamoDB, c.sqs, c.lambda, c.logs)
}
