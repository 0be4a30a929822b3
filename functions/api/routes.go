package main

import (
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// storage is every store method the API uses (dynamoStore, the
// DynamoDB-backed store, in production; an in-memory fake in unit tests).
type storage interface {
	hookCreator
	hookLister
	hookSwitcher
	hookDeleter
	hookGetter
	secretRotator
	subscriptionSetter
	freshnessStore
	accountCreator
	accountGetter
	accountUpdater
	memberLister
	memberCreator
	memberDeleter
	webStore
	deliveryReader
	deliveryResender
	deliveryReplayer
	testRecorder
	maxInFlightSetter
}

const hooksPath = hook.APIPath

// hooksConfig is what the hooks routes need besides the store.
type hooksConfig struct {
	// allowPrivate accepts loopback and private hook targets
	// (HOOKS_ALLOW_PRIVATE_TARGETS; local runs and tests only).
	allowPrivate bool
	// secretOverlap is how long a rotated-out secret still signs
	// (HOOKS_SECRET_OVERLAP); zero means hook.SecretOverlap.
	secretOverlap time.Duration
	// freshnessMin is the shortest max_interval of a freshness rule
	// (HOOKS_FRESHNESS_MIN_INTERVAL); zero means hook.FreshnessMinInterval.
	freshnessMin time.Duration
	// sender makes a test notification's one attempt.
	sender webhookSender
	// retries queues the retry message that starts a resent delivery.
	retries retryQueuer
	// replayRate is how many replayed deliveries start each second
	// (HOOKS_REPLAY_RATE); zero means defaultReplayRate.
	replayRate int
	// cursors seals the history's cursors (HOOKS_CURSOR_KEY); its zero
	// value seals with a random key of this process.
	cursors cursorSeal
	// now is the clock of a replay's default until (time.Now when nil).
	now func() time.Time
}

func (c hooksConfig) cursorSeal() cursorSeal {
	if c.cursors.key == nil {
		return cursorSeal{key: processCursorKey()}
	}
	return c.cursors
}

func (c hooksConfig) minInterval() time.Duration {
	if c.freshnessMin <= 0 {
		return hook.FreshnessMinInterval
	}
	return c.freshnessMin
}

// queue is the retry queue resends use; without one, every resend fails.
func (c hooksConfig) queue() retryQueuer {
	if c.retries == nil {
		return sqsRetryQueue{}
	}
	return c.retries
}

func (c hooksConfig) rate() int {
	if c.replayRate <= 0 {
		return defaultReplayRate
	}
	return c.replayRate
}

func (c hooksConfig) clock() func() time.Time {
	if c.now == nil {
		return time.Now
	}
	return c.now
}

func (c hooksConfig) overlap() time.Duration {
	if c.secretOverlap <= 0 {
		return hook.SecretOverlap
	}
	return c.secretOverlap
}

// routes builds the whole API and the web app: every route is registered
// here (the web app's through registerWeb).
func routes(log *slog.Logger, s storage, admin adminCheck, hooks hooksConfig, web webConfig) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /openapi.json", handleOpenAPI())

	mux.Handle("POST "+hooksPath, handleCreateHook(log, s, hooks.allowPrivate))
	mux.Handle("GET "+hooksPath, handleListHooks(log, s))
	mux.Handle("GET "+hooksPath+"/{id}", handleGetHook(log, s))
	mux.Handle("PUT "+hooksPath+"/{id}", handleSetHookEnabled(log, s))
	mux.Handle("PATCH "+hooksPath+"/{id}", handleSetHookSubscription(log, s))
	mux.Handle("DELETE "+hooksPath+"/{id}", handleDeleteHook(log, s))
	mux.Handle("POST "+hooksPath+"/{id}/secret/rotate", handleRotateSecret(log, s, hooks.overlap()))
	mux.Handle("POST "+hooksPath+"/{id}/test", handleTestSend(log, s, hooks.sender))
	mux.Handle("GET "+hooksPath+"/{id}/deliveries", handleListDeliveries(log, s, hooks.cursorSeal()))
	mux.Handle("GET "+hooksPath+"/{id}/deliveries/{delivery_id}", handleGetDelivery(log, s))
	mux.Handle("POST "+hooksPath+"/{id}/deliveries/{delivery_id}/resend", handleResend(log, s, hooks.queue()))
	mux.Handle("POST "+hooksPath+"/{id}/replay", handleReplay(log, s, hooks.queue(), hooks.rate(), hooks.clock()))

	mux.Handle("GET "+hook.FreshnessPath, handleGetFreshness(log, s))
	mux.Handle("PUT "+hook.FreshnessPath, handlePutFreshness(log, s, hooks.minInterval()))

	mux.Handle("POST /admin/v1/accounts", handleCreateAccount(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}", handleGetAccount(log, admin, s))
	mux.Handle("PATCH /admin/v1/accounts/{client_id}", handleUpdateAccount(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}/hooks", handleAccountHooks(log, admin, s))
	mux.Handle("PATCH /admin/v1/accounts/{client_id}/hooks/{hook_id}", handleSetMaxInFlight(log, admin, s))
	mux.Handle("GET /admin/v1/accounts/{client_id}/members", handleListMembers(log, admin, s))
	mux.Handle("POST /admin/v1/accounts/{client_id}/members", handleCreateMember(log, admin, s))
	mux.Handle("DELETE /admin/v1/accounts/{client_id}/members/{member_id}", handleDeleteMember(log, admin, s))

	// The web app (web.go): pages and forms under /app. secured sets the
	// security headers, securedPost adds the origin checks of a state
	// change, withSession the session (and the CSRF token of a POST),
	// withMember a session bound to one account.
	app := newWebApp(log, s, web, hooks)
	mux.Handle("GET "+staticPath, app.secured(http.StripPrefix(staticPath, staticFiles(staticAssets()))))
	mux.Handle("GET "+appPath, app.secured(http.RedirectHandler(settingsPath, http.StatusSeeOther)))
	mux.Handle("GET "+signInPath, app.secured(app.handleSignInPage()))
	mux.Handle("POST "+signInPath, app.securedPost(app.handleSignInRequest()))
	mux.Handle("GET "+signInLinkPath, app.secured(app.handleLinkPage()))
	mux.Handle("POST "+signInLinkPath, app.securedPost(app.handleLinkUse()))
	mux.Handle("GET "+accountsPath, app.secured(app.withSession(app.handleAccountsPage())))
	mux.Handle("POST "+accountsPath, app.securedPost(app.withSession(app.handleAccountPick())))
	mux.Handle("POST "+signOutPath, app.securedPost(app.withSession(app.handleSignOut())))
	mux.Handle("GET "+settingsPath, app.secured(app.withMember(app.handleSettings())))
	mux.Handle("POST "+settingsHooks, app.securedPost(app.withMember(app.handleAddHook())))
	mux.Handle("POST "+settingsHooks+"/{id}/{action}", app.securedPost(app.withMember(app.handleHookAction())))
	mux.Handle("POST "+settingsHooks+"/{id}/deliveries/{delivery_id}/resend", app.securedPost(app.withMember(app.handleResendDelivery())))
	mux.Handle("GET "+unsubscribePath, app.secured(app.handleUnsubscribePage()))
	mux.Handle("POST "+unsubscribePath, app.secured(app.handleUnsubscribe()))
	mux.Handle("POST "+settingsAlerts, app.securedPost(app.withMember(app.handleAlertEmails())))
	mux.Handle("POST "+settingsFreshness, app.securedPost(app.withMember(app.handleFreshness())))

	mux.Handle("/", handleNoRoute(log, mux, app))
	return accessLog(log, recoverPanics(log, cleanPathsOnly(log, app, mux)))
}

// cleanPathsOnly answers a JSON 404 for paths with empty, "." or ".."
// segments, which http.ServeMux would otherwise answer with an HTML
// redirect to the cleaned path, and for paths that percent-encode a
// character that needs no encoding (a letter, a digit, "-", ".", "_" or
// "~"). http.ServeMux matches patterns against the decoded path, so
// "/%61dmin/v1/..." would otherwise reach the admin routes and "/hooks/%31"
// hook 1: every route is matched on the path as sent, in its one canonical
// spelling, and any other spelling is an unknown path (under /app, the web
// app's page of one).
func cleanPathsOnly(log *slog.Logger, app *webApp, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != clean || encodesUnreserved(p) {
			if isAppPath(r.URL.Path) {
				app.noRoute(w, r, nil)
				return
			}
			writeError(w, r, log, hook.ErrNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// encodesUnreserved reports whether the escaped path p holds a
// percent-encoded unreserved character (RFC 3986 section 2.3), which the
// canonical form of a URI always writes as itself.
func encodesUnreserved(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		b, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
		if err != nil {
			continue
		}
		switch c := byte(b); {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			return true
		}
	}
	return false
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
// Allow) when the path exists for other methods, else a JSON 404; under
// /app, the web app's pages of the same (webApp.noRoute).
func handleNoRoute(log *slog.Logger, mux *http.ServeMux, app *webApp) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range routeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		switch {
		case isAppPath(r.URL.Path):
			app.noRoute(w, r, allow)
		case len(allow) > 0:
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, log, errMethodNotAllowed)
		default:
			writeError(w, r, log, hook.ErrNotFound)
		}
	})
}
