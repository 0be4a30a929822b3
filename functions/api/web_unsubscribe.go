package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store"
)

// The one-click unsubscribe of alert emails (RFC 8058). Every alert email
// carries a link to unsubscribePath with a token signed for one address of
// one account (package optout, key HOOKS_UNSUBSCRIBE_KEY, shared with the
// alerter). GET shows a page with a button (mail scanners that open links
// unsubscribe nobody); POST, from that button or from a mail client's
// one-click Unsubscribe (body List-Unsubscribe=One-Click, the token in the
// URL), removes exactly that address from that account's alert addresses,
// once. The token is the whole authority: no session, no IAM; a forged,
// expired, used or other account's token changes nothing.

const unsubscribePath = "/app/unsubscribe"

// unsubscriber removes an alert address (store.Store.Unsubscribe).
type unsubscriber interface {
	Unsubscribe(ctx context.Context, t optout.Token) (bool, error)
}

type unsubscribePage struct {
	Title    string
	CSRF     string // never set: the token is the authority
	ClientID int64
	Token    string
}

func (unsubscribePage) pageTitle() string { return "Unsubscribe" }

// checkUnsubscribe reads and checks the token of r, answering the page for
// a bad one itself (ok false).
func (a *webApp) checkUnsubscribe(w http.ResponseWriter, r *http.Request, raw string) (optout.Token, bool) {
	t, err := a.cfg.unsubscribe.Verify(raw, a.now())
	switch {
	case errors.Is(err, optout.ErrExpired):
		a.render(w, r, http.StatusGone, "message", messagePage{Title: "Link expired",
			Message: "This unsubscribe link has expired. A team member can change the alert addresses in Notification Settings.",
			Link:    settingsPath, LinkText: "Notification Settings"})
		return t, false
	case err != nil:
		a.render(w, r, http.StatusBadRequest, "message", messagePage{Title: "Link not valid",
			Message: "This unsubscribe link is not valid. Use the link of the latest alert email, or ask a team member to change the alert addresses."})
		return t, false
	}
	return t, true
}

// handleUnsubscribePage answers GET with the confirm page.
func (a *webApp) handleUnsubscribePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.Query().Get("token")
		t, ok := a.checkUnsubscribe(w, r, raw)
		if !ok {
			return
		}
		a.render(w, r, http.StatusOK, "unsubscribe", unsubscribePage{Title: "Unsubscribe", ClientID: t.ClientID, Token: raw})
	})
}

// handleUnsubscribe answers POST: the address is removed.
func (a *webApp) handleUnsubscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			a.render(w, r, http.StatusBadRequest, "message", messagePage{Title: "Bad request", Message: "The form could not be read."})
			return
		}
		raw := r.PostForm.Get("token")
		if raw == "" {
			raw = r.URL.Query().Get("token") // one-click: the token stays in the URL
		}
		t, ok := a.checkUnsubscribe(w, r, raw)
		if !ok {
			return
		}
		removed, err := a.store.Unsubscribe(r.Context(), t)
		switch {
		case errors.Is(err, store.ErrOptOutUsed), errors.Is(err, hook.ErrNotFound):
			a.render(w, r, http.StatusGone, "message", messagePage{Title: "Link already used",
				Message: "This unsubscribe link was used already; it changes nothing more."})
			return
		case err != nil:
			a.failed(w, r, err)
			return
		}
		a.log.InfoContext(r.Context(), "alert address unsubscribed", "clientId", t.ClientID, "removed", removed)
		msg := "This address no longer receives alert emails of this account. A team member can add it again in Notification Settings."
		if !removed {
			msg = "This address was not among the alert addresses any more: nothing changed."
		}
		a.render(w, r, http.StatusOK, "message", messagePage{Title: "Unsubscribed", Message: msg})
	})
}
