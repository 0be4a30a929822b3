// Package probeenv reads the probe schedule of hooks disabled for failing
// from the environment: HOOKS_PROBE_DELAYS and HOOKS_PROBE_FOR. The
// dispatcher probes on it and the alerter's disable email names it, so both
// read it here, with the same defaults and checks; no other function
// imports it, so no other function is expected to have the variables.
package probeenv

import (
	"errors"
	"time"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Load reads HOOKS_PROBE_DELAYS ("1m,5m,30m,2h": positive durations, the
// last repeating) and HOOKS_PROBE_FOR (a positive duration), each
// defaulting to hook.DefaultProbeSchedule's, recording an unusable value
// in env.
func Load(env *coldstart.Env) hook.ProbeSchedule {
	p := hook.DefaultProbeSchedule()
	if s := env.String("HOOKS_PROBE_DELAYS", ""); s != "" {
		d, err := hook.ParseProbeDelays(s)
		if err != nil {
			env.Invalid("HOOKS_PROBE_DELAYS", err)
		}
		p.Delays = d
	}
	if s := env.String("HOOKS_PROBE_FOR", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			env.Invalid("HOOKS_PROBE_FOR", errors.New("want a positive duration such as 72h"))
		}
		p.For = d
	}
	return p
}
