package main

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// metricsNamespace is the CloudWatch namespace of the service's metrics.
const metricsNamespace = "PostLoadHooks"

// Metric names.
const (
	metricSkipped   = "NotificationsSkipped" // dimension Reason
	metricMalformed = "MessagesMalformed"    // no dimension
)

// Reasons a load notification is not sent (dimension Reason, and the log's reason).
const (
	skipLoadFailed         = "load_failed"
	skipUnknownClient      = "unknown_client"
	skipUnknownDestination = "unknown_destination"
	skipNoFeature          = "plan_without_feature"
	skipNoEnabledHooks     = "no_enabled_hooks"
)

// metrics writes CloudWatch embedded metric format lines (one JSON object per
// line on stdout, which Lambda's log pipeline turns into metrics).
type metrics struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func newMetrics(w io.Writer, now func() time.Time) *metrics { return &metrics{w: w, now: now} }

// count records one occurrence of metric name, with dimension dim=value when
// dim is not empty.
func (m *metrics) count(name, dim, value string) {
	m.write(name, "Count", 1, dim, value)
}

// write writes one line: metric name (in unit) with value v, a number or a
// list of at most maxMetricValues numbers, with dimension dim=dimValue when
// dim is not empty.
func (m *metrics) write(name, unit string, v any, dim, dimValue string) {
	dims := [][]string{{}}
	line := map[string]any{name: v}
	if dim != "" {
		dims = [][]string{{dim}}
		line[dim] = dimValue
	}
	line["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  metricsNamespace,
			"Dimensions": dims,
			"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // cannot happen: only strings and numbers
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}

// The delivery metrics, written once per invocation from its tally rather
// than from a log line per attempt (which would be a third of the cost of a
// delivery in log bytes): attempts by outcome, attempts by what followed
// them, and each attempt's latency.
const (
	metricAttempts = "DeliveryAttempts" // dimension Outcome (delivery.Outcome...)
	metricResults  = "DeliveryResults"  // dimension Result: delivered, retry or exhausted
	metricLatency  = "AttemptLatency"   // milliseconds, no dimension
)

// maxMetricValues is the most values one metric of one embedded metric
// format line may carry.
const maxMetricValues = 100

// tally sums an invocation's attempts.
type tally struct {
	mu       sync.Mutex
	outcomes map[string]int
	results  map[string]int
	latency  []float64
}

// add counts one attempt.
func (t *tally) add(outcome, result string, latencyMs int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.outcomes == nil {
		t.outcomes, t.results = map[string]int{}, map[string]int{}
	}
	t.outcomes[outcome]++
	t.results[result]++
	t.latency = append(t.latency, float64(latencyMs))
}

// attempts writes tally t: a line per outcome and per result that
// occurred, and the latencies in lines of at most maxMetricValues.
func (m *metrics) attempts(t *tally) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range slices.Sorted(maps.Keys(t.outcomes)) {
		m.write(metricAttempts, "Count", t.outcomes[o], "Outcome", o)
	}
	for _, r := range slices.Sorted(maps.Keys(t.results)) {
		m.write(metricResults, "Count", t.results[r], "Result", r)
	}
	for chunk := range slices.Chunk(t.latency, maxMetricValues) {
		m.write(metricLatency, "Milliseconds", chunk, "", "")
	}
}
