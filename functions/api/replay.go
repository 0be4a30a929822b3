package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Replay: every exhausted delivery of a hook created in a window is resent
// as a resend would (handleResend), paced so that they do not all arrive at
// once.

const (
	// maxReplay is the most deliveries one replay resends.
	maxReplay = 1000
	// maxReplayWindow is the longest replay window (the retention).
	maxReplayWindow = 30 * 24 * time.Hour
	// defaultReplayRate is how many replayed deliveries start each second
	// (HOOKS_REPLAY_RATE): a replay of 1000 spreads over 100 s.
	defaultReplayRate = 10
	// maxDelaySeconds is SQS's largest DelaySeconds.
	maxDelaySeconds = 900
)

// deliveryReplayer is what a replay needs from the store besides a resend.
type deliveryReplayer interface {
	deliveryResender
	ExhaustedDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error)
}

// handleReplay serves POST .../hooks/{id}/replay with {"since":..} and an
// optional "until" (RFC 3339; until defaults to now, the window is at most
// 30 days): 202 with {"replayed":n}. At most 1000 exhausted deliveries
// created in [since, until), oldest first, are resent; the i-th (from 0)
// arrives after i/rate seconds (at most 900). Needs the feature and an
// enabled hook.
func handleReplay(log *slog.Logger, s deliveryReplayer, q retryQueuer, rate int, now func() time.Time) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		since, until, err := decodeReplay(w, r, now)
		if err != nil {
			return err
		}
		n, err := replay(r.Context(), s, q, rate, p.ClientID, id, since, until)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, replayedJSON{Replayed: n})
		return nil
	})
}

// decodeReplay reads {"since":..} or {"since":..,"until":..}: anything else,
// until before since or a window over maxReplayWindow is errInvalidPostBody.
func decodeReplay(w http.ResponseWriter, r *http.Request, now func() time.Time) (since, until time.Time, err error) {
	raw, err := readBody(w, r)
	if err != nil {
		return since, until, err
	}
	o, err := strictjson.ParseBody(raw)
	if err != nil || o.Only("since", "until") != nil {
		return since, until, errInvalidPostBody
	}
	if since, err = o.Time("since"); err != nil {
		return since, until, errInvalidPostBody
	}
	until = now()
	if o.Has("until") {
		if until, err = o.Time("until"); err != nil {
			return since, until, errInvalidPostBody
		}
	}
	if until.Before(since) || until.Sub(since) > maxReplayWindow {
		return since, until, errInvalidPostBody
	}
	return since, until, nil
}

// replay checks the hook as a resend does (hookUsable), then resends its
// exhausted deliveries in [since, until), paced; it returns how many were
// queued. One resent meanwhile is skipped.
func replay(ctx context.Context, s deliveryReplayer, q retryQueuer, rate int, clientID, id int64, since, until time.Time) (int, error) {
	if _, err := hookUsable(ctx, s, clientID, id); err != nil {
		return 0, err
	}
	ds, err := s.ExhaustedDeliveries(ctx, clientID, id, since, until, maxReplay)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		r, err := s.Resend(ctx, d.Key)
		switch {
		case errors.Is(err, hook.ErrDeliveryInProgress):
			continue
		case err != nil:
			return n, err
		}
		if err := queueRestart(ctx, s, q, r, delivery.ReplayDelay(n, rate)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// replayedJSON is the answer of a replay.
type replayedJSON struct {
	Replayed int `json:"replayed"`
}
