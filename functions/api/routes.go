package main

import (
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/postloadhooks/hooks/shared/hook"
)

// storage is every store method the API uses (*store.Store in production,
// an in-memory fake in unit tests).
type storage interface {
	hookCreator
	hookLister
	hookSwitcher
	hookDeleter
	accountCreator
	accountGetter
	accountUpdater
	memberLister
	memberCreator
	memberDeleter
}

const hooksPath = hook.APIPath

// routes builds the whole API: every route is registered here.
func routes(log *slog.Logger, s storage, admin adminCheck, allowPrivate bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())

	mux.Handle("POST "+hooksPath, handleCreateHook(log, s, allowPrivate))
	mux.Handle("GET "+hooksPath, handleListHooks(log, s))
	mux.Handle("PUT "+hooksPath+"/{id}", handleSetHookEnabled(log, s))
	mux.Handle("DELETE "+hooksPath+"/{id}", handleDeleteHook(log, s))

	mux.Handle("POST /admin/v1/accounts", handleCreateAccount(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}", handleGetAccount(log, admin, s))
	mux.Handle("PATCH /admin/v1/accounts/{client_id}", handleUpdateAccount(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}/hooks", handleAccountHooks(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}/members", handleListMembers(log, admin, s))
	mux.Handle("POST /admin/v1/accounts/{client_id}/members", handleCreateMember(log, admin, s))
	mux.Handle("DELETE /admin/v1/accounts/{client_id}/members/{member_id}", handleDeleteMember(log, admin, s))

	mux.Handle("/", handleNoRoute(log, mux))
	return accessLog(log, recoverPanics(log, cleanPathsOnly(log, mux)))
}

// cleanPathsOnly answers a JSON 404 for paths with empty, "." or ".."
// segments, which http.ServeMux would otherwise answer with an HTML
// redirect to the cleaned path.
func cleanPathsOnly(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != clean {
			writeError(w, r, log, hook.ErrNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleHealthz answers 200 once the process serves requests.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusOK, []byte(`{"status":"ok"}`))
	})
}

// routeMethods are the methods tried when telling 405 from 404.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// handleNoRoute answers every request no route matched: a JSON 405 (with
// Allow) when the path exists for other methods, else a JSON 404.
func handleNoRoute(log *slog.Logger, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range routeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, log, errMethodNotAllowed)
			return
		}
		writeError(w, r, log, hook.ErrNotFound)
	})
}
