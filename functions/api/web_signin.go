package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/mail"
	"github.com/postloadhooks/hooks/shared/signin"
)

// signInPage is the sign-in form, and the answer to it.
type signInPage struct {
	layout
	Email string
	Error string
	Sent  bool
}

// handleSignInPage serves GET /app/sign-in: the email form.
func (a *webApp) handleSignInPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "signin", signInPage{layout: layout{Title: "Sign in"}})
	})
}

// handleSignInRequest serves POST /app/sign-in: when the address belongs
// to a member (of any account) and has been sent fewer than 5 links this
// hour, a one-time link is emailed to it. The page answers the same in
// every case, so it tells nobody which addresses are members.
func (a *webApp) handleSignInRequest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email := strings.TrimSpace(r.PostForm.Get("email"))
		if !validEmail(email) {
			a.render(w, r, http.StatusBadRequest, "signin", signInPage{layout: layout{Title: "Sign in"}, Email: email,
				Error: "Enter an email address such as ana@example.com."})
			return
		}
		if err := a.sendSignInLink(r, email); err != nil {
			a.failed(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, "signin", signInPage{layout: layout{Title: "Check your email"}, Email: email, Sent: true})
	})
}

// sendSignInLink emails a link to email if it is a member's and is not
// over its hourly limit. Only store failures are returned: an unknown
// address, the limit and a failed email all end here, logged without the
// address.
func (a *webApp) sendSignInLink(r *http.Request, email string) error {
	ctx := r.Context()
	ms, err := a.store.Memberships(ctx, signin.EmailKey(email))
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		a.log.InfoContext(ctx, "sign-in link not sent", slog.String("reason", "unknown address"))
		return nil
	}
	token, err := a.store.CreateSignInLink(ctx, email, a.cfg.linkLife())
	if errors.Is(err, signin.ErrRateLimited) {
		a.log.InfoContext(ctx, "sign-in link not sent", slog.String("reason", "rate limited"))
		return nil
	}
	if err != nil {
		return err
	}
	if a.cfg.mail == nil {
		a.log.WarnContext(ctx, "sign-in link not sent", slog.String("reason", "no email sender configured"))
		return nil
	}
	link := a.origin(r) + signInLinkPath + "?" + url.Values{"token": {token}}.Encode()
	if err := a.sendLinkEmail(ctx, email, link); err != nil {
		var apiErr smithy.APIError
		code := ""
		if errors.As(err, &apiErr) {
			code = apiErr.ErrorCode()
		}
		// SES's own message may quote the address: only its code is logged.
		a.log.ErrorContext(ctx, "send sign-in link failed", slog.String("errorCode", code))
		return nil
	}
	a.log.InfoContext(ctx, "sign-in link sent")
	return nil
}

// sendLinkEmail sends the sign-in email with SES v2.
func (a *webApp) sendLinkEmail(ctx context.Context, to, link string) error {
	subject := "Your sign-in link for Post-load hooks"
	text := "Open this link to sign in to Post-load hooks:\n\n" + link + "\n\n" +
		"It works once, within " + mail.DurationWords(a.cfg.linkLife()) + ", and asks you to press Sign in.\n" +
		"If you did not ask to sign in, ignore this email: nobody can sign in without it.\n"
	cs := charset
	_, err := a.cfg.mail.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: &a.cfg.from,
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: &subject, Charset: &cs},
			Body:    &types.Body{Text: &types.Content{Data: &text, Charset: &cs}},
		}},
	})
	return err
}

// charset of the sign-in email.
const charset = "UTF-8"

// linkPage is the page a sign-in link opens: one button that uses it.
type linkPage struct {
	layout
	Token string
}

// handleLinkPage serves GET /app/sign-in/link?token=...: a page with a
// "Sign in" button. Fetching it uses nothing up, so a mail scanner that
// opens links signs nobody in.
func (a *webApp) handleLinkPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if token == "" || len(token) > maxTokenBytes {
			a.linkInvalid(w, r)
			return
		}
		a.render(w, r, http.StatusOK, "link", linkPage{layout: layout{Title: "Sign in"}, Token: token})
	})
}

// handleLinkUse serves POST /app/sign-in/link: uses the link up and opens a
// new session (a new id, whatever cookie the browser had), bound to the
// member when the address is a member of one account, else left for the
// member to pick the account.
func (a *webApp) handleLinkUse() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token := r.PostForm.Get("token")
		if token == "" || len(token) > maxTokenBytes {
			a.linkInvalid(w, r)
			return
		}
		emailKey, err := a.store.UseSignInLink(ctx, token)
		if errors.Is(err, signin.ErrLinkInvalid) {
			a.linkInvalid(w, r)
			return
		}
		if err != nil {
			a.failed(w, r, err)
			return
		}
		ms, err := a.store.Memberships(ctx, emailKey)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		if len(ms) == 0 { // the member was deleted after the link was sent
			a.linkInvalid(w, r)
			return
		}
		var bind hook.Principal
		if len(ms) == 1 {
			bind = ms[0]
		}
		if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" && len(old.Value) <= maxTokenBytes {
			if err := a.store.DeleteSession(ctx, old.Value); err != nil {
				a.failed(w, r, err)
				return
			}
		}
		id, _, err := a.store.CreateSession(ctx, emailKey, bind)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		setSessionCookie(w, id)
		a.log.InfoContext(ctx, "signed in", slog.Int64("clientId", bind.ClientID))
		http.Redirect(w, r, settingsPath, http.StatusSeeOther)
	})
}

func (a *webApp) linkInvalid(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusBadRequest, "message", messagePage{
		Title:   "This sign-in link does not work",
		Message: "The link has expired, was used already, or is not a sign-in link. Links work once, within 15 minutes.",
		Link:    signInPath, LinkText: "Get a new sign-in link",
	})
}

// accountsPage lets a member of several accounts pick one.
type accountsPage struct {
	layout
	ClientIDs []int64
}

// handleAccountsPage serves GET /app/accounts: the accounts of the signed-in
// address.
func (a *webApp) handleAccountsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		ms, err := a.store.Memberships(r.Context(), s.sess.EmailKey)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		ids := make([]int64, 0, len(ms))
		for _, m := range ms {
			ids = append(ids, m.ClientID)
		}
		a.render(w, r, http.StatusOK, "accounts", accountsPage{layout: layout{Title: "Choose an account", CSRF: s.csrf()}, ClientIDs: ids})
	})
}

// handleAccountPick serves POST /app/accounts: binds the session to one of
// the address's accounts (client_id in the form); any other is refused.
func (a *webApp) handleAccountPick() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		id, ok := parsePositiveID(r.PostForm.Get("client_id"))
		ms, err := a.store.Memberships(r.Context(), s.sess.EmailKey)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		for _, m := range ms {
			if ok && m.ClientID == id {
				if _, err := a.store.BindSession(r.Context(), s.sess, m); err != nil {
					a.failed(w, r, err)
					return
				}
				http.Redirect(w, r, settingsPath, http.StatusSeeOther)
				return
			}
		}
		a.render(w, r, http.StatusNotFound, "message", messagePage{Title: "Not one of your accounts",
			Message: "You are not a member of that account.", Link: accountsPath, LinkText: "Choose an account"})
	})
}

// handleSignOut serves POST /app/sign-out: ends the session at once.
func (a *webApp) handleSignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.store.DeleteSession(r.Context(), sessionOf(r).id); err != nil {
			a.failed(w, r, err)
			return
		}
		clearSessionCookie(w)
		http.Redirect(w, r, signInPath, http.StatusSeeOther)
	})
}
