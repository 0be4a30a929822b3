package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// settingsPage is the data of /app/settings/notifications.
type settingsPage struct {
	layout
	ClientID   int64
	Plan       string
	HasFeature bool
	Hooks      []hookRow
	// AddBlocked says why Add Webhook is unavailable ("" when it is).
	AddBlocked string
	// ShowForm shows the URL field (after Add Webhook, or with an error).
	ShowForm     bool
	Form         hookForm
	Destinations []hook.Destination
	// Secret is the new hook's signing secret, shown this once (after
	// Save Webhook or Rotate secret).
	Secret *newSecret
	// Test is the attempt of the test notification just sent.
	Test          *testResult
	ConfirmDelete *hookRow
	Notice        string
	AlertEmails   []string
	AlertForm     alertForm
	// Edit is the filter and events form of one hook (web_loadaware.go).
	Edit          *subscriptionForm
	Freshness     []freshnessRow
	FreshnessForm freshnessForm
}

type hookRow struct {
	ID        int64
	URL       string
	Enabled   bool
	Status    string
	CanEnable bool
	Created   time.Time
	// Destination names the hook's destination when the account has
	// several.
	Destination string
	// Filter and Events say which loads and events it is sent.
	Filter, Events string
	hook           hook.Hook
	// Deliveries are the hook's most recent deliveries, newest first.
	Deliveries []deliveryRow
	// CanResend: the plan has the feature and the hook is enabled.
	CanResend bool
}

// deliveryRow is one delivery as the settings page shows it.
type deliveryRow struct {
	ID, LoadID, Status string
	Created            time.Time
	Final              bool
	Test               bool // a test notification: never resent
	Attempts           []delivery.Attempt
}

// recentDeliveries is how many deliveries the page shows per hook.
const recentDeliveries = 5

type hookForm struct {
	URL           string
	DestinationID int64
	Error         string
}

// newSecret is a signing secret shown once. PreviousUntil is set after a
// rotation: until then the replaced secret signs every request too.
type newSecret struct {
	URL, Value    string
	PreviousUntil *time.Time
}

// testResult is a test notification's attempt as the page shows it.
type testResult struct {
	URL       string
	Outcome   string // the API's outcome class
	Success   bool
	Status    int // 0 when no response came
	LatencyMs int64
	Snippet   string
}

type alertForm struct{ Email, Error string }

// Notices shown after a change (the notice query value, one of these keys).
var notices = map[string]string{
	"disabled":      "Webhook disabled.",
	"enabled":       "Webhook re-enabled.",
	"resent":        "Delivery resent: a fresh attempt with the same webhook-id starts now.",
	"deleted":       "Webhook deleted.",
	"alert-added":   "Alert address added.",
	"alert-removed": "Alert address removed.",
	"subscription":  "Webhook filter and events saved.",
	"rule-added":    "Freshness rule added.",
	"rule-removed":  "Freshness rule removed.",
}

// Statuses, as the Status column shows them.
var statusText = map[string]string{
	"":                      "Enabled",
	hook.DisabledByMember:   "Disabled by a team member",
	hook.DisabledByPlan:     "Disabled by a plan downgrade",
	hook.DisabledForFailing: "Disabled for failing deliveries",
}

// upgradeText is what an account without the feature is told.
const upgradeText = "Post-load hooks are an upgraded feature, available during the free trial or on an Advanced, Premium or Enterprise plan."

