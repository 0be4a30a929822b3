package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/store"
)

// The freshness check: a scheduled invocation (every
// HOOKS_FRESHNESS_CHECK_EVERY) finds every account with freshness rules in
// the registry, reads each one's rules and table states in one Query, and
// for each rule does what hook.FreshnessRule.Next decides:
//
//   - a table that is due opens an overdue episode with a conditional write
//     (of concurrent checks exactly one opens it);
//   - an open episode's overdue notice, and once the table has loaded again
//     its back-on-time notice, is claimed in the alert records (as an
//     exhausted delivery's alert is), emailed to each alert address at most
//     once, queued once as a load_overdue event notification for the hooks,
//     and then recorded as done on the table's state; the back-on-time
//     notice closes the episode, which arms the rule again.
//
// A check that crashes or fails midway leaves the claim to run out: a later
// check takes it over and sends only what was not sent yet. An account
// whose plan lacks the feature gets no notice and opens no episode.

// freshnessBook keeps the rules and the tables' freshness states
// (store.Store); see the store's methods for the errors.
type freshnessBook interface {
	FreshnessAccounts(ctx context.Context) ([]int64, error)
	FreshnessCheck(ctx context.Context, clientID int64) ([]hook.FreshnessRule, map[hook.FreshnessKey]hook.FreshnessState, error)
	OpenFreshnessEpisode(ctx context.Context, clientID int64, k hook.FreshnessKey, st hook.FreshnessState, now time.Time) (bool, error)
	FinishFreshnessNotice(ctx context.Context, clientID int64, k hook.FreshnessKey, episode int64, back bool) error
}

// eventQueuer queues one event notification for the hooks of an account
// subscribed to its type.
type eventQueuer interface {
	QueueEvent(ctx context.Context, m delivery.EventMessage) error
}

// retryQueueEvents is the eventQueuer of the service: the event message
// goes on the dispatcher's retry queue, whose event notifications the
// dispatcher delivers to the subscribed hooks.
type retryQueueEvents struct {
	queue messageSender
	url   string
}

func (q retryQueueEvents) QueueEvent(ctx context.Context, m delivery.EventMessage) error {
	_, err := q.queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(string(m.Encode()))})
	if err != nil {
		return fmt.Errorf("queue %s event %s: %w", m.Event, m.EventID, err)
	}
	return nil
}

// hooksRecipient stands for the account's hooks in a notice's alert
// record: it is recorded as sent, like an address, once the event
// notification is queued. It is no email address, so no email goes to it.
const hooksRecipient = "hooks:" + notify.EventLoadOverdue

// errFreshnessIncomplete: the check could not finish every rule; the next
// one carries on.
var errFreshnessIncomplete = errors.New("freshness check incomplete")

// checkFreshness runs one freshness check at now. Every account is checked
// on its own: one that fails is logged and left to the next check, and the
// error says some did.
func (h *handler) checkFreshness(ctx context.Context) error {
	start := h.now()
	log := h.log.With(slog.String("check", "freshness"))
	ids, err := h.fresh.FreshnessAccounts(ctx)
	if err != nil {
		log.ErrorContext(ctx, "freshness registry read failed", slog.String("error", err.Error()))
		return errFreshnessIncomplete
	}
	// Past one period the next check has started: leave the rest to it.
	deadline := start.Add(h.checkEvery)
	var failed, notices int
	for _, id := range ids {
		if h.now().After(deadline) {
			log.WarnContext(ctx, "freshness check out of time", slog.Int("accountsLeft", len(ids)))
			return errFreshnessIncomplete
		}
		n, ok := h.checkAccount(ctx, log.With(slog.Int64("clientId", id)), id)
		notices += n
		if !ok {
			failed++
		}
	}
	log.InfoContext(ctx, "freshness check", slog.Int("accounts", len(ids)), slog.Int("notices", notices),
		slog.Int("failed", failed), slog.Int64("durationMs", h.now().Sub(start).Milliseconds()))
	if failed > 0 {
		return errFreshnessIncomplete
	}
	return nil
}

// checkAccount checks every rule of one account and returns how many
// notices it finished and whether every rule was handled.
func (h *handler) checkAccount(ctx context.Context, log *slog.Logger, clientID int64) (int, bool) {
	acct, err := h.accounts.Account(ctx, clientID)
	switch {
	case errors.Is(err, hook.ErrNotFound):
		return 0, true
	case err != nil:
		log.ErrorContext(ctx, "account lookup failed", slog.String("error", err.Error()))
		return 0, false
	case !acct.HasHooks():
		// A downgrade stops the notices, as it stops deliveries.
		return 0, true
	}
	rules, states, err := h.fresh.FreshnessCheck(ctx, clientID)
	if err != nil {
		log.ErrorContext(ctx, "freshness rules read failed", slog.String("error", err.Error()))
		return 0, false
	}
	notices, ok := 0, true
	for _, r := range rules {
		st := states[r.Key()]
		var sent, done bool
		switch r.Next(st, h.now()) {
		case hook.FreshnessWait:
			continue
		case hook.FreshnessOpen:
			opened, err := h.fresh.OpenFreshnessEpisode(ctx, clientID, r.Key(), st, h.now())
			if err != nil {
				log.ErrorContext(ctx, "open overdue episode failed", slog.String("error", err.Error()))
				ok = false
				continue
			}
			if !opened {
				// Another check opened it, or the table has just loaded.
				continue
			}
			st.Episode, st.Open, st.OpenedLoad = st.Episode+1, true, st.LastLoadedAt
			sent, done = h.sendNotice(ctx, log, acct, r, st, false)
		case hook.FreshnessSendOverdue:
			sent, done = h.sendNotice(ctx, log, acct, r, st, false)
		case hook.FreshnessSendBack:
			sent, done = h.sendNotice(ctx, log, acct, r, st, true)
		}
		if sent {
			notices++
		}
		ok = ok && done
	}
	return notices, ok
}

