package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/postloadhooks/hooks/shared/apigw"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/signin"
)

// The web app (web/README.md): server-rendered pages under /app for team
// members, signed in by emailed one-time links. Every page and form is a
// small handler registered in routes next to the JSON API, and every
// change goes through the same domain code as the API.

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// webStore is every store method the web app uses besides the API's.
type webStore interface {
	Memberships(ctx context.Context, emailKey string) ([]hook.Principal, error)
	CreateSignInLink(ctx context.Context, email string, ttl time.Duration) (string, error)
	UseSignInLink(ctx context.Context, token string) (string, error)
	CreateSession(ctx context.Context, emailKey string, p hook.Principal) (string, signin.Session, error)
	Session(ctx context.Context, id string) (signin.Session, error)
	BindSession(ctx context.Context, sess signin.Session, p hook.Principal) (signin.Session, error)
	DeleteSession(ctx context.Context, id string) error
	unsubscriber
}

// emailSender sends one email (the SES v2 client's SendEmail, as a
// sendEmailFunc).
type emailSender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// sendEmailFunc is an emailSender made of the SES v2 client's SendEmail
// method value. The web app's html/template calls reflect's MethodByName,
// after which the linker keeps every exported method of every type that
// can reach an interface value: given *sesv2.Client itself, the bootstrap
// would carry every SES v2 operation.
type sendEmailFunc func(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

func (f sendEmailFunc) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f(ctx, in, opts...)
}

// webConfig is what the web app needs besides the store.
type webConfig struct {
	// mail sends sign-in links; nil sends none (each is logged as not sent).
	mail emailSender
	// from is the sign-in email's From address (ALERT_FROM_ADDRESS).
	from string
	// appURL is the origin the app is served from and links point at
	// (HOOKS_APP_URL). Empty: the API's own origin, which in Lambda is the
	// domain API Gateway received the request on (never the Host header,
	// which a client chooses).
	appURL string
	// unsubscribe checks the alert emails' unsubscribe links
	// (HOOKS_UNSUBSCRIBE_KEY); its zero value refuses every link.
	unsubscribe optout.Signer
	// linkTTL is how long a sign-in link can be used
	// (HOOKS_SIGNIN_LINK_TTL); zero is signin.LinkTTL.
	linkTTL time.Duration
	// now is the clock (time.Now when nil).
	now func() time.Time
}

// linkLife is how long a sign-in link sent now can be used.
func (c webConfig) linkLife() time.Duration {
	if c.linkTTL > 0 {
		return c.linkTTL
	}
	return signin.LinkTTL
}

// Paths of the web app.
const (
	appPath         = "/app"
	signInPath      = "/app/sign-in"
	signInLinkPath  = "/app/sign-in/link"
	signOutPath     = "/app/sign-out"
	accountsPath    = "/app/accounts"
	settingsPath    = "/app/settings/notifications"
	settingsHooks   = settingsPath + "/hooks"
	settingsAlerts  = settingsPath + "/alert-emails"
	staticPath      = "/app/static/"
	sessionCookie   = "__Host-plh_session"
	csrfField       = "csrf"
	maxFormBytes    = 16 << 10
	contentSecurity = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)

// webApp holds the web app's dependencies; its methods are the handlers.
type webApp struct {
	log   *slog.Logger
	store storage
	cfg   webConfig
	hooks hooksConfig
	pages map[string]*template.Template
}

func newWebApp(log *slog.Logger, s storage, cfg webConfig, hooks hooksConfig) *webApp {
	return &webApp{log: log, store: s, cfg: cfg, hooks: hooks, pages: parsePages()}
}

func (a *webApp) now() time.Time {
	if a.cfg.now != nil {
		return a.cfg.now()
	}
	return time.Now()
}

// staticAssets is the embedded web/static folder.
func staticAssets() fs.FS {
	sub, err := fs.Sub(staticFS, "web/static")
	if err != nil {
		panic(err) // the folder is embedded: a build defect
	}
	return sub
}

// parsePages parses each page template with the layout. The templates are
// embedded, so a parse error is a build defect and panics at start-up.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"date": func(t interface{ Format(string) string }) string { return t.Format("Jan 2, 2006") }}
	pages := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "web/templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "web/templates/layout.html", n))
	}
	return pages
}

// staticFiles serves the embedded assets. Their names change with their
// content only at a release, so they may be cached for a day.
func staticFiles(root fs.FS) http.Handler {
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// secured sets the app's security headers on every response.
func (a *webApp) secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// setSecurityHeaders sets the headers every response under /app carries.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurity)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// isAppPath reports whether p, a request's path, is under /app.
func isAppPath(p string) bool { return p == appPath || strings.HasPrefix(p, appPath+"/") }

// noRoute answers a request under /app that no route serves with a page of
// the app and its security headers, where the API answers JSON: 405 with
// Allow when the path takes other methods (allow), else 404.
func (a *webApp) noRoute(w http.ResponseWriter, r *http.Request, allow []string) {
	setSecurityHeaders(w.Header())
	back := messagePage{Link: settingsPath, LinkText: "Go to Notification Settings"}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		back.Title, back.Message = "Method not allowed", "This page does not take that kind of request."
		a.render(w, r, http.StatusMethodNotAllowed, "message", back)
		return
	}
	back.Title, back.Message = "Page not found", "There is no page at this address."
	a.render(w, r, http.StatusNotFound, "message", back)
}