// loadSettings reads the account and its hooks into the page.
func (a *webApp) loadSettings(r *http.Request) (settingsPage, error) {
	s := sessionOf(r)
	acct, err := a.store.Account(r.Context(), s.sess.ClientID)
	if err != nil {
		return settingsPage{}, err
	}
	hooks, err := a.store.ListHooks(r.Context(), s.sess.ClientID)
	if err != nil {
		return settingsPage{}, err
	}
	p := settingsPage{
		layout:       layout{Title: "Notification Settings", CSRF: s.csrf()},
		ClientID:     acct.ClientID,
		Plan:         acct.Plan,
		HasFeature:   acct.HasHooks(),
		Destinations: acct.Destinations,
		AlertEmails:  acct.AlertEmails,
	}
	for _, h := range hooks {
		row := hookRow{ID: h.ID, URL: h.URL, Enabled: h.Enabled(), Status: statusText[h.DisabledReason()],
			CanEnable: acct.HasHooks() && len(acct.Destinations) > 0, Created: h.CreatedAt}
		if len(acct.Destinations) > 1 {
			row.Destination = destinationName(acct.Destinations, h.DestinationID)
		}
		row.Filter, row.Events = subscriptionSummary(h)
		row.hook = h
		row.CanResend = acct.HasHooks() && h.Enabled()
		page, err := a.store.ListDeliveries(r.Context(), delivery.ListQuery{ClientID: acct.ClientID, HookID: h.ID, Limit: recentDeliveries})
		if err != nil {
			return settingsPage{}, err
		}
		for _, d := range page.Deliveries {
			row.Deliveries = append(row.Deliveries, deliveryRow{ID: delivery.ID(d.LoadID), LoadID: d.LoadID, Status: d.Status,
				Created: d.CreatedAt, Final: delivery.IsFinal(d.Status), Test: delivery.IsTest(d.LoadID), Attempts: d.Attempts})
		}
		p.Hooks = append(p.Hooks, row)
	}
	rules, err := a.store.FreshnessRules(r.Context(), s.sess.ClientID)
	if err != nil {
		return settingsPage{}, err
	}
	p.Freshness = freshnessRows(rules)
	switch {
	case !acct.HasHooks():
		p.AddBlocked = upgradeText
	case len(acct.Destinations) == 0:
		p.AddBlocked = "Your account has no destination yet. Set up a destination first: each webhook is sent the loads of one destination."
	case len(hooks) >= hook.MaxHooks:
		p.AddBlocked = "You have reached the limit of " + strconv.Itoa(hook.MaxHooks) + " hooks. Delete one to add another."
	}
	if len(acct.Destinations) > 0 {
		p.Form.DestinationID = acct.Destinations[0].ID
	}
	return p, nil
}

func destinationName(ds []hook.Destination, id int64) string {
	for _, d := range ds {
		if d.ID == id {
			return d.Type + " (" + strconv.FormatInt(d.ID, 10) + ")"
		}
	}
	return ""
}

// handleSettings serves GET /app/settings/notifications: ?add=1 shows the
// URL field, ?delete=<id> asks to confirm deleting that hook, ?notice=
// shows what the last change did.
func (a *webApp) handleSettings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.loadSettings(r)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		q := r.URL.Query()
		p.ShowForm = q.Get("add") == "1" && p.AddBlocked == ""
		p.Notice = notices[q.Get("notice")]
		if id, ok := parsePositiveID(q.Get("delete")); ok {
			i := slices.IndexFunc(p.Hooks, func(h hookRow) bool { return h.ID == id })
			if i >= 0 {
				p.ConfirmDelete = &p.Hooks[i]
			}
		}
		if id, ok := parsePositiveID(q.Get("edit")); ok {
			if i := slices.IndexFunc(p.Hooks, func(h hookRow) bool { return h.ID == id }); i >= 0 {
				p.Edit = subscriptionFormOf(p.Hooks[i].hook)
			}
		}
		a.render(w, r, http.StatusOK, "settings", p)
	})
}

