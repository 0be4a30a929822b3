package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// The outage: one hook, of an account of its own, whose endpoint answers
// 503 until the service has disabled it for failing, and 2xx from then on,
// while the other hooks keep their faults. With the run's short windows
// its deliveries are exhausted and alerted (the first at once, the rest of
// the digest window in one digest), the alerter disables it, the loads
// that come while it is disabled are kept as skipped, the endpoint
// recovers, a probe enables the hook again and every exhausted and skipped
// delivery is sent again, once, with its webhook-id. The checks are in
// outage_check.go.
//
// The account is the outage's own because auto-disable is an account's:
// the main account has it off, or its always-hanging hook would be
// disabled too and its later loads skipped for good (it never recovers).

const outageClient = 116080

// The run's hook health windows, given to both functions (the alerter
// decides the disable and names the probe schedule, the dispatcher probes).
const (
	outageDigestWindow  = 5 * time.Second // HOOKS_DIGEST_WINDOW, for every hook of the run
	outageDisableAfter  = 3 * time.Second // HOOKS_AUTO_DISABLE_AFTER
	outageMinExhausted  = 3               // HOOKS_AUTO_DISABLE_MIN_EXHAUSTED
	outageProbeDelays   = "2s"            // HOOKS_PROBE_DELAYS: every 2 s
	outageProbeFor      = 2 * time.Minute // HOOKS_PROBE_FOR
	outageLoadEvery     = 2 * time.Second // a load of the outage account until the hook is disabled
	outageMaxLoads      = 20              // at most this many before it
	outageSkippedLoads  = 2               // loads sent while it is disabled
	outageWaitForEnable = 60 * time.Second
)

// outageWaitForDisable is how long the driver waits for the disable: half
// the run's time limit (75 s short, 4 min full), as a full run's backlog
// of retries delays the outage's exhausted deliveries too.
func outageWaitForDisable(s settings) time.Duration { return s.limit / 2 }

// healthEnv is the hook health settings of both functions in the run.
func healthEnv() []string {
	return []string{
		"HOOKS_DIGEST_WINDOW=" + outageDigestWindow.String(),
		"HOOKS_AUTO_DISABLE_AFTER=" + outageDisableAfter.String(),
		fmt.Sprintf("HOOKS_AUTO_DISABLE_MIN_EXHAUSTED=%d", outageMinExhausted),
		"HOOKS_PROBE_DELAYS=" + outageProbeDelays,
		"HOOKS_PROBE_FOR=" + outageProbeFor.String(),
	}
}

// outageWorld is the outage's account, hook and the loads sent to it.
type outageWorld struct {
	alerts []string
	hook   hookSpec
	loads  []loadSpec
	pairs  []pair
}

// outageRun is what the outage driver saw.
type outageRun struct {
	DisabledSeen time.Time // when the driver first read the hook disabled
	Reason       string    // the disabled_reason it read then
	UpAt         time.Time // when the endpoint recovered
	EnabledSeen  time.Time // when the driver first read it enabled again
	Sent         int       // loads sent before the disable was seen
	Skipped      int       // loads sent while it was disabled
	SkippedSeen  int       // of those, how many the driver read kept as skipped before the recovery
}

// seedOutage creates the outage account (auto-disable on) and its hook on
// the flaky receiver's listener, answering as behavior outage.
func seedOutage(ctx context.Context, st *store.Store, s settings, rid string) (outageWorld, error) {
	w := outageWorld{alerts: []string{"ops-out-" + rid + "@example.com", "oncall-out-" + rid + "@example.com"}}
	if _, err := st.CreateAccount(ctx, hook.Account{ClientID: outageClient, Plan: "advanced", AlertEmails: w.alerts,
		Destinations: []hook.Destination{{ID: chaosDest, Type: "s3"}}}); err != nil {
		return w, fmt.Errorf("create account %d: %w", outageClient, err)
	}
	m, _, err := st.CreateMember(ctx, outageClient, fmt.Sprintf("chaos-out-%s@example.com", rid))
	if err != nil {
		return w, fmt.Errorf("create member of %d: %w", outageClient, err)
	}
	h := hookSpec{slot: "outage-0", server: "flaky", behavior: outage, enabled: true, clientID: outageClient, secret: hook.NewSecret()}
	created, err := st.CreateHook(ctx, hook.Principal{ClientID: outageClient, MemberID: m.ID}, chaosDest,
		fmt.Sprintf("https://127.0.0.1:%d/r/%s", s.receiverPort, h.slot), h.secret)
	if err != nil {
		return w, fmt.Errorf("create hook %s: %w", h.slot, err)
	}
	h.id = created.ID
	w.hook = h
	return w, nil
}

