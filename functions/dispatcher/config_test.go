package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"HOOKS_TABLE": "t", "HOOKS_RETRY_QUEUE_URL": "r", "HOOKS_ALERT_QUEUE_URL": "a", "HOOKS_DEAD_LETTER_QUEUE_URL": "d",
		"HOOKS_NOTIFICATIONS_QUEUE_ARN": "arn:n", "HOOKS_RETRY_QUEUE_ARN": "arn:r",
	}
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	got, err := loadConfig(get(full))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := delivery.ParseSchedule(delivery.DefaultRetryDelays)
	want := config{Table: "t", RetryQueueURL: "r", AlertQueueURL: "a", DeadLetterQueueURL: "d", NotificationsQueueARN: "arn:n", RetryQueueARN: "arn:r", Schedule: def, AttemptTimeout: 30 * time.Second,
		Probes: hook.DefaultProbeSchedule(), ReplayRate: 10}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("defaults (-got +want):\n%s", diff)
	}
	if got.Schedule.MaxAttempts() != 6 {
		t.Errorf("MaxAttempts = %d, want 6", got.Schedule.MaxAttempts())
	}

	set := map[string]string{"HOOKS_RETRY_DELAYS": "1s,1s", "HOOKS_ATTEMPT_TIMEOUT": "5s", "HOOKS_ALLOW_PRIVATE_TARGETS": "true", "HOOKS_EXTRA_CA_FILE": "/ca.pem",
		"HOOKS_PROBE_DELAYS": "1s,2s", "HOOKS_PROBE_FOR": "1m", "HOOKS_REPLAY_RATE": "50"}
	for k, v := range full {
		set[k] = v
	}
	got, err = loadConfig(get(set))
	if err != nil {
		t.Fatal(err)
	}
	want = config{Table: "t", RetryQueueURL: "r", AlertQueueURL: "a", DeadLetterQueueURL: "d", NotificationsQueueARN: "arn:n", RetryQueueARN: "arn:r", Schedule: delivery.Schedule{time.Second, time.Second},
		AttemptTimeout: 5 * time.Second, AllowPrivate: true, ExtraCAFile: "/ca.pem",
		Probes: hook.ProbeSchedule{Delays: []time.Duration{time.Second, 2 * time.Second}, For: time.Minute}, ReplayRate: 50}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("set (-got +want):\n%s", diff)
	}

	_, err = loadConfig(get(map[string]string{"HOOKS_RETRY_DELAYS": "16m", "HOOKS_ATTEMPT_TIMEOUT": "0s", "HOOKS_ALLOW_PRIVATE_TARGETS": "maybe",
		"HOOKS_PROBE_DELAYS": "1m,x", "HOOKS_PROBE_FOR": "-1h", "HOOKS_REPLAY_RATE": "0"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"HOOKS_TABLE", "HOOKS_RETRY_QUEUE_URL", "HOOKS_ALERT_QUEUE_URL", "HOOKS_DEAD_LETTER_QUEUE_URL",
		"HOOKS_NOTIFICATIONS_QUEUE_ARN", "HOOKS_RETRY_QUEUE_ARN", "HOOKS_RETRY_DELAYS", "HOOKS_ATTEMPT_TIMEOUT", "HOOKS_ALLOW_PRIVATE_TARGETS",
		"HOOKS_PROBE_DELAYS", "HOOKS_PROBE_FOR", "HOOKS_REPLAY_RATE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
