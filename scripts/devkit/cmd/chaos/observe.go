package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/store"
)

// quietFor is how long nothing may change for the run to count as done: it
// is longer than the longest retry delay with jitter plus an attempt.
const quietFor = 8 * time.Second

// quiesce waits until the main queues are empty and neither receipts nor
// emails changed for quietFor, at most until the run's time limit.
func (c *chaos) quiesce(ctx context.Context) bool {
	deadline := c.t0.Add(c.limit)
	last, lastChange := "", time.Now()
	lastReport := time.Now()
	for time.Now().Before(deadline) {
		busy := false
		var parts []string
		for _, q := range []string{c.notifications, c.retries, c.alerts} {
			n, err := c.queueDepth(ctx, q)
			if err != nil {
				n = -1 // unknown counts as busy
			}
			busy = busy || n != 0
			parts = append(parts, strconv.Itoa(n))
		}
		receipts, _ := c.rec.snapshot()
		mails, _ := c.emails(ctx)
		sig := fmt.Sprintf("queues=%s receipts=%d emails=%d", strings.Join(parts, "/"), len(receipts), len(mails))
		if sig != last {
			last, lastChange = sig, time.Now()
		}
		if !busy && time.Since(lastChange) >= quietFor {
			c.say("quiescent: %s", sig)
			return true
		}
		if time.Since(lastReport) >= 10*time.Second {
			c.say("waiting: %s", sig)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
	c.say("not quiescent after %s: %s", c.limit, last)
	return false
}

// What the emails' text bodies say: the pair of an alert, the hook of a
// digest or health email, the loads a digest lists (a line each, the load
// id second), the loads it only counts, the deliveries a recovery sent
// again.
var (
	webhookIDLine = regexp.MustCompile(`(?m)^Webhook ID:\s+(msg_[0-9a-f]+)`)
	hookOfLine    = regexp.MustCompile(`(?i)post-load hook (\d+) of (?:account|client) (\d+)`)
	digestLoad    = regexp.MustCompile(`(?m)^  \S+  (\S+)  `)
	digestMore    = regexp.MustCompile(`(?m)^  \.\.\. and (\d+) more$`)
	sentAgainLine = regexp.MustCompile(`(?m)^Sent again: (\d+) deliveries`)
)

// classify reads what kind of email m is and what it names.
func classify(subject, text string) email {
	e := email{WebhookID: "(none)"}
	if g := hookOfLine.FindStringSubmatch(text); g != nil {
		e.HookID, _ = strconv.ParseInt(g[1], 10, 64)
		e.ClientID, _ = strconv.ParseInt(g[2], 10, 64)
	}
	switch {
	case strings.HasPrefix(subject, mail.SubjectDisabled):
		e.Kind = mailDisabled
	case strings.HasPrefix(subject, mail.SubjectReenabled):
		e.Kind = mailReenabled
		if g := sentAgainLine.FindStringSubmatch(text); g != nil {
			e.SentAgain, _ = strconv.Atoi(g[1])
		}
	case strings.Contains(text, "\nLoads (last attempt in UTC):\n"):
		e.Kind = mailDigest
		_, loads, _ := strings.Cut(text, "\nLoads (last attempt in UTC):\n")
		loads, _, _ = strings.Cut(loads, "\n\n")
		for _, g := range digestLoad.FindAllStringSubmatch(loads, -1) {
			e.Listed = append(e.Listed, hook.WebhookID(e.ClientID, g[1], e.HookID))
		}
		if g := digestMore.FindStringSubmatch(loads); g != nil {
			e.More, _ = strconv.Atoi(g[1])
		}
	default:
		if g := webhookIDLine.FindStringSubmatch(text); g != nil {
			e.WebhookID = g[1]
		}
	}
	return e
}

// emails lists the emails in the SES emulator addressed to this run's
// accounts: alerts, digests and the health emails.
func (c *chaos) emails(ctx context.Context) ([]email, error) {
	ours := map[string]bool{}
	for _, p := range c.world.pairs {
		for _, a := range p.AlertTo {
			ours[strings.ToLower(a)] = true
		}
	}
	mails, err := inbox.New(c.sesURL).List(ctx)
	if err != nil {
		return nil, err
	}
	var out []email
	for _, m := range mails {
		var to []string
		for _, a := range m.Recipients() {
			if ours[strings.ToLower(a)] {
				to = append(to, a)
			}
		}
		if len(to) == 0 {
			continue
		}
		e := classify(m.Subject, m.Body.Text)
		e.To = to
		out = append(out, e)
	}
	return out, nil
}

// records reads every delivery record of the run's loads.
func (c *chaos) records(ctx context.Context) (map[string]*record, error) {
	st := store.New(c.db, c.table, time.Now)
	out := map[string]*record{}
	for _, l := range slices.Concat(c.world.loads, c.world.outage.loads) {
		recs, err := st.LoadDeliveries(ctx, l.clientID, l.id)
		if err != nil {
			return nil, fmt.Errorf("read delivery records of %s: %w", l.id, err)
		}
		for _, d := range recs {
			rec := &record{Status: d.Status, Attempt: d.Attempt, Sequence: d.Sequence,
				Exhausted: exhaustedSequences(d.Status, d.Attempts, c.maxAttempts())}
			for _, a := range d.Attempts {
				if a.Outcome == delivery.OutcomeSuccess {
					rec.Successes++
				}
			}
			out[hook.WebhookID(l.clientID, l.id, d.HookID)] = rec
		}
	}
	summaries, err := c.summaryRecords(ctx, st, out)
	c.summaries = summaries
	return out, err
}

// drainLimit is the most messages drain takes from one queue, and
// drainTime how long it may take.
const (
	drainLimit = 100
	drainTime  = 30 * time.Second
)

// drain takes every message out of a DLQ (at most drainLimit) and returns
// their bodies. It deletes each message it reads and reads with a 2 s
// visibility timeout, so a receive whose answer is lost on the way (seen with
// goaws under load) hides its messages for 2 s rather than past the run; the
// queue is drained once it holds nothing, visible, in flight or delayed.
// Two messages with one body are two bodies, as the DLQ checks want.
func (c *chaos) drain(ctx context.Context, url string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, drainTime)
	defer cancel()
	var bodies []string
	for len(bodies) < drainLimit {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 2, WaitTimeSeconds: 0,
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", url, err)
		}
		for _, m := range out.Messages {
			if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return nil, fmt.Errorf("delete from %s: %w", url, err)
			}
			bodies = append(bodies, aws.ToString(m.Body))
		}
		if len(out.Messages) > 0 {
			continue
		}
		left, err := c.queueDepth(ctx, url)
		if err != nil {
			return nil, err
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s still holds messages no read returned within %s (%d counted)", url, drainTime, left)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return bodies, nil
}

// observe gathers everything the checks need.
func (c *chaos) observe(ctx context.Context, quiescent bool) (observed, error) {
	receipts, served5xx := c.rec.snapshot()
	c.faults.Served5xx = served5xx
	o := observed{
		Pairs: c.world.pairs, DisabledSlots: c.world.disabledSlots, Receipts: receipts,
		MainQueued: map[string]int{}, DLQBodies: map[string][]string{},
		WantDLQ:     map[string][]string{"post-load-notifications-dlq": c.wantDLQ, "post-load-retries-dlq": nil, "post-load-alerts-dlq": nil},
		Quiescent:   quiescent,
		MaxAttempts: c.maxAttempts(),
		CrashMargin: dispatcherTimeout * time.Second,
		Faults:      c.faults,
	}
	var err error
	if o.Records, err = c.records(ctx); err != nil {
		return o, err
	}
	o.Runs, o.Summaries = c.world.runs, c.summaries
	if o.Emails, err = c.emails(ctx); err != nil {
		return o, err
	}
	if o.Outage, err = c.observeOutage(ctx); err != nil {
		return o, err
	}
	for name, url := range map[string]string{"post-load-notifications": c.notifications, "post-load-retries": c.retries, "post-load-alerts": c.alerts} {
		if o.MainQueued[name], err = c.queueDepth(ctx, url); err != nil {
			return o, err
		}
	}
	for name, url := range map[string]string{"post-load-notifications-dlq": c.notificationsDLQ, "post-load-retries-dlq": c.retryDLQ, "post-load-alerts-dlq": c.alertsDLQ} {
		if o.DLQBodies[name], err = c.drain(ctx, url); err != nil {
			return o, err
		}
	}
	return o, nil
}
