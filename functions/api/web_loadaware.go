package main

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// The settings page's filter and events of a hook (the API's PATCH) and
// its freshness rules section (the API's GET and PUT .../freshness), with
// the same domain checks and store calls.

const settingsFreshness = settingsPath + "/freshness"

// subscriptionForm is the edit form of one hook's filter and events.
type subscriptionForm struct {
	ID                       int64
	URL                      string
	Integrations, Tables     string // the patterns, comma-separated
	Events                   []string
	IntegrationsError        string
	TablesError, EventsError string
	EventChoices             []eventChoice
}

type eventChoice struct {
	Value, Label, Hint string
	Checked            bool
}

var eventLabels = map[string][2]string{
	hook.EventTableLoaded:  {"Table loaded", "one notification per table load (as before)"},
	hook.EventRunCompleted: {"Run completed", "one summary when all tables of an integration run are in"},
	hook.EventLoadOverdue:  {"Load overdue", "when a table misses its freshness rule, and when it is back on time"},
}

func (f *subscriptionForm) fillChoices() {
	f.EventChoices = nil
	for _, e := range hook.EventTypes() {
		l := eventLabels[e]
		f.EventChoices = append(f.EventChoices, eventChoice{Value: e, Label: l[0], Hint: l[1], Checked: slices.Contains(f.Events, e)})
	}
}

// freshnessRow is one rule as the page lists it.
type freshnessRow struct {
	N                               int // 1-based position
	Integration, Table, MaxInterval string
	Since                           time.Time
}

type freshnessForm struct {
	Integration, Table, MaxInterval string
	// Errors beside each field, and one for the whole form (no access).
	IntegrationError, TableError, IntervalError, Error string
}

// subscriptionSummary says in words which loads and events a hook gets.
func subscriptionSummary(h hook.Hook) (filter, events string) {
	if h.Filter != nil {
		var parts []string
		if h.Filter.Integrations != nil {
			parts = append(parts, "integrations "+strings.Join(h.Filter.Integrations, ", "))
		}
		if h.Filter.Tables != nil {
			parts = append(parts, "tables "+strings.Join(h.Filter.Tables, ", "))
		}
		filter = "Only " + strings.Join(parts, "; ")
	}
	var names []string
	for _, e := range h.Events() {
		names = append(names, eventLabels[e][0])
	}
	return filter, strings.Join(names, ", ")
}

// subscriptionFormOf is the edit form holding h's current filter and
// events.
func subscriptionFormOf(h hook.Hook) *subscriptionForm {
	f := &subscriptionForm{ID: h.ID, URL: h.URL, Events: h.Events()}
	if h.Filter != nil {
		f.Integrations = strings.Join(h.Filter.Integrations, ", ")
		f.Tables = strings.Join(h.Filter.Tables, ", ")
	}
	f.fillChoices()
	return f
}

// splitPatterns reads a field of comma- or space-separated patterns: nil
// when it holds none (every name).
func splitPatterns(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(out) == 0 {
		return nil
	}
	return out
}