// crossOrigin is the standard library's check of browsers' Sec-Fetch-Site
// and Origin headers.
var crossOrigin = http.NewCrossOriginProtection()

// securedPost is secured for a state change: refused with 403 unless the
// standard library's cross-origin check passes and the request carries an
// Origin header naming the app's own origin, and its form is read (at most
// maxFormBytes).
func (a *webApp) securedPost(next http.Handler) http.Handler {
	return a.secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := a.origin(r); origin == "" || crossOrigin.Check(r) != nil || r.Header.Get("Origin") != origin {
			a.forbidden(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			a.render(w, r, http.StatusBadRequest, "message", messagePage{Title: "Bad request", Message: "The form could not be read."})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// origin is the app's origin: HOOKS_APP_URL's, or the API's own; "" when
// neither is known, which refuses every state change.
func (a *webApp) origin(r *http.Request) string {
	if a.cfg.appURL != "" {
		u, err := url.Parse(a.cfg.appURL)
		if err == nil {
			return u.Scheme + "://" + u.Host
		}
	}
	if rc, ok := apigw.RequestContext(r.Context()); ok && rc.DomainName != "" {
		return "https://" + rc.DomainName
	}
	return ""
}

// sessionKey carries the request's session (withSession).
type sessionKey struct{}

// webSession is the request's session and its id (the cookie).
type webSession struct {
	id   string
	sess signin.Session
}

func (s webSession) csrf() string { return signin.CSRFToken(s.id) }

func (s webSession) principal() hook.Principal {
	return hook.Principal{ClientID: s.sess.ClientID, MemberID: s.sess.MemberID}
}

func sessionOf(r *http.Request) webSession {
	s, _ := r.Context().Value(sessionKey{}).(webSession)
	return s
}

// withSession serves next for a request with a live session, and checks the
// CSRF token of every POST; anything else is sent to the sign-in page (303)
// or refused (403).
func (a *webApp) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" || len(c.Value) > maxTokenBytes {
			http.Redirect(w, r, signInPath, http.StatusSeeOther)
			return
		}
		sess, err := a.store.Session(r.Context(), c.Value)
		if errors.Is(err, signin.ErrNoSession) {
			clearSessionCookie(w)
			http.Redirect(w, r, signInPath, http.StatusSeeOther)
			return
		}
		if err != nil {
			a.failed(w, r, err)
			return
		}
		ws := webSession{id: c.Value, sess: sess}
		if r.Method == http.MethodPost && !signin.CSRFValid(ws.id, r.PostForm.Get(csrfField)) {
			a.forbidden(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, ws)))
	})
}

// withMember is withSession for pages of one account: a session that has
// not picked its account yet is sent to pick one.
func (a *webApp) withMember(next http.Handler) http.Handler {
	return a.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessionOf(r).sess.ClientID == 0 {
			http.Redirect(w, r, accountsPath, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: int(signin.MaxAge.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// page is what the layout reads from every page's data.
type page interface{ pageTitle() string }

// layout is the part of every page's data the layout shows.
type layout struct {
	Title string
	// CSRF is set on pages of a signed-in member (the sign-out form).
	CSRF string
}

func (l layout) pageTitle() string { return l.Title }

// messagePage is a page with one message and a way on.
type messagePage struct {
	Title, Message string
	CSRF           string
	Link, LinkText string
}

func (m messagePage) pageTitle() string { return m.Title }

// render answers page name with data. Templates render into a buffer first,
// so a failure is a clean 500, never half a page.
func (a *webApp) render(w http.ResponseWriter, r *http.Request, status int, name string, data page) {
	var buf bytes.Buffer
	if err := a.pages[name].Execute(&buf, data); err != nil {
		a.log.ErrorContext(r.Context(), "render failed", slog.String("page", name), slog.Any("error", err))
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("Internal server error")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// forbidden answers a state change that failed the origin or CSRF check.
func (a *webApp) forbidden(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusForbidden, "message", messagePage{
		Title: "Request refused", Message: "This form was not sent from this app's own page, or it has expired. Reload the page and try again.",
		Link: settingsPath, LinkText: "Back to Notification Settings",
	})
}

// failed answers an unexpected error: logged once here, never shown.
func (a *webApp) failed(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
		slog.String("route", r.Pattern), slog.Any("error", err))
	a.render(w, r, http.StatusInternalServerError, "message", messagePage{Title: "Something went wrong", Message: "Something went wrong on our side. Try again in a moment."})
}
