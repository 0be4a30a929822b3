package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"strings"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// The store methods each admin handler uses.
type (
	accountCreator interface {
		CreateAccount(ctx context.Context, a hook.Account) (hook.Account, error)
	}
	accountGetter interface {
		Account(ctx context.Context, clientID int64) (hook.Account, error)
	}
	accountUpdater interface {
		UpdateAccount(ctx context.Context, clientID int64, u store.AccountUpdate) (hook.Account, int, error)
	}
	memberLister interface {
		ListMembers(ctx context.Context, clientID int64) ([]hook.Member, error)
	}
	memberCreator interface {
		CreateMember(ctx context.Context, clientID int64, email string) (hook.Member, string, error)
	}
	memberDeleter interface {
		DeleteMember(ctx context.Context, clientID int64, memberID string) error
	}
)

// Admin input limits.
const (
	maxAlertEmails = 10
	maxEmailBytes  = 254
)

// memberIDPattern bounds the {member_id} path value before it reaches the
// store; anything else cannot exist.
var memberIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

var (
	accountKeys = []string{"client_id", "plan", "alert_emails", "destinations", "api_access", "auto_disable"}
	patchKeys   = []string{"plan", "alert_emails", "destinations", "api_access", "auto_disable"}
	memberKeys  = []string{"email"}
)

func invalid(field, message string) error {
	return &hook.ValidationError{Field: field, Message: message}
}

// handleCreateAccount serves POST /admin/v1/accounts: 201 with the account.
func handleCreateAccount(log *slog.Logger, admin adminCheck, s accountCreator) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		a, err := decodeCreateAccount(w, r)
		if err != nil {
			return err
		}
		a, err = s.CreateAccount(r.Context(), a)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, newAccountJSON(a))
		return nil
	})
}

func decodeCreateAccount(w http.ResponseWriter, r *http.Request) (hook.Account, error) {
	body, err := readAdminBody(w, r, accountKeys)
	if err != nil {
		return hook.Account{}, err
	}
	a := hook.Account{AlertEmails: []string{}}
	id, err := body.Int("client_id")
	if err != nil || id <= 0 {
		return hook.Account{}, invalid("client_id", "client_id must be a positive integer")
	}
	a.ClientID = id
	if !body.Has("plan") {
		return hook.Account{}, invalid("plan", "plan is required")
	}
	if a.Plan, err = decodePlan(body); err != nil {
		return hook.Account{}, err
	}
	if body.Has("alert_emails") {
		if a.AlertEmails, err = decodeAlertEmails(body); err != nil {
			return hook.Account{}, err
		}
	}
	a.Destinations = []hook.Destination{}
	if body.Has("destinations") {
		if a.Destinations, err = decodeDestinations(body); err != nil {
			return hook.Account{}, err
		}
	}
	if body.Has("api_access") {
		access, err := decodeAPIAccess(body)
		if err != nil {
			return hook.Account{}, err
		}
		a.NoAPIAccess = !access
	}
	if body.Has("auto_disable") {
		auto, err := decodeAutoDisable(body)
		if err != nil {
			return hook.Account{}, err
		}
		a.NoAutoDisable = !auto
	}
	return a, nil
}

// handleGetAccount serves GET /admin/v1/accounts/{client_id}.
func handleGetAccount(log *slog.Logger, admin adminCheck, s accountGetter) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		a, err := s.Account(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newAccountJSON(a))
		return nil
	})
}

// handleUpdateAccount serves PATCH /admin/v1/accounts/{client_id}: any of
// plan, alert_emails and destinations; 200 with the account and
// "hooks_disabled", how many hooks the change disabled. A plan without the
// feature disables every hook; a plan that is not a known plan is refused
// before anything changes; removing a destination that still has hooks is
// refused with 409.
func handleUpdateAccount(log *slog.Logger, admin adminCheck, s accountUpdater) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		u, err := decodeUpdateAccount(w, r)
		if err != nil {
			return err
		}
		a, disabled, err := s.UpdateAccount(r.Context(), id, u)
		if err != nil {
			return err
		}
		out := newAccountJSON(a)
		out.HooksDisabled = &disabled
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

func decodeUpdateAccount(w http.ResponseWriter, r *http.Request) (store.AccountUpdate, error) {
	body, err := readAdminBody(w, r, patchKeys)
	if err != nil {
		return store.AccountUpdate{}, err
	}
	if body.Len() == 0 {
		return store.AccountUpdate{}, invalid("body", "Body must contain plan, alert_emails, destinations, api_access or auto_disable")
	}
	var u store.AccountUpdate
	if body.Has("plan") {
		plan, err := decodePlan(body)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		u.Plan = &plan
	}
	if body.Has("alert_emails") {
		emails, err := decodeAlertEmails(body)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		u.AlertEmails = &emails
	}
	if body.Has("destinations") {
		dests, err := decodeDestinations(body)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		u.Destinations = &dests
	}
	if body.Has("api_access") {
		access, err := decodeAPIAccess(body)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		u.APIAccess = &access
	}
	if body.Has("auto_disable") {
		auto, err := decodeAutoDisable(body)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		u.AutoDisable = &auto
	}
	return u, nil
}

// handleAccountHooks serves GET /admin/v1/accounts/{client_id}/hooks: 200
// with {"post_load":[...]}, the account's hooks as its members see them.
func handleAccountHooks(log *slog.Logger, admin adminCheck, s hooksReader) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		return writeHookList(w, r, s, id)
	})
}

