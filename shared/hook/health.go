package hook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Hook health: a hook whose deliveries have all ended exhausted for a long
// time is disabled by the service (reason "failing"), then probed with a
// signed ping on a schedule; the first probe answered 2xx enables it again.
// This file holds the rules; the store keeps the state and the alerter and
// dispatcher act on it.

// DisabledForFailing is the DisabledReason of a hook the service disabled
// because its deliveries kept failing.
const DisabledForFailing = "failing"

// Service is the audit name of changes the service makes on its own.
const Service = "service"

// Audit actions of the service's own changes of a hook's state.
const (
	ActionAutoDisabled = "auto_disabled"
	ActionAutoEnabled  = "auto_enabled"
)

// Health is what the service keeps of a hook's outcomes. Only exhausted
// deliveries write it (one write each, in the alerter); a success writes it
// only while the hook is failing (FailingSince set), so a healthy hook costs
// nothing per delivery.
type Health struct {
	// FailingSince is the time of the first exhausted delivery after the
	// last success, zero when the hook is not failing.
	FailingSince time.Time
	// Exhausted counts the exhausted deliveries since FailingSince.
	Exhausted int
	// LastSuccessAt is the last success noted while the hook was failing
	// (zero when none was).
	LastSuccessAt time.Time
}

// Failing reports whether the hook has had only exhausted deliveries since
// its last success.
func (h Health) Failing() bool { return !h.FailingSince.IsZero() }

// Probe is the state of the probes of a hook disabled for failing.
type Probe struct {
	// Step is the number (from 1) of the probe whose message is the live
	// one; Queued says that message is on the queue.
	Step   int
	Queued bool
	// ReplaySince is where the replay after a recovery starts: deliveries
	// created from then on that ended exhausted or were skipped are sent
	// again.
	ReplaySince time.Time
}

// AutoDisable is when the service disables a failing hook.
type AutoDisable struct {
	// After is how long the hook must have failed (HOOKS_AUTO_DISABLE_AFTER,
	// default 120h) and MinExhausted how many exhausted deliveries at least
	// (HOOKS_AUTO_DISABLE_MIN_EXHAUSTED, default 10).
	After        time.Duration
	MinExhausted int
}

// Default auto-disable thresholds.
const (
	DefaultAutoDisableAfter        = 120 * time.Hour
	DefaultAutoDisableMinExhausted = 10
)

// Due reports whether hk, of account a, is to be disabled for failing at
// now: it is enabled, the account has auto-disable on, and it has failed
// for at least After with at least MinExhausted exhausted deliveries.
func (p AutoDisable) Due(a Account, hk Hook, now time.Time) bool {
	h := hk.Health
	return hk.Enabled() && !a.NoAutoDisable && h.Failing() &&
		h.Exhausted >= p.MinExhausted && now.Sub(h.FailingSince) >= p.After
}

// ProbeSchedule is when a hook disabled for failing is probed.
type ProbeSchedule struct {
	// Delays between probes, from the disable (HOOKS_PROBE_DELAYS, default
	// 1m,5m,30m,2h); the last repeats.
	Delays []time.Duration
	// For is how long after the disable probes go on (HOOKS_PROBE_FOR,
	// default 72h).
	For time.Duration
}

// DefaultProbeSchedule is the production schedule.
func DefaultProbeSchedule() ProbeSchedule {
	return ProbeSchedule{Delays: []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}, For: 72 * time.Hour}
}

// At is when probe step (from 1) of a hook disabled at disabledAt is due.
func (s ProbeSchedule) At(disabledAt time.Time, step int) time.Time {
	t := disabledAt
	for i := range step {
		t = t.Add(s.Delays[min(i, len(s.Delays)-1)])
	}
	return t
}

// Has reports whether step is still within the probing period.
func (s ProbeSchedule) Has(disabledAt time.Time, step int) bool {
	return step >= 1 && !s.At(disabledAt, step).After(disabledAt.Add(s.For))
}

// ParseProbeDelays reads "1m,5m,30m,2h": positive durations, at least one.
func ParseProbeDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("probe delays: %q is not a positive duration", f)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("probe delays: none given")
	}
	return out, nil
}