// handleAddHook serves POST .../hooks (Save Webhook): the same creation as
// the JSON API. On success the page shows the new hook's secret this once
// (the answer is the page itself, so the secret is in no URL); on failure
// the field shows the API's own message.
func (a *webApp) handleAddHook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		rawURL := r.PostForm.Get("url")
		destID, _ := parsePositiveID(r.PostForm.Get("destination_id"))
		h, secret, createErr := createHook(r.Context(), a.store, s.principal(), destID, rawURL, a.hooks.allowPrivate)
		p, err := a.loadSettings(r)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		if createErr != nil {
			msg, known := apiMessage(createErr)
			if !known {
				a.failed(w, r, createErr)
				return
			}
			p.ShowForm = true
			p.Form = hookForm{URL: rawURL, DestinationID: destID, Error: msg}
			a.render(w, r, http.StatusBadRequest, "settings", p)
			return
		}
		p.Secret = &newSecret{URL: h.URL, Value: secret}
		a.render(w, r, http.StatusOK, "settings", p)
	})
}

// handleHookAction serves POST
// .../hooks/{id}/{disable,enable,delete,rotate-secret,test}: the same
// calls as the JSON API's PUT, DELETE, secret/rotate and test, for the
// session's account only (another account's id is not found, as in the
// API). Rotate secret and Send test answer with the page itself, which
// shows the new secret (this once, in no URL) or the attempt.
func (a *webApp) handleHookAction() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := sessionOf(r).principal()
		id, err := pathID(r, "id")
		var notice string
		if err == nil {
			switch r.PathValue("action") {
			case "rotate-secret":
				a.rotateSecret(w, r, p, id)
				return
			case "test":
				a.sendTest(w, r, p, id)
				return
			case "subscription":
				a.setSubscription(w, r, p, id)
				return
			case "replay":
				a.replay(w, r, p, id)
				return
			case "disable":
				notice = "disabled"
				_, err = a.store.SetHookEnabled(r.Context(), p, id, false)
			case "enable":
				notice = "enabled"
				_, err = a.store.SetHookEnabled(r.Context(), p, id, true)
			case "delete":
				notice = "deleted"
				_, err = a.store.DeleteHook(r.Context(), p, id)
			default:
				err = hook.ErrNotFound
			}
		}
		if err != nil {
			a.hookActionFailed(w, r, err)
			return
		}
		http.Redirect(w, r, settingsPath+"?notice="+notice, http.StatusSeeOther)
	})
}

// rotateSecret is Rotate secret: the page with the new secret, shown this
// once, and when the old one stops signing.
func (a *webApp) rotateSecret(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) {
	h, err := rotateSecret(r.Context(), a.store, p, id, a.hooks.overlap())
	a.answerWithPage(w, r, err, func(page *settingsPage) {
		until := h.PreviousSecretExpiresAt.UTC().Truncate(time.Second)
		page.Secret = &newSecret{URL: h.URL, Value: h.Secret, PreviousUntil: &until}
	})
}

// sendTest is Send test: one test notification now, and the page with its
// attempt.
func (a *webApp) sendTest(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) {
	at, err := sendTest(r.Context(), a.store, a.hooks.sender, p.ClientID, id)
	a.answerWithPage(w, r, err, func(page *settingsPage) {
		page.Test = &testResult{Outcome: at.Outcome, Success: at.Outcome == delivery.OutcomeSuccess, Status: at.StatusCode,
			LatencyMs: at.LatencyMs, Snippet: at.Snippet}
		for _, row := range page.Hooks {
			if row.ID == id {
				page.Test.URL = row.URL
			}
		}
	})
}

// handleResendDelivery serves POST .../hooks/{id}/deliveries/{delivery_id}/resend:
// the JSON API's resend, for the session's account only.
func (a *webApp) handleResendDelivery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := deliveryKey(r, sessionOf(r).principal())
		if err == nil {
			_, err = resend(r.Context(), a.store, a.hooks.queue(), k)
		}
		if err != nil {
			a.hookActionFailed(w, r, err)
			return
		}
		http.Redirect(w, r, settingsPath+"?notice=resent", http.StatusSeeOther)
	})
}

