package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// errInvalidPatchBody is any PATCH body but one object with only "filter"
// and/or "events" of their shapes.
var errInvalidPatchBody = errors.New("invalid PATCH body")

const bodyInvalidPatchBody = `{"data":{"message":"Invalid PATCH body"},"error":"InvalidBody"}`

// subscriptionSetter is the store call that changes a hook's filter and
// events.
type subscriptionSetter interface {
	SetHookSubscription(ctx context.Context, p hook.Principal, id int64, u hook.SubscriptionUpdate) (hook.Hook, error)
}

// handleSetHookSubscription serves PATCH .../hooks/{id}: a body of one
// object with "filter" ({"integrations":[...],"tables":[...]}, either list
// optional, or null for every load) and/or "events" (a non-empty list of
// distinct event types); 200 with the hook. Allowed on any plan, enabled or
// not: it sends nothing.
func handleSetHookSubscription(log *slog.Logger, s interface {
	memberAuth
	subscriptionSetter
}) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		data, err := readBody(w, r)
		if err != nil {
			return err
		}
		u, err := decodeSubscription(data)
		if err != nil {
			return err
		}
		h, err := s.SetHookSubscription(r.Context(), p, id, u)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newHookJSON(h))
		return nil
	})
}

// decodeSubscription reads a PATCH body, or returns errInvalidPatchBody.
func decodeSubscription(data []byte) (hook.SubscriptionUpdate, error) {
	var u hook.SubscriptionUpdate
	body, err := strictjson.ParseBody(data)
	if err != nil || body.Len() == 0 || body.Only("filter", "events") != nil {
		return u, errInvalidPatchBody
	}
	if raw, ok, _ := body.Get("filter"); ok {
		f, err := decodeFilter(body, raw)
		if err != nil {
			return u, err
		}
		u.SetFilter, u.Filter = true, f
	}
	if body.Has("events") {
		events, err := body.Strings("events")
		if err != nil {
			return u, errInvalidPatchBody
		}
		if _, ok := hook.NormalizeEvents(events); !ok {
			return u, errInvalidPatchBody
		}
		u.Events = events
	}
	return u, nil
}

// decodeFilter reads the filter value raw of body: null, or an object with
// only "integrations" and/or "tables", each a list of patterns.
func decodeFilter(body strictjson.Object, raw json.RawMessage) (*hook.Filter, error) {
	if strictjson.IsNull(raw) {
		return nil, nil
	}
	obj, err := body.Object("filter")
	if err != nil || obj.Only("integrations", "tables") != nil {
		return nil, errInvalidPatchBody
	}
	var f hook.Filter
	for key, dst := range map[string]*[]string{"integrations": &f.Integrations, "tables": &f.Tables} {
		if !obj.Has(key) {
			continue
		}
		l, err := obj.Strings(key)
		if err != nil {
			return nil, errInvalidPatchBody
		}
		*dst = l
	}
	out, ok := hook.NormalizeFilter(&f)
	if !ok {
		return nil, errInvalidPatchBody
	}
	return out, nil
}

// filterJSON is a hook's filter in the hook object: null for every load,
// else the lists it sets.
type filterJSON struct {
	Integrations []string `json:"integrations,omitempty"`
	Tables       []string `json:"tables,omitempty"`
}

func newFilterJSON(f *hook.Filter) *filterJSON {
	if f == nil {
		return nil
	}
	return &filterJSON{Integrations: f.Integrations, Tables: f.Tables}
}