// setSubscription is the edit form's Save: the same checks and store call
// as the API's PATCH, errors beside their fields in the API's words.
func (a *webApp) setSubscription(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) {
	form := subscriptionForm{ID: id, Integrations: r.PostForm.Get("integrations"), Tables: r.PostForm.Get("tables"), Events: r.PostForm["events"]}
	integ, tables := splitPatterns(form.Integrations), splitPatterns(form.Tables)
	apiMsg, _ := apiMessage(errInvalidPatchBody)
	patterns := apiMsg + ": at most " + strconv.Itoa(hook.MaxFilterPatterns) + " patterns of at most " + strconv.Itoa(hook.MaxPatternBytes) + " bytes."
	if _, ok := hook.NormalizeFilter(&hook.Filter{Integrations: integ}); !ok {
		form.IntegrationsError = patterns
	}
	if _, ok := hook.NormalizeFilter(&hook.Filter{Tables: tables}); !ok {
		form.TablesError = patterns
	}
	if _, ok := hook.NormalizeEvents(form.Events); !ok {
		form.EventsError = apiMsg + ": choose at least one event."
	}
	if form.IntegrationsError != "" || form.TablesError != "" || form.EventsError != "" {
		page, err := a.loadSettings(r)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		i := slices.IndexFunc(page.Hooks, func(h hookRow) bool { return h.ID == id })
		if i < 0 {
			a.hookActionFailed(w, r, hook.ErrNotFound) // another account's, or deleted
			return
		}
		form.URL = page.Hooks[i].URL
		form.fillChoices()
		page.Edit = &form
		a.render(w, r, http.StatusBadRequest, "settings", page)
		return
	}
	f, _ := hook.NormalizeFilter(&hook.Filter{Integrations: integ, Tables: tables})
	if _, err := a.store.SetHookSubscription(r.Context(), p, id, hook.SubscriptionUpdate{SetFilter: true, Filter: f, Events: form.Events}); err != nil {
		a.hookActionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, settingsPath+"?notice=subscription", http.StatusSeeOther)
}

// handleFreshness serves POST .../freshness: add a rule (integration_name,
// table, max_interval) or remove one (remove=<position>), replacing the
// account's rules as the API's PUT does, with its checks and messages.
func (a *webApp) handleFreshness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := sessionOf(r).principal()
		rules, err := a.store.FreshnessRules(r.Context(), p.ClientID)
		if err != nil {
			a.failed(w, r, err)
			return
		}
		notice := "rule-added"
		var form freshnessForm
		if rm := r.PostForm.Get("remove"); rm != "" {
			notice = "rule-removed"
			n, ok := parsePositiveID(rm)
			if ok && n <= int64(len(rules)) {
				rules = slices.Delete(rules, int(n-1), int(n))
			}
		} else {
			form = freshnessForm{Integration: strings.TrimSpace(r.PostForm.Get("integration_name")),
				Table: strings.TrimSpace(r.PostForm.Get("table")), MaxInterval: strings.TrimSpace(r.PostForm.Get("max_interval"))}
			rules = append(rules, hook.FreshnessRule{IntegrationName: form.Integration, Table: form.Table, MaxInterval: form.MaxInterval})
		}
		err = hook.CheckFreshnessRules(rules, a.hooks.minInterval())
		if err == nil {
			_, err = putFreshness(r.Context(), a.store, p, rules)
		}
		if err != nil {
			msg, known := apiMessage(err)
			if !known {
				a.failed(w, r, err)
				return
			}
			var invalid *hook.ValidationError
			switch {
			case !asValidation(err, &invalid):
				form.Error = msg
			case invalid.Field == "integration_name":
				form.IntegrationError = msg
			case invalid.Field == "table":
				form.TableError = msg
			case invalid.Field == "max_interval":
				form.IntervalError = msg
			default:
				form.Error = msg
			}
			page, lerr := a.loadSettings(r)
			if lerr != nil {
				a.failed(w, r, lerr)
				return
			}
			page.FreshnessForm = form
			a.render(w, r, http.StatusBadRequest, "settings", page)
			return
		}
		http.Redirect(w, r, settingsPath+"?notice="+notice+"#freshness", http.StatusSeeOther)
	})
}

// freshnessRows lists the rules for the page.
func freshnessRows(rules []hook.FreshnessRule) []freshnessRow {
	rows := make([]freshnessRow, 0, len(rules))
	for i, r := range rules {
		rows = append(rows, freshnessRow{N: i + 1, Integration: r.IntegrationName, Table: r.Table, MaxInterval: r.MaxInterval,
			Since: r.CreatedAt.UTC()})
	}
	return rows
}

// asValidation is errors.As for a *hook.ValidationError.
func asValidation(err error, target **hook.ValidationError) bool { return errors.As(err, target) }