// replay is Replay failed deliveries since: the JSON API's replay of the
// hook's exhausted deliveries created since the start (UTC) of the day
// picked, up to now, paced the same way.
func (a *webApp) replay(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) {
	if _, err := hookUsable(r.Context(), a.store, p.ClientID, id); err != nil {
		a.hookActionFailed(w, r, err)
		return
	}
	now := a.hooks.clock()()
	since, err := time.Parse(time.DateOnly, r.PostForm.Get("since"))
	if err != nil || now.Sub(since) > maxReplayWindow || since.After(now) {
		a.hookActionFailed(w, r, &hook.ValidationError{Message: "Pick a day within the last 30 days to replay from."})
		return
	}
	n, err := replay(r.Context(), a.store, a.hooks.queue(), a.hooks.rate(), p.ClientID, id, since, now)
	a.answerWithPage(w, r, err, func(page *settingsPage) {
		page.Notice = fmt.Sprintf("Replayed %d failed deliveries since %s, %d a second, with their original webhook-id.", n, since.Format(time.DateOnly), a.hooks.rate())
	})
}

// answerWithPage answers an action whose result the page itself shows (in
// no URL): the API's message when err is set, else the page with what show
// adds.
func (a *webApp) answerWithPage(w http.ResponseWriter, r *http.Request, err error, show func(page *settingsPage)) {
	if err != nil {
		a.hookActionFailed(w, r, err)
		return
	}
	page, err := a.loadSettings(r)
	if err != nil {
		a.failed(w, r, err)
		return
	}
	show(&page)
	a.render(w, r, http.StatusOK, "settings", page)
}

// hookActionFailed shows the page with the API's message for a failed
// action (an unknown hook, no access, no destination).
func (a *webApp) hookActionFailed(w http.ResponseWriter, r *http.Request, err error) {
	msg, known := apiMessage(err)
	if !known {
		a.failed(w, r, err)
		return
	}
	status := http.StatusBadRequest
	if errors.Is(err, hook.ErrNotFound) {
		status, msg = http.StatusNotFound, "That webhook does not exist (it may have been deleted)."
	}
	p, lerr := a.loadSettings(r)
	if lerr != nil {
		a.failed(w, r, lerr)
		return
	}
	p.Notice = msg
	a.render(w, r, status, "settings", p)
}

// handleAlertEmails serves POST .../alert-emails: add (email) or remove
// (remove) one of the account's alert addresses, with the admin API's rules.
func (a *webApp) handleAlertEmails() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		acct, err := a.store.Account(r.Context(), s.sess.ClientID)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		emails := slices.Clone(acct.AlertEmails)
		notice := "alert-added"
		if rm := r.PostForm.Get("remove"); rm != "" {
			notice = "alert-removed"
			emails = slices.DeleteFunc(emails, func(e string) bool { return e == rm })
		} else {
			add := strings.TrimSpace(r.PostForm.Get("email"))
			emails = append(emails, add)
			var msg string
			switch {
			case !validEmail(add):
				msg = "Enter an email address such as ops@example.com."
			case slices.ContainsFunc(acct.AlertEmails, func(e string) bool { return strings.EqualFold(e, add) }):
				msg = "That address is already in the list."
			case checkAlertEmails(emails) != nil:
				msg = "An account has at most " + strconv.Itoa(maxAlertEmails) + " alert addresses."
			}
			if msg != "" {
				p, err := a.loadSettings(r)
				if err != nil {
					a.failed(w, r, err)
					return
				}
				p.AlertForm = alertForm{Email: add, Error: msg}
				a.render(w, r, http.StatusBadRequest, "settings", p)
				return
			}
		}
		if _, _, err := a.store.UpdateAccount(r.Context(), s.sess.ClientID, store.AccountUpdate{AlertEmails: &emails}); err != nil {
			a.failed(w, r, err)
			return
		}
		http.Redirect(w, r, settingsPath+"?notice="+notice+"#alerts", http.StatusSeeOther)
	})
}
