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
		Probes: hook.DefaultProbeSchedule(), ReplayRate: 10, ReplaySettle: time.Second, RunWait: time.Hour}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("defaults (-got +want):\n%s", diff)
	}
	if got.Schedule.MaxAttempts() != 6 {
		t.Errorf("MaxAttempts = %d, want 6", got.Schedule.MaxAttempts())
	}

	set := map[string]string{"HOOKS_RETRY_DELAYS": "1s,1s", "HOOKS_ATTEMPT_TIMEOUT": "5s", "HOOKS_ALLOW_PRIVATE_TARGETS": "true", "HOOKS_EXTRA_CA_FILE": "/ca.pem",
		"HOOKS_PROBE_DELAYS": "1s,2s", "HOOKS_PROBE_FOR": "1m", "HOOKS_REPLAY_RATE": "50", "HOOKS_RUN_WAIT": "2s"}
	for k, v := range full {
		set[k] = v
	}
	got, err = loadConfig(get(set))
	if err != nil {
		t.Fatal(err)
	}
	want = config{Table: "t", RetryQueueURL: "r", AlertQueueURL: "a", DeadLetterQueueURL: "d", NotificationsQueueARN: "arn:n", RetryQueueARN: "arn:r", Schedule: delivery.Schedule{time.Second, time.Second},
		AttemptTimeout: 5 * time.Second, AllowPrivate: true, ExtraCAFile: "/ca.pem",
		Probes: hook.ProbeSchedule{Delays: []time.Duration{time.Second, 2 * time.Second}, For: time.Minute}, ReplayRate: 50, ReplaySettle: time.Second, RunWait: 2 * time.Second}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("set (-got +want):\n%s", diff)
	}

	_, err = loadConfig(get(map[string]string{"HOOKS_RETRY_DELAYS": "16m", "HOOKS_ATTEMPT_TIMEOUT": "0s", "HOOKS_ALLOW_PRIVATE_TARGETS": "maybe",
		"HOOKS_PROBE_DELAYS": "1m,x", "HOOKS_PROBE_FOR": "-1h", "HOOKS_REPLAY_RATE": "0", "HOOKS_RUN_WAIT": "169h"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"HOOKS_TABLE", "HOOKS_RETRY_QUEUE_URL", "HOOKS_ALERT_QUEUE_URL", "HOOKS_DEAD_LETTER_QUEUE_URL",
		"HOOKS_NOTIFICATIONS_QUEUE_ARN", "HOOKS_RETRY_QUEUE_ARN", "HOOKS_RETRY_DELAYS", "HOOKS_ATTEMPT_TIMEOUT", "HOOKS_ALLOW_PRIVATE_TARGETS",
		"HOOKS_PROBE_DELAYS", "HOOKS_PROBE_FOR", "HOOKS_REPLAY_RATE", "HOOKS_RUN_WAIT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestRunWaitConfig(t *testing.T) {
	base := map[string]string{
		"HOOKS_TABLE": "t", "HOOKS_RETRY_QUEUE_URL": "r", "HOOKS_ALERT_QUEUE_URL": "a", "HOOKS_DEAD_LETTER_QUEUE_URL": "d",
		"HOOKS_NOTIFICATIONS_QUEUE_ARN": "arn:n", "HOOKS_RETRY_QUEUE_ARN": "arn:r",
	}
	for v, want := range map[string]time.Duration{"": time.Hour, "1s": time.Second, "90m": 90 * time.Minute, "168h": 168 * time.Hour,
		"0s": 0, "-1m": 0, "168h1s": 0, "1": 0, "soon": 0} {
		base["HOOKS_RUN_WAIT"] = v
		c, err := loadConfig(func(k string) string { return base[k] })
		switch {
		case want == 0 && (err == nil || !strings.Contains(err.Error(), "HOOKS_RUN_WAIT")):
			t.Errorf("HOOKS_RUN_WAIT=%q: err %v, want one naming HOOKS_RUN_WAIT", v, err)
		case want != 0 && (err != nil || c.RunWait != want):
			t.Errorf("HOOKS_RUN_WAIT=%q: %v, %v; want %v", v, c.RunWait, err, want)
		}
	}
}
