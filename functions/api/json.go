package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// hookJSON is the hook object of SPEC section 3, fields in its order.
type hookJSON struct {
	ID         int64          `json:"id"`
	ClientID   int64          `json:"client_id"`
	Type       string         `json:"type"`
	Version    int            `json:"version"`
	Config     hookConfigJSON `json:"config"`
	CreatedAt  string         `json:"created_at"`
	ModifiedAt string         `json:"modified_at"`
	DisabledAt *string        `json:"disabled_at"`
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
	}
	if h.DisabledAt != nil {
		s := formatTime(*h.DisabledAt)
		j.DisabledAt = &s
	}
	return j
}

// accountJSON is the admin API's account object. hook_count is included so
// operators can see how many hooks an account keeps; alert_emails is always
// an array.
type accountJSON struct {
	ClientID    int64    `json:"client_id"`
	Plan        string   `json:"plan"`
	AlertEmails []string `json:"alert_emails"`
	HookCount   int      `json:"hook_count"`
	CreatedAt   string   `json:"created_at"`
	ModifiedAt  string   `json:"modified_at"`
}

func newAccountJSON(a hook.Account) accountJSON {
	emails := a.AlertEmails
	if emails == nil {
		emails = []string{}
	}
	return accountJSON{
		ClientID:    a.ClientID,
		Plan:        a.Plan,
		AlertEmails: emails,
		HookCount:   a.HookCount,
		CreatedAt:   formatTime(a.CreatedAt),
		ModifiedAt:  formatTime(a.ModifiedAt),
	}
}

// memberJSON is the admin API's member object; Token is set only in the
// create response.
type memberJSON struct {
	MemberID string `json:"member_id"`
	Email    string `json:"email,omitempty"`
	Token    string `json:"token,omitempty"`
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
	writeBody(w, status, buf.Bytes())
}

// writeBody sends an already encoded JSON body, newline-terminated.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	if len(body) == 0 || body[len(body)-1] != '\n' {
		body = append(body[:len(body):len(body)], '\n')
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
