package main

import (
	"encoding/json"
	"io"
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
	dims := [][]string{{}}
	line := map[string]any{name: 1}
	if dim != "" {
		dims = [][]string{{dim}}
		line[dim] = value
	}
	line["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  metricsNamespace,
			"Dimensions": dims,
			"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
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
