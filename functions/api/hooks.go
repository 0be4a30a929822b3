package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// The store methods each hooks handler uses.
type (
	hookCreator interface {
		memberAuth
		CreateHook(ctx context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error)
	}
	hooksReader interface {
		ListHooks(ctx context.Context, clientID int64) ([]hook.Hook, error)
	}
	hookLister interface {
		memberAuth
		hooksReader
	}
	hookSwitcher interface {
		memberAuth
		SetHookEnabled(ctx context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error)
	}
	hookGetter interface {
		memberAuth
		GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error)
	}
	hookDeleter interface {
		memberAuth
		DeleteHook(ctx context.Context, p hook.Principal, id int64) (hook.Hook, error)
	}
)

// handleCreateHook serves POST .../hooks: body exactly
// {"type":"post_load","destination_id":<int>,"config":{"url":"https://..."}};
// 200 with the new hook and, this once, its signing secret.
//
// The order of checks, so the first failing one names the error: the body
// (Invalid POST body), the URL (Invalid URI), then, atomically with the
// write, the plan (no access), the account's destinations (no destination,
// then Invalid destination_id), the URL's uniqueness (Duplicate URI) and
// the limit.
func handleCreateHook(log *slog.Logger, s hookCreator, allowPrivate bool) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		req, err := decodeCreateHook(w, r)
		if err != nil {
			return err
		}
		h, secret, err := createHook(r.Context(), s, p, req.destinationID, req.url, allowPrivate)
		if err != nil {
			return err
		}
		out := newHookJSON(h)
		out.Secret = secret
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// hookMaker is the store call that adds a hook.
type hookMaker interface {
	CreateHook(ctx context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error)
}

// createHook is how a member adds a hook, through the JSON API or the web
// page alike: the URL rules first (Invalid URI), then the store's atomic
// checks of plan, destination, uniqueness and limit. It returns the hook and
// its new signing secret.
func createHook(ctx context.Context, s hookMaker, p hook.Principal, destinationID int64, rawURL string, allowPrivate bool) (hook.Hook, string, error) {
	target, err := hookurl.Validate(rawURL, allowPrivate)
	if err != nil {
		return hook.Hook{}, "", err
	}
	secret := hook.NewSecret()
	h, err := s.CreateHook(ctx, p, destinationID, target, secret)
	if err != nil {
		return hook.Hook{}, "", err
	}
	return h, secret, nil
}

// createHookRequest is a decoded create body.
type createHookRequest struct {
	destinationID int64
	url           string
}

// decodeCreateHook returns a create body, or errInvalidPostBody
// (errBodyTooLarge for an oversized body). destination_id must be a JSON
// integer; whether it is one of the account's is the store's check.
func decodeCreateHook(w http.ResponseWriter, r *http.Request) (createHookRequest, error) {
	data, err := readBody(w, r)
	if err != nil {
		return createHookRequest{}, err
	}
	body, err := strictjson.ParseBody(data)
	if err != nil || body.Exactly("type", "destination_id", "config") != nil {
		return createHookRequest{}, errInvalidPostBody
	}
	typ, err := body.String("type")
	if err != nil || typ != hook.TypePostLoad {
		return createHookRequest{}, errInvalidPostBody
	}
	dest, err := body.Int("destination_id")
	if err != nil {
		return createHookRequest{}, errInvalidPostBody
	}
	cfg, err := body.Object("config")
	if err != nil || cfg.Exactly("url") != nil {
		return createHookRequest{}, errInvalidPostBody
	}
	u, err := cfg.String("url")
	if err != nil {
		return createHookRequest{}, errInvalidPostBody
	}
	return createHookRequest{destinationID: dest, url: u}, nil
}

// handleListHooks serves GET .../hooks: 200 with {"post_load":[...]}, the
// account's hooks by id.
func handleListHooks(log *slog.Logger, s hookLister) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		return writeHookList(w, r, s, p.ClientID)
	})
}

// writeHookList answers the hooks of clientID as {"post_load":[...]}.
func writeHookList(w http.ResponseWriter, r *http.Request, s hooksReader, clientID int64) error {
	hooks, err := s.ListHooks(r.Context(), clientID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newHookListJSON(hooks))
	return nil
}

// handleGetHook serves GET .../hooks/{id}: 200 with the hook as the list
// shows it (no secret). Allowed on any plan.
func handleGetHook(log *slog.Logger, s hookGetter) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		h, err := s.GetHook(r.Context(), p.ClientID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newHookJSON(h))
		return nil
	})
}

// handleSetHookEnabled serves PUT .../hooks/{id}: body exactly
// {"enable": <bool>}; 200 with the hook.
func handleSetHookEnabled(log *slog.Logger, s hookSwitcher) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		enable, err := decodeSetEnabled(w, r)
		if err != nil {
			return err
		}
		h, err := s.SetHookEnabled(r.Context(), p, id, enable)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newHookJSON(h))
		return nil
	})
}

// decodeSetEnabled returns the enable flag of a PUT body, or
// errInvalidPutBody (errBodyTooLarge for an oversized body).
func decodeSetEnabled(w http.ResponseWriter, r *http.Request) (bool, error) {
	data, err := readBody(w, r)
	if err != nil {
		return false, err
	}
	body, err := strictjson.ParseBody(data)
	if err != nil || body.Exactly("enable") != nil {
		return false, errInvalidPutBody
	}
	enable, err := body.Bool("enable")
	if err != nil {
		return false, errInvalidPutBody
	}
	return enable, nil
}

// handleDeleteHook serves DELETE .../hooks/{id}: 200 with the body null.
func handleDeleteHook(log *slog.Logger, s hookDeleter) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.DeleteHook(r.Context(), p, id); err != nil {
			return err
		}
		writeBody(w, http.StatusOK, []byte(bodyNull))
		return nil
	})
}

// pathID returns the path value name ({id}, {client_id}), or
// hook.ErrNotFound unless it is a positive decimal int64 written
// canonically (no sign, no leading zeros).
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := parsePositiveID(r.PathValue(name))
	if !ok {
		return 0, hook.ErrNotFound
	}
	return id, nil
}

// parsePositiveID parses a canonical positive decimal int64.
func parsePositiveID(s string) (int64, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
