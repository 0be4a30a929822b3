package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// hookJSON is the hook object of the hooks API, fields in its documented
// order. Later fields go after disabled_at and before secret.
type hookJSON struct {
	ID       int64  `json:"id"`
	ClientID int64  `json:"client_id"`
	Type     string `json:"type"`
	Version  int    `json:"version"`
	// DestinationID is null only for a hook stored before destinations
	// existed (hook.Hook.DestinationID 0).
	DestinationID *int64         `json:"destination_id"`
	Config        hookConfigJSON `json:"config"`
	CreatedAt     string         `json:"created_at"`
	ModifiedAt    string         `json:"modified_at"`
	DisabledAt    *string        `json:"disabled_at"`
	// DisabledReason is null while the hook is enabled, else "member",
	// "plan" or "failing" (hook.Hook.DisabledReason).
	DisabledReason *string `json:"disabled_reason"`
	// Filter is null while the hook is sent every load; Events is never
	// empty (["table_loaded"] for a hook that never chose).
	Filter *filterJSON `json:"filter"`
	Events []string    `json:"events"`
	// Secret is set only in the create response.
	Secret string `json:"secret,omitempty"`
}

type hookConfigJSON struct {
	URL string `json:"url"`
}

func newHookJSON(h hook.Hook) hookJSON {
	j := hookJSON{
		ID:         h.ID,
		ClientID:   h.ClientID,
		Type:       hook.TypePostLoad,
		Version:    hook.Version,
		Config:     hookConfigJSON{URL: h.URL},
		CreatedAt:  formatTime(h.CreatedAt),
		ModifiedAt: formatTime(h.ModifiedAt),
		Filter:     newFilterJSON(h.Filter),
		Events:     h.Events(),
	}
	if h.DestinationID != 0 {
		j.DestinationID = &h.DestinationID
	}
	if h.DisabledAt != nil {
		s := formatTime(*h.DisabledAt)
		j.DisabledAt = &s
		why := h.DisabledReason()
		j.DisabledReason = &why
	}
	return j
}

// hookListJSON is the list response of the hooks API (and of the admin
// API's view of an account's hooks): the hooks under their type.
type hookListJSON struct {
	PostLoad []hookJSON `json:"post_load"`
}

func newHookListJSON(hooks []hook.Hook) hookListJSON {
	out := hookListJSON{PostLoad: make([]hookJSON, 0, len(hooks))}
	for _, h := range hooks {
		out.PostLoad = append(out.PostLoad, newHookJSON(h))
	}
	return out
}

// accountJSON is the admin API's account object. hook_count is included so
// operators can see how many hooks an account keeps; alert_emails and
// destinations are always arrays. HooksDisabled is set only in the PATCH
// response: how many hooks that change disabled.
type accountJSON struct {
	ClientID      int64             `json:"client_id"`
	Plan          string            `json:"plan"`
	AlertEmails   []string          `json:"alert_emails"`
	Destinations  []destinationJSON `json:"destinations"`
	APIAccess     bool              `json:"api_access"`
	AutoDisable   bool              `json:"auto_disable"`
	HookCount     int               `json:"hook_count"`
	CreatedAt     string            `json:"created_at"`
	ModifiedAt    string            `json:"modified_at"`
	HooksDisabled *int              `json:"hooks_disabled,omitempty"`
}

type destinationJSON struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

func newAccountJSON(a hook.Account) accountJSON {
	emails := a.AlertEmails
	if emails == nil {
		emails = []string{}
	}
	dests := make([]destinationJSON, 0, len(a.Destinations))
	for _, d := range a.Destinations {
		dests = append(dests, destinationJSON(d))
	}
	return accountJSON{
		ClientID:     a.ClientID,
		Plan:         a.Plan,
		AlertEmails:  emails,
		Destinations: dests,
		APIAccess:    !a.NoAPIAccess,
		AutoDisable:  !a.NoAutoDisable,
		HookCount:    a.HookCount,
		CreatedAt:    formatTime(a.CreatedAt),
		ModifiedAt:   formatTime(a.ModifiedAt),
	}
}

// memberJSON is the admin API's member object; Token is set only in the
// create response.
type memberJSON struct {
	MemberID string `json:"member_id"`
	Email    string `json:"email,omitempty"`
	Token    string `json:"token,omitempty"`
}

// memberListJSON is the admin API's list of an account's members: ids,
// addresses and creation times, never tokens nor their hashes.
type memberListJSON struct {
	Members []memberItemJSON `json:"members"`
}

type memberItemJSON struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	CreatedAt string `json:"created_at"`
}

func newMemberListJSON(ms []hook.Member) memberListJSON {
	out := memberListJSON{Members: make([]memberItemJSON, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberItemJSON{ID: m.ID, Email: m.Email, CreatedAt: formatTime(m.CreatedAt)})
	}
	return out
}

// formatTime renders t as RFC 3339 in UTC to the second.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writeJSON sends v as JSON with status. Encoding a response value cannot
// fail (they are plain structs), so a failure is a programming error and
// becomes a 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeBody(w, http.StatusInternalServerError, []byte(bodyInternal))
		return
	}
	writeBody(w, status, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeBody sends an already encoded JSON body exactly as given: the
// contract's bodies end with their closing brace (or "null"), nothing after.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