// handleListMembers serves GET /admin/v1/accounts/{client_id}/members: 200
// with {"members":[{"id","email","created_at"}, ...]}, never tokens.
func handleListMembers(log *slog.Logger, admin adminCheck, s memberLister) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		ms, err := s.ListMembers(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newMemberListJSON(ms))
		return nil
	})
}

// handleCreateMember serves POST /admin/v1/accounts/{client_id}/members:
// 201 with the member and, this once, its token.
func handleCreateMember(log *slog.Logger, admin adminCheck, s memberCreator) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		body, err := readAdminBody(w, r, memberKeys)
		if err != nil {
			return err
		}
		email, err := body.String("email")
		if err != nil || !validEmail(email) {
			return invalid("email", "email must be a valid email address without a display name")
		}
		m, token, err := s.CreateMember(r.Context(), id, email)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, memberJSON{MemberID: m.ID, Email: m.Email, Token: token})
		return nil
	})
}

// handleDeleteMember serves DELETE
// /admin/v1/accounts/{client_id}/members/{member_id}: 200 with
// {"member_id":...}; the member's token stops working at once.
func handleDeleteMember(log *slog.Logger, admin adminCheck, s memberDeleter) http.Handler {
	return asAdmin(log, admin, func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "client_id")
		if err != nil {
			return err
		}
		memberID := r.PathValue("member_id")
		if !memberIDPattern.MatchString(memberID) {
			return hook.ErrNotFound
		}
		if err := s.DeleteMember(r.Context(), id, memberID); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, memberJSON{MemberID: memberID})
		return nil
	})
}

// readAdminBody reads a strict JSON object whose keys are all in allowed.
func readAdminBody(w http.ResponseWriter, r *http.Request, allowed []string) (strictjson.Object, error) {
	data, err := readBody(w, r)
	if err != nil {
		return strictjson.Object{}, err
	}
	body, err := strictjson.ParseBody(data)
	if err != nil {
		return strictjson.Object{}, invalid("body", "Body must be one JSON object, without repeated keys or trailing data")
	}
	if body.Only(allowed...) != nil {
		return strictjson.Object{}, invalid("body", "Body has an unknown field; allowed fields: "+strings.Join(allowed, ", "))
	}
	return body, nil
}

// decodePlan accepts only the known plans: any other name is a typo, and
// taking it would disable every hook of the account as a downgrade.
func decodePlan(body strictjson.Object) (string, error) {
	plan, err := body.String("plan")
	if err != nil || !hook.PlanKnown(plan) {
		return "", invalid("plan", "plan must be one of: "+strings.Join(hook.KnownPlans(), ", "))
	}
	return plan, nil
}

// decodeAPIAccess reads api_access: a boolean.
func decodeAPIAccess(body strictjson.Object) (bool, error) {
	access, err := body.Bool("api_access")
	if err != nil {
		return false, invalid("api_access", "api_access must be a boolean")
	}
	return access, nil
}

// decodeAutoDisable reads auto_disable: a boolean.
func decodeAutoDisable(body strictjson.Object) (bool, error) {
	auto, err := body.Bool("auto_disable")
	if err != nil {
		return false, invalid("auto_disable", "auto_disable must be a boolean")
	}
	return auto, nil
}

// decodeDestinations reads destinations: an array of exactly
// {"id":<positive int>,"type":"<lower-case word>"}, ids unique.
func decodeDestinations(body strictjson.Object) ([]hook.Destination, error) {
	items, err := body.Objects("destinations")
	if err != nil {
		return nil, invalid("destinations", "destinations must be an array of objects, each with exactly an integer id and a string type")
	}
	ds := make([]hook.Destination, 0, len(items))
	for i, it := range items {
		id, idErr := it.Int("id")
		typ, typeErr := it.String("type")
		if it.Exactly("id", "type") != nil || idErr != nil || typeErr != nil {
			return nil, invalid("destinations", fmt.Sprintf("destinations[%d] must have exactly an integer id and a string type", i))
		}
		ds = append(ds, hook.Destination{ID: id, Type: typ})
	}
	if err := hook.CheckDestinations(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func decodeAlertEmails(body strictjson.Object) ([]string, error) {
	emails, err := body.Strings("alert_emails")
	if err != nil {
		return nil, invalid("alert_emails", "alert_emails must be an array of email addresses")
	}
	if err := checkAlertEmails(emails); err != nil {
		return nil, err
	}
	return emails, nil
}

// checkAlertEmails validates an account's alert addresses (the admin API's
// and the web app's one rule): at most maxAlertEmails bare addresses, none
// repeated in any case.
func checkAlertEmails(emails []string) error {
	if len(emails) > maxAlertEmails {
		return invalid("alert_emails", fmt.Sprintf("alert_emails may hold at most %d addresses", maxAlertEmails))
	}
	seen := make(map[string]bool, len(emails))
	for i, e := range emails {
		if !validEmail(e) {
			return invalid("alert_emails", fmt.Sprintf("alert_emails[%d] is not a valid email address without a display name", i))
		}
		if seen[strings.ToLower(e)] {
			return invalid("alert_emails", fmt.Sprintf("alert_emails[%d] repeats an earlier address", i))
		}
		seen[strings.ToLower(e)] = true
	}
	return nil
}

// validEmail accepts a bare address (no display name, no angle brackets,
// no comments) whose domain has a dot, as SES can deliver to.
func validEmail(s string) bool {
	if s == "" || len(s) > maxEmailBytes {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.HasPrefix(domain, ".")
}
