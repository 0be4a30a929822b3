package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
)

// Step 2: read every account of the batch once (one Query each, in
// parallel), then turn the work into jobs: one per enabled hook of a load
// message's destination (every enabled hook when the message names none),
// one per retry message. Only the message's own client's hooks ever
// become jobs (see readAccount), and a load for an account whose plan lacks
// the feature makes none.

// job is one attempt of one (load, hook) pair.
type job struct {
	srcs           []int // its record, then the batch's other records asking for the same attempt
	messageID      string
	key            delivery.Key
	n              int // attempt number
	webhookID      string
	body           []byte
	digest         string // delivery.BodyDigest(body)
	firstAttemptAt time.Time
	notification   *notify.Notification // for the alert
	hook           hook.Hook            // the hook as read now; zero if it no longer exists
	// active: the hook exists and is enabled and the plan has the feature.
	// A retry for an inactive pair is cancelled quietly after its claim.
	active bool
}

type accountState struct {
	account hook.Account
	hooks   []hook.Hook
	err     error
}

func (h *handler) plan(ctx context.Context, records []events.SQSMessage, work []work, b *batch) []job {
	states := h.readAccounts(ctx, work)
	now := h.now().UTC()
	var jobs []job
	for _, w := range work {
		st := states[w.clientID()]
		msgID := records[w.src].MessageId
		if st.err != nil && !errors.Is(st.err, hook.ErrNotFound) {
			h.log.ErrorContext(ctx, "account read failed", "messageId", msgID, "clientId", w.clientID(), "error", st.err.Error())
			b.fail(w.src)
			continue
		}
		if m := w.load; m != nil {
			switch {
			case st.err != nil:
				h.skip(ctx, msgID, m.ClientID, m.LoadID, skipUnknownClient)
				continue
			case !st.account.HasHooks():
				h.skip(ctx, msgID, m.ClientID, m.LoadID, skipNoFeature)
				continue
			case m.DestinationID != 0 && !st.account.HasDestination(m.DestinationID):
				h.skip(ctx, msgID, m.ClientID, m.LoadID, skipUnknownDestination)
				continue
			}
			before := len(jobs)
			for _, hk := range st.hooks {
				if !hk.Enabled() || !hk.SendsLoadsOf(m.DestinationID) || !hk.Wants(m.Notification.IntegrationName, m.Notification.DestinationRootTableName) {
					continue
				}
				jobs = append(jobs, job{
					srcs: []int{w.src}, messageID: msgID,
					key:       delivery.Key{ClientID: m.ClientID, LoadID: m.LoadID, HookID: hk.ID},
					n:         1,
					webhookID: hook.WebhookID(m.ClientID, m.LoadID, hk.ID),
					body:      m.Body, digest: w.digest, firstAttemptAt: now,
					notification: m.Notification,
					hook:         hk, active: true,
				})
			}
			if len(jobs) == before {
				h.skip(ctx, msgID, m.ClientID, m.LoadID, skipNoEnabledHooks)
			}
			continue
		}
		r := w.retry
		j := job{
			srcs: []int{w.src}, messageID: msgID,
			key:       delivery.Key{ClientID: r.msg.ClientID, LoadID: r.msg.LoadID, HookID: r.msg.HookID},
			n:         r.msg.Attempt,
			webhookID: r.msg.WebhookID,
			body:      r.msg.Body, digest: w.digest, firstAttemptAt: r.msg.FirstAttemptAt,
			notification: &r.notification,
		}
		if st.err == nil {
			for _, hk := range st.hooks {
				if hk.ID == r.msg.HookID {
					j.hook = hk
					j.active = hk.Enabled() && st.account.HasHooks()
				}
			}
		}
		jobs = append(jobs, j)
	}
	return mergeDuplicates(jobs)
}

// mergeDuplicates keeps one job per (pair, attempt, body): a batch holding
// the same load or retry twice makes one attempt, and both records share its
// fate. (Across batches the delivery record does the same.) Messages with
// another body are not merged: the claim decides which body is the pair's.
func mergeDuplicates(jobs []job) []job {
	type attemptKey struct {
		k      delivery.Key
		n      int
		digest string
	}
	first := map[attemptKey]int{}
	out := jobs[:0]
	for _, j := range jobs {
		ak := attemptKey{j.key, j.n, j.digest}
		if i, ok := first[ak]; ok {
			if src := j.srcs[0]; !slices.Contains(out[i].srcs, src) {
				out[i].srcs = append(out[i].srcs, src)
			}
			continue
		}
		first[ak] = len(out)
		out = append(out, j)
	}
	return out
}

// readAccounts reads each account of the work once, in parallel (a batch
// holds at most 10 records, so at most 10 reads).
func (h *handler) readAccounts(ctx context.Context, work []work) map[int64]accountState {
	var ids []int64
	seen := map[int64]bool{}
	for _, w := range work {
		if cid := w.clientID(); !seen[cid] {
			seen[cid] = true
			ids = append(ids, cid)
		}
	}
	states := make(map[int64]accountState, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, cid := range ids {
		wg.Go(func() {
			st := h.readAccount(ctx, cid)
			mu.Lock()
			states[cid] = st
			mu.Unlock()
		})
	}
	wg.Wait()
	return states
}

// errForeignAccount means the store answered a read of one client with
// another client's account.
var errForeignAccount = errors.New("account read returned another client's account")

// readAccount reads one client's account and hooks and enforces tenant
// isolation on the answer, whatever the store returns: an account of another
// client is an error (the records fail, nothing is sent), and a hook of
// another client is dropped, so no job is ever made for it.
func (h *handler) readAccount(ctx context.Context, cid int64) accountState {
	a, hooks, err := h.accounts.AccountWithHooks(ctx, cid)
	if err != nil {
		return accountState{err: err}
	}
	if a.ClientID != cid {
		return accountState{err: fmt.Errorf("read account %d: %w", cid, errForeignAccount)}
	}
	own := make([]hook.Hook, 0, len(hooks))
	for _, hk := range hooks {
		if hk.ClientID != cid {
			h.log.ErrorContext(ctx, "foreign hook dropped", "clientId", cid, "hookId", hk.ID)
			continue
		}
		own = append(own, hk)
	}
	return accountState{account: a, hooks: own}
}