// noticeID is the notice's stable id: its alert record's key and its event
// notification's id, the same on every check.
func noticeID(k hook.FreshnessKey, episode int64, back bool) string {
	state := "overdue"
	if back {
		state = "back"
	}
	sum := sha256.Sum256([]byte(k.String()))
	return "freshness-" + state + "-" + strconv.FormatInt(episode, 10) + "-" + hex.EncodeToString(sum[:8])
}

// sendNotice sends the overdue (back false) or back-on-time notice of the
// open episode st.Episode once: claim, queue the event notification, email
// each address, finish the claim, record the notice on the table's state.
// sent says this call finished the notice; done false means the next check
// must try again (a failure, or another check holds the claim).
func (h *handler) sendNotice(ctx context.Context, log *slog.Logger, acct hook.Account, r hook.FreshnessRule, st hook.FreshnessState, back bool) (sent, done bool) {
	id := noticeID(r.Key(), st.Episode, back)
	log = log.With(slog.String("notice", id))
	finish := func() bool {
		if err := h.fresh.FinishFreshnessNotice(ctx, acct.ClientID, r.Key(), st.Episode, back); err != nil {
			log.ErrorContext(ctx, "record freshness notice failed", slog.String("error", err.Error()))
			return false
		}
		return true
	}
	claim, err := h.alerts.ClaimAlert(ctx, acct.ClientID, id, 0, claimLease)
	switch {
	case errors.Is(err, store.ErrAlertSent):
		// Sent by an earlier check that stopped before recording it.
		return false, finish()
	case errors.Is(err, store.ErrAlertBusy):
		log.InfoContext(ctx, "freshness notice being sent by another check")
		return false, true
	case err != nil:
		log.ErrorContext(ctx, "claim freshness notice failed", slog.String("error", err.Error()))
		return false, false
	}

	f := mail.Freshness{ClientID: acct.ClientID, IntegrationName: r.IntegrationName, Table: r.Table, MaxInterval: r.MaxInterval,
		LastLoadedAt: st.LastLoadedAt, RuleCreatedAt: r.CreatedAt, OverdueSince: r.DueAt(st.OpenedLoad), BackOnTime: back}
	render := func(rcpt string) (mail.Email, error) {
		return mail.RenderFreshness(f, h.now(), h.links.forRecipient(acct.ClientID, rcpt, h.now())), nil
	}
	// The hooks' notification first: an address SES refuses must not hold
	// it back.
	ok := claim.Sent(hooksRecipient) || h.queueNotice(ctx, log, &claim, acct.ClientID, id, r, st, back)
	if ok {
		_, ok = h.sendAll(ctx, log, &claim, recipients(acct.AlertEmails), render)
	}
	if !ok {
		if err := h.alerts.ReleaseAlert(ctx, claim); err != nil {
			log.WarnContext(ctx, "release freshness notice failed", slog.String("error", err.Error()))
		}
		return false, false
	}
	if err := h.alerts.FinishAlert(ctx, claim); err != nil {
		log.ErrorContext(ctx, "finish freshness notice failed", slog.String("error", err.Error()))
		return false, false
	}
	log.InfoContext(ctx, "freshness notice sent", slog.Bool("backOnTime", back), slog.Int("recipients", len(recipients(acct.AlertEmails))))
	return true, finish()
}

// queueNotice queues the notice's load_overdue event notification and
// records it in the claim; it reports whether both went through.
func (h *handler) queueNotice(ctx context.Context, log *slog.Logger, claim *store.AlertClaim, clientID int64, id string, r hook.FreshnessRule, st hook.FreshnessState, back bool) bool {
	body := notify.Overdue{State: notify.StateOverdue, IntegrationName: r.IntegrationName, Table: r.Table,
		MaxInterval: r.MaxInterval, LastLoadedAt: st.LastLoadedAt}
	if back {
		body.State = notify.StateBackOnTime
	}
	m := delivery.EventMessage{Kind: delivery.KindEvent, ClientID: clientID, Event: notify.EventLoadOverdue, EventID: id, Body: body.Encode()}
	if err := h.events.QueueEvent(ctx, m); err != nil {
		log.ErrorContext(ctx, "queue freshness notification failed", slog.String("error", err.Error()))
		return false
	}
	if err := h.alerts.AlertSentTo(ctx, claim, hooksRecipient); err != nil {
		// Queued but not recorded: the next check queues it again, with
		// the same event id.
		log.ErrorContext(ctx, "record freshness notification failed", slog.String("error", err.Error()))
		return false
	}
	return true
}
