package probeenv

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/hook"
)

func TestLoad(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	env := coldstart.NewEnv(get(nil))
	if got := Load(env); !cmp.Equal(got, hook.DefaultProbeSchedule()) || env.Err() != nil {
		t.Errorf("unset: %v, %v; want the default", got, env.Err())
	}
	env = coldstart.NewEnv(get(map[string]string{"HOOKS_PROBE_DELAYS": "10s, 1m", "HOOKS_PROBE_FOR": "10m"}))
	want := hook.ProbeSchedule{Delays: []time.Duration{10 * time.Second, time.Minute}, For: 10 * time.Minute}
	if got := Load(env); !cmp.Equal(got, want) || env.Err() != nil {
		t.Errorf("set: %v, %v; want %v", got, env.Err(), want)
	}
	for _, bad := range []map[string]string{{"HOOKS_PROBE_DELAYS": "1m,x"}, {"HOOKS_PROBE_DELAYS": "0s"}, {"HOOKS_PROBE_DELAYS": ","},
		{"HOOKS_PROBE_FOR": "-1h"}, {"HOOKS_PROBE_FOR": "3 days"}} {
		env = coldstart.NewEnv(get(bad))
		Load(env)
		for name := range bad {
			if err := env.Err(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%v: %v, want %s refused", bad, err, name)
			}
		}
	}
}
