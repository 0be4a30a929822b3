package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// secretRotator is the store call that rotates a hook's signing secret.
type secretRotator interface {
	RotateHookSecret(ctx context.Context, p hook.Principal, id int64, secret string, overlap time.Duration) (hook.Hook, error)
}

// handleRotateSecret serves POST .../hooks/{id}/secret/rotate, without a
// body: 200 with {"secret":"whsec_...","previous_secret_expires_at":"..."},
// the new secret shown this once. Until previous_secret_expires_at every
// request carries a signature with the new secret and one with the old.
// Allowed on any plan and whether the hook is enabled or not: a leaked
// secret can always be replaced.
func handleRotateSecret(log *slog.Logger, s interface {
	memberAuth
	secretRotator
}, overlap time.Duration) http.Handler {
	return onHookWithoutBody(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) error {
		h, err := rotateSecret(r.Context(), s, p, id, overlap)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newRotatedSecretJSON(h))
		return nil
	})
}

// rotateSecret is how a member replaces a hook's signing secret, through
// the JSON API or the web page alike: a new secret, the old one still
// signing for overlap.
func rotateSecret(ctx context.Context, s secretRotator, p hook.Principal, id int64, overlap time.Duration) (hook.Hook, error) {
	return s.RotateHookSecret(ctx, p, id, hook.NewSecret(), overlap)
}

// rotatedSecretJSON is the answer of a rotation.
type rotatedSecretJSON struct {
	Secret                  string `json:"secret"`
	PreviousSecretExpiresAt string `json:"previous_secret_expires_at"`
}

func newRotatedSecretJSON(h hook.Hook) rotatedSecretJSON {
	return rotatedSecretJSON{Secret: h.Secret, PreviousSecretExpiresAt: formatTime(h.PreviousSecretExpiresAt)}
}

// onHookWithoutBody serves a body-less POST on one hook (rotate, test) for
// the token's member: the hook id (404 unless canonical), then no body
// (Invalid POST body, 413 when oversized), then h.
func onHookWithoutBody(log *slog.Logger, auth memberAuth, h func(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) error) http.Handler {
	return asMember(log, auth, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := readNoBody(w, r); err != nil {
			return err
		}
		return h(w, r, p, id)
	})
}