// runOutage sends the outage account a load every 2 s until the hook
// is disabled, then outageSkippedLoads more; once those are kept as
// skipped and a probe has been answered 503, the endpoint recovers, and it
// waits until a probe has enabled the hook again. Each wait is bounded:
// when it runs out the endpoint recovers anyway (so the run ends) and the
// checks report what did not happen.
func (c *chaos) runOutage(ctx context.Context) error {
	st := store.New(c.db, c.table, time.Now)
	o := &c.outage
	hk := c.world.outage.hook
	read := func() (hook.Hook, bool) {
		h, err := st.GetHook(ctx, outageClient, hk.id)
		return h, err == nil // DynamoDB Local may be restarting: read again
	}
	deadline := time.Now().Add(outageWaitForDisable(c.settings))
	for o.DisabledSeen.IsZero() && time.Now().Before(deadline) {
		if h, ok := read(); ok && !h.Enabled() {
			o.DisabledSeen, o.Reason = time.Now(), h.DisabledReason()
			c.say("outage hook %d disabled (%s) after %d loads", hk.id, o.Reason, o.Sent)
			break
		}
		if o.Sent < outageMaxLoads {
			if err := c.sendOutageLoad(ctx); err != nil {
				return err
			}
			o.Sent++
		}
		if err := sleep(ctx, outageLoadEvery); err != nil {
			return err
		}
	}
	if !o.DisabledSeen.IsZero() {
		for range outageSkippedLoads {
			if err := c.sendOutageLoad(ctx); err != nil {
				return err
			}
			o.Skipped++
		}
		o.SkippedSeen = c.waitSkipped(ctx, st)
		c.waitFailedProbe(ctx)
	} else {
		c.say("outage hook %d was not disabled within %s", hk.id, outageWaitForDisable(c.settings))
	}
	c.rec.outageUp.Store(true)
	o.UpAt = time.Now()
	c.say("outage endpoint up again")
	deadline = time.Now().Add(outageWaitForEnable)
	for time.Now().Before(deadline) {
		if h, ok := read(); ok && h.Enabled() {
			o.EnabledSeen = time.Now()
			c.say("outage hook %d enabled again", hk.id)
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	c.say("outage hook %d was not enabled again within %s", hk.id, outageWaitForEnable)
	return nil
}

// sendOutageLoad sends the next load of the outage account.
func (c *chaos) sendOutageLoad(ctx context.Context) error {
	w := &c.outageSent
	i := len(*w)
	id := fmt.Sprintf("chaos-%d-%d", outageClient, i)
	body := loadBody(outageClient, id, i)
	if _, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(c.notifications), MessageBody: aws.String(body)}); err != nil {
		return fmt.Errorf("send outage load: %w", err)
	}
	*w = append(*w, loadSpec{clientID: outageClient, id: id, body: body})
	return nil
}

// waitSkipped waits (at most 30 s) until the loads sent while the hook was
// disabled are kept as skipped, so the endpoint recovers only after they
// were, and returns how many were.
func (c *chaos) waitSkipped(ctx context.Context, st *store.Store) int {
	sent := c.outageSent[len(c.outageSent)-c.outage.Skipped:]
	deadline := time.Now().Add(30 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		n = 0
		for _, l := range sent {
			d, err := st.GetDelivery(ctx, delivery.Key{ClientID: outageClient, LoadID: l.id, HookID: c.world.outage.hook.id})
			if err == nil && d.Status == delivery.StatusSkipped {
				n++
			}
		}
		if n == len(sent) || sleep(ctx, 200*time.Millisecond) != nil {
			return n
		}
	}
	c.say("%d of the %d loads sent while the outage hook was disabled were kept as skipped within 30s", n, len(sent))
	return n
}

// waitFailedProbe waits (at most 30 s) until a probe has found the
// endpoint still down, so the run shows a failed probe before the one
// that enables the hook.
func (c *chaos) waitFailedProbe(ctx context.Context) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range c.rec.pingsSeen() {
			if p.Status >= 500 {
				c.say("outage hook probed: %d", p.Status)
				return
			}
		}
		if sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
	c.say("no probe of the outage hook within 30s")
}

// addOutageLoads makes the loads the outage driver sent part of the run's
// world (after the driver is done): their records are read and their pairs
// checked as every other.
func (c *chaos) addOutageLoads() {
	ow := &c.world.outage
	for _, l := range c.outageSent {
		ow.loads = append(ow.loads, l)
		p := pair{ClientID: outageClient, LoadID: l.id, HookID: ow.hook.id, Slot: ow.hook.slot,
			WebhookID: hook.WebhookID(outageClient, l.id, ow.hook.id), AlertTo: ow.alerts, Table: loadTable(len(ow.pairs))}
		ow.pairs = append(ow.pairs, p)
		c.world.pairs = append(c.world.pairs, p)
	}
}

// observeOutage reads the outage hook's end state and its audit trail.
func (c *chaos) observeOutage(ctx context.Context) (*outageObserved, error) {
	ow := c.world.outage
	h, err := store.New(c.db, c.table, time.Now).GetHook(ctx, outageClient, ow.hook.id)
	if err != nil {
		return nil, fmt.Errorf("read the outage hook: %w", err)
	}
	o := &outageObserved{
		ClientID: outageClient, HookID: ow.hook.id, Slot: ow.hook.slot, AlertTo: ow.alerts,
		Run: c.outage, Pings: c.rec.pingsSeen(), MinExhausted: outageMinExhausted,
		EndEnabled: h.Enabled(), EndReason: h.DisabledReason(),
	}
	for _, ch := range h.Audit {
		switch ch.Action {
		case hook.ActionAutoDisabled:
			o.AutoDisabled++
		case hook.ActionAutoEnabled:
			o.AutoEnabled++
		}
	}
	return o, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
