package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// A hook's in-flight cap is an operator's setting, not a member's: it
// protects the receiver and bounds what one hook takes of the dispatcher,
// and the hooks API's bodies are fixed. Operators raise it for a receiver
// that can take more, or lower it for a fragile one.

// maxInFlightSetter sets a hook's cap (store.Store.SetMaxInFlight).
type maxInFlightSetter interface {
	SetMaxInFlight(ctx context.Context, clientID, hookID int64, n int) (hook.Hook, error)
}

// maxInFlightJSON is the answer: the hook and its cap in force (the
// default when none is set), and whether operators set it.
type maxInFlightJSON struct {
	ID          int64 `json:"id"`
	ClientID    int64 `json:"client_id"`
	MaxInFlight int   `json:"max_in_flight"`
	Default     bool  `json:"default"`
}

func newMaxInFlightJSON(h hook.Hook) maxInFlightJSON {
	return maxInFlightJSON{ID: h.ID, ClientID: h.ClientID, MaxInFlight: delivery.CapOf(h.MaxInFlight), Default: h.MaxInFlight == 0}
}

// handleSetMaxInFlight serves PATCH
// /admin/v1/accounts/{client_id}/hooks/{hook_id}: exactly
// {"max_in_flight": n} with n from 1 to delivery.MaxMaxInFlight, or null for
// the default; 200 with the cap in force.
func handleSetMaxInFlight(log *slog.Logger, admin adminCheck, s maxInFlightSetter) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		cid, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		hid, err := pathID(r, "hook_id")
		if err != nil {
			return err
		}
		body, err := readAdminBody(w, r, []string{"max_in_flight"})
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("max_in_flight must be an integer from 1 to %d, or null for the default of %d", delivery.MaxMaxInFlight, delivery.DefaultMaxInFlight)
		if !body.Has("max_in_flight") {
			return invalid("max_in_flight", msg)
		}
		n, err := body.OptInt("max_in_flight")
		if err != nil || n < 0 || n > delivery.MaxMaxInFlight {
			return invalid("max_in_flight", msg)
		}
		if raw, _, _ := body.Get("max_in_flight"); n == 0 && string(raw) != "null" {
			return invalid("max_in_flight", msg) // 0 is not a cap
		}
		h, err := s.SetMaxInFlight(r.Context(), cid, hid, int(n))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newMaxInFlightJSON(h))
		return nil
	})
}
