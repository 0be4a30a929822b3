package main

import (
	"fmt"
	"strings"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// The outage's invariants (outage.go), pure functions of what the run
// observed like those of check.go, unit-tested in outage_check_test.go.

// outageObserved is what the run saw of the outage hook.
type outageObserved struct {
	ClientID, HookID int64
	Slot             string
	AlertTo          []string
	Run              outageRun
	Pings            []receipt // the probes the endpoint got
	MinExhausted     int       // HOOKS_AUTO_DISABLE_MIN_EXHAUSTED of the run
	// The hook at the end: its state and its audit trail's service
	// changes.
	EndEnabled                bool
	EndReason                 string
	AutoDisabled, AutoEnabled int
}

// exhaustedSequences counts the sequences of attempts that ended
// exhausted in a delivery's history: maxAttempts failures in a row, each
// run of them restarted by a success. A sequence cut short (the hook was
// disabled, its retry kept as skipped) has fewer and is not counted; in
// this run nothing fails after a replay starts (the outage endpoint
// answers 2xx from then on), so a cut sequence is never followed by
// failures that would be added to it. A record whose status is exhausted
// counts at least one.
func exhaustedSequences(status string, attempts []delivery.Attempt, maxAttempts int) int {
	n, run := 0, 0
	for _, a := range attempts {
		if a.Outcome == delivery.OutcomeSuccess {
			run = 0
			continue
		}
		if run++; maxAttempts > 0 && run == maxAttempts {
			n, run = n+1, 0
		}
	}
	if status == delivery.StatusExhausted && n == 0 {
		n = 1
	}
	return n
}

// outageExhausted counts the outage hook's pairs that were exhausted.
func outageExhausted(o observed) int {
	n := 0
	for _, p := range outagePairs(o) {
		if rec := o.Records[p.WebhookID]; rec != nil && rec.Exhausted > 0 {
			n++
		}
	}
	return n
}

// outagePairs are the pairs of the outage hook.
func outagePairs(o observed) []pair {
	var ps []pair
	for _, p := range o.Pairs {
		if o.Outage != nil && p.ClientID == o.Outage.ClientID && p.HookID == o.Outage.HookID {
			ps = append(ps, p)
		}
	}
	return ps
}

// healthMails counts the emails of kind k about the outage hook per
// recipient, and the largest count of deliveries sent again they name.
func healthMails(o observed, k string) (map[string]int, int) {
	per, sentAgain := map[string]int{}, 0
	for _, e := range o.Emails {
		if e.Kind != k || e.ClientID != o.Outage.ClientID || e.HookID != o.Outage.HookID {
			continue
		}
		for _, to := range e.To {
			per[strings.ToLower(to)]++
		}
		sentAgain = max(sentAgain, e.SentAgain)
	}
	return per, sentAgain
}

// checkOutageHealth: the outage hook was disabled for failing exactly once
// (its audit trail, the reason read while it was disabled, one disable
// email per address) after at least the policy's exhausted deliveries,
// was probed, answered a probe 2xx once the endpoint was up, and was enabled
// again exactly once (audit, one re-enabled email per address); it ends
// enabled, and loads came while it was disabled.
func checkOutageHealth(o observed) row {
	r := row{Name: "outage hook disabled once (failing), probed, re-enabled once"}
	oo := o.Outage
	if oo == nil {
		r.Counts = "no outage"
		addDetail(&r, "the outage scenario did not run")
		return r
	}
	exhausted := outageExhausted(o)
	pings2xx, pingsFailed := 0, 0
	for _, pg := range oo.Pings {
		if pg.Status >= 500 {
			pingsFailed++
		}
		if pg.Status >= 200 && pg.Status < 300 {
			pings2xx++
			if !oo.Run.UpAt.IsZero() && pg.At.Before(oo.Run.UpAt) {
				addDetail(&r, "a probe was answered %d before the endpoint recovered", pg.Status)
			}
		}
		if !pg.SigOK {
			addDetail(&r, "a probe at %s: signature does not verify", pg.At.Format("15:04:05.000"))
		}
	}
	disabledMails, _ := healthMails(o, mailDisabled)
	enabledMails, _ := healthMails(o, mailReenabled)
	if oo.AutoDisabled != 1 {
		addDetail(&r, "the hook's audit trail holds %d auto-disables, want 1", oo.AutoDisabled)
	}
	if oo.AutoEnabled != 1 {
		addDetail(&r, "the hook's audit trail holds %d auto-enables, want 1", oo.AutoEnabled)
	}
	if oo.Run.DisabledSeen.IsZero() {
		addDetail(&r, "the hook was never seen disabled while its endpoint was down")
	} else if oo.Run.Reason != hook.DisabledForFailing {
		addDetail(&r, "the hook was disabled with reason %q, want %q", oo.Run.Reason, hook.DisabledForFailing)
	}
	if !oo.EndEnabled {
		addDetail(&r, "the hook ends disabled (reason %q)", oo.EndReason)
	}
	if exhausted < oo.MinExhausted {
		addDetail(&r, "%d deliveries were exhausted before the disable, the policy needs %d", exhausted, oo.MinExhausted)
	}
	if oo.Run.Skipped == 0 || oo.Run.SkippedSeen != oo.Run.Skipped {
		addDetail(&r, "%d of the %d loads sent while the hook was disabled were kept as skipped", oo.Run.SkippedSeen, oo.Run.Skipped)
	}
	if pings2xx == 0 || pingsFailed == 0 {
		addDetail(&r, "%d probes: %d found the endpoint down and %d answered 2xx, want at least one of each", len(oo.Pings), pingsFailed, pings2xx)
	}
	for _, to := range oo.AlertTo {
		if n := disabledMails[strings.ToLower(to)]; n != 1 {
			addDetail(&r, "%d disable emails to %s, want 1", n, to)
		}
		if n := enabledMails[strings.ToLower(to)]; n != 1 {
			addDetail(&r, "%d re-enabled emails to %s, want 1", n, to)
		}
	}
	r.Counts = fmt.Sprintf("exhausted=%d auto-disabled=%d (reason %s) skipped=%d probes=%d (5xx %d, 2xx %d) auto-enabled=%d disable-emails=%d re-enabled-emails=%d",
		exhausted, oo.AutoDisabled, orNone(oo.Run.Reason), oo.Run.SkippedSeen, len(oo.Pings), pingsFailed, pings2xx, oo.AutoEnabled,
		sumCounts(disabledMails), sumCounts(enabledMails))
	r.Pass = len(r.Detail) == 0
	return r
}

// checkOutageReplays: every delivery of the outage hook arrives exactly
// once after the recovery with the webhook-id of its pair (the one every
// earlier attempt of the load carried), and its record ends delivered. The
// exhausted ones and those seen skipped can only have come by the replay,
// so the re-enabled email names at least as many sent again, and at most
// every delivery of the hook (one still waiting for its retry at the
// recovery, or not yet dispatched, is sent by its own retry). A second 2xx
// is allowed only where the 2xx-repeat row allows one (a crash window, the
// store recording one success).
func checkOutageReplays(o observed) row {
	r := row{Name: "outage deliveries replayed once, with their webhook-id"}
	if o.Outage == nil {
		r.Counts = "no outage"
		addDetail(&r, "the outage scenario did not run")
		return r
	}
	up := o.Outage.Run.UpAt
	wins := crashWindows(o)
	recv := byID(o.Receipts)
	pairs := outagePairs(o)
	once, missing, twice, early, explained := 0, 0, 0, 0, 0
	for _, p := range pairs {
		var ok []receipt
		for _, rc := range recv[p.WebhookID] {
			if rc.Slot != p.Slot {
				continue // reported by the webhook-id row
			}
			if rc.Status >= 200 && rc.Status < 300 {
				ok = append(ok, rc)
				if up.IsZero() || rc.At.Before(up) {
					early++
					addDetail(&r, "load %s: a 2xx at %s, before the endpoint recovered", p.LoadID, rc.At.Format("15:04:05.000"))
				}
			}
		}
		switch {
		case len(ok) == 0:
			missing++
			addDetail(&r, "load %s (webhook-id %s): never arrived after the recovery", p.LoadID, p.WebhookID)
		case len(ok) == 1:
			once++
		default:
			rec := o.Records[p.WebhookID]
			lostInCrash := rec != nil && rec.Successes == 1
			for _, rc := range ok[:len(ok)-1] {
				lostInCrash = lostInCrash && inCrashWindow(wins, rc.At)
			}
			if lostInCrash {
				explained++
				continue
			}
			twice++
			addDetail(&r, "load %s (webhook-id %s): arrived %d times after the recovery", p.LoadID, p.WebhookID, len(ok))
		}
		if rec := o.Records[p.WebhookID]; rec == nil || rec.Status != delivery.StatusDelivered {
			status := "missing"
			if rec != nil {
				status = rec.Status
			}
			addDetail(&r, "load %s: record %s after the replay, want delivered", p.LoadID, status)
		}
	}
	_, sentAgain := healthMails(o, mailReenabled)
	least := outageExhausted(o) + o.Outage.Run.SkippedSeen
	if sentAgain < least || sentAgain > len(pairs) {
		addDetail(&r, "the re-enabled email says %d sent again, want %d (exhausted and seen skipped) to %d (every delivery of the hook)", sentAgain, least, len(pairs))
	}
	r.Counts = fmt.Sprintf("pairs=%d once=%d missing=%d twice=%d in-a-crash-window=%d early=%d sent-again=%d by-own-retry=%d",
		len(pairs), once, missing, twice, explained, early, sentAgain, max(len(pairs)-sentAgain, 0))
	if len(pairs) == 0 {
		addDetail(&r, "the outage hook had no delivery")
	}
	r.Pass = len(r.Detail) == 0
	return r
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
