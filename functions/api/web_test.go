package main

import (
	"context"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
)

// Unit tests of the web app over the fake store; web_browser_test.go runs
// the same flows in Chromium against DynamoDB Local and the SES emulator.

const appOrigin = "http://app.test"

// fakeMail records the sign-in emails.
type fakeMail struct {
	mu   sync.Mutex
	sent []*sesv2.SendEmailInput
}

func (m *fakeMail) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, in)
	return &sesv2.SendEmailOutput{}, nil
}

// to returns the text bodies of the emails sent to rcpt.
func (m *fakeMail) to(rcpt string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, in := range m.sent {
		if in.Destination.ToAddresses[0] == rcpt {
			out = append(out, *in.Content.Simple.Body.Text.Data)
		}
	}
	return out
}

type webTest struct {
	store   *testStore
	sender  *fakeSender
	mail    *fakeMail
	handler http.Handler
	logs    *syncbuf.Buffer
	mu      sync.Mutex
	now     time.Time
}

func newWebTest(t *testing.T) *webTest {
	t.Helper()
	wt := &webTest{mail: &fakeMail{}, logs: &syncbuf.Buffer{}, now: testNow, sender: &fakeSender{}}
	wt.store = newTestStore(wt.clock)
	wt.store.seedAccount(clientA, "advanced", memberA, tokenA)
	wt.store.seedAccount(clientB, "advanced", "memberb", tokenB)
	wt.store.seedAccount(clientStd, "standard", "memberstd", tokenStd)
	log := slog.New(slog.NewJSONHandler(wt.logs, nil))
	wt.handler = routes(log, wt.store, tokenAdmin(adminToken), hooksConfig{sender: wt.sender}, webConfig{mail: wt.mail, from: "hooks@example.com", appURL: appOrigin})
	return wt
}

func (wt *webTest) clock() time.Time {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.now
}

func (wt *webTest) advance(d time.Duration) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	wt.now = wt.now.Add(d)
}

// request is one request to the app.
type request struct {
	method, path string
	form         url.Values
	cookie       string
	// origin is sent as Origin on a POST; "" sends appOrigin, "-" none.
	origin string
}

func (wt *webTest) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	var body *strings.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(rq.method, appOrigin+rq.path, body)
	if rq.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		switch rq.origin {
		case "":
			req.Header.Set("Origin", appOrigin)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		case "-":
		default:
			req.Header.Set("Origin", rq.origin)
		}
	}
	if rq.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: rq.cookie})
	}
	rec := httptest.NewRecorder()
	wt.handler.ServeHTTP(rec, req)
	checkSecurityHeaders(t, rq.path, rec.Header())
	return rec
}

// checkSecurityHeaders: every app response carries the headers.
func checkSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": contentSecurity,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
	if !strings.Contains(contentSecurity, "default-src 'self'") || !strings.Contains(contentSecurity, "frame-ancestors 'none'") {
		t.Errorf("CSP %q lacks default-src 'self' or frame-ancestors 'none'", contentSecurity)
	}
}

var linkPattern = regexp.MustCompile(`http://app\.test/app/sign-in/link\?token=(\S+)`)

// requestLink asks for a sign-in link for email and returns the page.
func (wt *webTest) requestLink(t *testing.T, email string) *httptest.ResponseRecorder {
	t.Helper()
	return wt.do(t, request{method: "POST", path: signInPath, form: url.Values{"email": {email}}})
}

// lastLinkToken is the token of the last link emailed to email.
func (wt *webTest) lastLinkToken(t *testing.T, email string) string {
	t.Helper()
	mails := wt.mail.to(email)
	if len(mails) == 0 {
		t.Fatalf("no sign-in email to %s", email)
	}
	m := linkPattern.FindStringSubmatch(mails[len(mails)-1])
	if m == nil {
		t.Fatalf("no link in %q", mails[len(mails)-1])
	}
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// useLink opens the link page and presses Sign in; it returns the answer.
func (wt *webTest) useLink(t *testing.T, token, oldCookie string) *httptest.ResponseRecorder {
	t.Helper()
	page := wt.do(t, request{method: "GET", path: signInLinkPath + "?token=" + url.QueryEscape(token)})
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `value="`+token+`"`) {
		t.Fatalf("link page: %d %s", page.Code, page.Body.String())
	}
	return wt.do(t, request{method: "POST", path: signInLinkPath, form: url.Values{"token": {token}}, cookie: oldCookie})
}

// signIn signs in as email and returns the session cookie.
func (wt *webTest) signIn(t *testing.T, email string) string {
	t.Helper()
	if rec := wt.requestLink(t, email); rec.Code != http.StatusOK {
		t.Fatalf("sign-in request: %d", rec.Code)
	}
	rec := wt.useLink(t, wt.lastLinkToken(t, email), "")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != settingsPath {
		t.Fatalf("sign in: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	return sessionCookieOf(t, rec)
}

func sessionCookieOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie attributes: %+v", c)
			}
			return c.Value
		}
	}
	t.Fatalf("no session cookie set")
	return ""
}

func (wt *webTest) settings(t *testing.T, cookie, query string) string {
	t.Helper()
	rec := wt.do(t, request{method: "GET", path: settingsPath + query, cookie: cookie})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET settings: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	return rec.Body.String()
}

func (wt *webTest) post(t *testing.T, cookie, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has(csrfField) {
		form.Set(csrfField, signin.CSRFToken(cookie))
	}
	return wt.do(t, request{method: "POST", path: path, form: form, cookie: cookie})
}

const emailA = memberA + "@example.com"

func TestWebSignInSameAnswerForUnknownAddress(t *testing.T) {
	wt := newWebTest(t)
	known := wt.requestLink(t, emailA)
	unknown := wt.requestLink(t, "nobody@example.com")
	if known.Code != http.StatusOK || unknown.Code != http.StatusOK {
		t.Fatalf("status known %d, unknown %d", known.Code, unknown.Code)
	}
	if k, u := strings.ReplaceAll(known.Body.String(), emailA, "X"), strings.ReplaceAll(unknown.Body.String(), "nobody@example.com", "X"); k != u {
		t.Errorf("pages differ:\n%s\n---\n%s", k, u)
	}
	if n := len(wt.mail.to(emailA)); n != 1 {
		t.Errorf("%d emails to the member, want 1", n)
	}
	if n := len(wt.mail.to("nobody@example.com")); n != 0 {
		t.Errorf("%d emails to an unknown address, want 0", n)
	}
	if rec := wt.requestLink(t, "not an address"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="email-error"`) {
		t.Errorf("malformed address: %d", rec.Code)
	}
}

func TestWebSignInRateLimit(t *testing.T) {
	wt := newWebTest(t)
	first := ""
	for i := range signin.LinksPerHour + 2 {
		rec := wt.requestLink(t, emailA)
		if i == 0 {
			first = rec.Body.String()
		}
		if rec.Code != http.StatusOK || rec.Body.String() != first {
			t.Fatalf("request %d: %d, or a page unlike the first", i+1, rec.Code)
		}
	}
	if n := len(wt.mail.to(emailA)); n != signin.LinksPerHour {
		t.Errorf("%d emails, want %d", n, signin.LinksPerHour)
	}
	// The hour slides with each request: not a clock hour.
	wt.advance(signin.RateWindow - time.Minute)
	wt.requestLink(t, emailA)
	if n := len(wt.mail.to(emailA)); n != signin.LinksPerHour {
		t.Errorf("59 minutes on: %d emails, want %d", n, signin.LinksPerHour)
	}
	wt.advance(time.Minute)
	wt.requestLink(t, emailA)
	if n := len(wt.mail.to(emailA)); n != signin.LinksPerHour+1 {
		t.Errorf("an hour on: %d emails, want %d", n, signin.LinksPerHour+1)
	}
}

// TestWebSignInLinkTTL: HOOKS_SIGNIN_LINK_TTL shortens a link's life, and
// the email says how long it is.
func TestWebSignInLinkTTL(t *testing.T) {
	wt := newWebTest(t)
	wt.handler = routes(discardLogger(), wt.store, tokenAdmin(adminToken), hooksConfig{sender: wt.sender},
		webConfig{mail: wt.mail, from: "hooks@example.com", appURL: appOrigin, linkTTL: 30 * time.Second})
	wt.requestLink(t, emailA)
	if got := wt.mail.to(emailA); len(got) != 1 || !strings.Contains(got[0], "It works once, within 30 seconds, and asks you to press Sign in.") {
		t.Fatalf("emails %q, want one saying 30 seconds", got)
	}
	wt.advance(31 * time.Second)
	if rec := wt.useLink(t, wt.lastLinkToken(t, emailA), ""); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "This sign-in link does not work") {
		t.Errorf("a 30 s link used after 31 s: %d, want the invalid-link page", rec.Code)
	}
}

func TestWebLinks(t *testing.T) {
	invalid := func(t *testing.T, rec *httptest.ResponseRecorder) {
		t.Helper()
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "This sign-in link does not work") {
			t.Errorf("got %d, want the invalid-link page", rec.Code)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie && c.Value != "" {
				t.Errorf("a session was opened")
			}
		}
	}
	t.Run("reused", func(t *testing.T) {
		wt := newWebTest(t)
		wt.requestLink(t, emailA)
		token := wt.lastLinkToken(t, emailA)
		if rec := wt.useLink(t, token, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("first use: %d", rec.Code)
		}
		invalid(t, wt.useLink(t, token, ""))
	})
	t.Run("fetching the page uses nothing up", func(t *testing.T) {
		wt := newWebTest(t)
		wt.requestLink(t, emailA)
		token := wt.lastLinkToken(t, emailA)
		for range 3 {
			wt.do(t, request{method: "GET", path: signInLinkPath + "?token=" + url.QueryEscape(token)})
		}
		if rec := wt.useLink(t, token, ""); rec.Code != http.StatusSeeOther {
			t.Errorf("after three fetches: %d", rec.Code)
		}
	})
	t.Run("expired", func(t *testing.T) {
		wt := newWebTest(t)
		wt.requestLink(t, emailA)
		wt.advance(signin.LinkTTL)
		invalid(t, wt.useLink(t, wt.lastLinkToken(t, emailA), ""))
	})
	t.Run("member deleted", func(t *testing.T) {
		wt := newWebTest(t)
		wt.requestLink(t, emailA)
		if err := wt.store.DeleteMember(context.Background(), clientA, memberA); err != nil {
			t.Fatal(err)
		}
		invalid(t, wt.useLink(t, wt.lastLinkToken(t, emailA), ""))
	})
	t.Run("unknown", func(t *testing.T) {
		wt := newWebTest(t)
		invalid(t, wt.useLink(t, signin.NewLinkToken(), ""))
	})
}

func TestWebSessions(t *testing.T) {
	t.Run("no or forged cookie goes to sign-in", func(t *testing.T) {
		wt := newWebTest(t)
		for _, c := range []string{"", "forged", signin.NewSessionID(), signin.Hash(wt.signIn(t, emailA))} {
			rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: c})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != signInPath {
				t.Errorf("cookie %q: %d %s, want 303 to sign-in", c, rec.Code, rec.Header().Get("Location"))
			}
		}
	})
	t.Run("new session id at sign-in", func(t *testing.T) {
		wt := newWebTest(t)
		old := wt.signIn(t, emailA)
		wt.requestLink(t, emailA)
		rec := wt.useLink(t, wt.lastLinkToken(t, emailA), old)
		fresh := sessionCookieOf(t, rec)
		if fresh == old {
			t.Fatal("sign-in kept the session id the browser had")
		}
		if rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: old}); rec.Code != http.StatusSeeOther {
			t.Errorf("old session still works: %d", rec.Code)
		}
		wt.settings(t, fresh, "")
	})
	t.Run("member deleted ends the session at once", func(t *testing.T) {
		wt := newWebTest(t)
		c := wt.signIn(t, emailA)
		wt.settings(t, c, "")
		if err := wt.store.DeleteMember(context.Background(), clientA, memberA); err != nil {
			t.Fatal(err)
		}
		if rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: c}); rec.Code != http.StatusSeeOther {
			t.Errorf("after delete: %d, want 303", rec.Code)
		}
	})
	t.Run("idle and sign-out", func(t *testing.T) {
		wt := newWebTest(t)
		c := wt.signIn(t, emailA)
		wt.advance(signin.IdleTimeout + signin.TouchEvery)
		if rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: c}); rec.Code != http.StatusSeeOther {
			t.Errorf("idle 12h05m: %d, want 303", rec.Code)
		}
		c = wt.signIn(t, emailA)
		if rec := wt.post(t, c, signOutPath, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != signInPath {
			t.Fatalf("sign out: %d", rec.Code)
		}
		if rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: c}); rec.Code != http.StatusSeeOther {
			t.Errorf("after sign-out: %d, want 303", rec.Code)
		}
	})
	t.Run("several accounts pick one", func(t *testing.T) {
		wt := newWebTest(t)
		if _, _, err := wt.store.CreateMember(context.Background(), clientB, emailA); err != nil {
			t.Fatal(err)
		}
		c := wt.signIn(t, emailA)
		rec := wt.do(t, request{method: "GET", path: settingsPath, cookie: c})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != accountsPath {
			t.Fatalf("unbound session: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		page := wt.do(t, request{method: "GET", path: accountsPath, cookie: c}).Body.String()
		if !strings.Contains(page, "Account 116078") || !strings.Contains(page, "Account 200") {
			t.Errorf("accounts page lacks an account:\n%s", page)
		}
		if rec := wt.post(t, c, accountsPath, url.Values{"client_id": {"300"}}); rec.Code != http.StatusNotFound {
			t.Errorf("pick another's account: %d, want 404", rec.Code)
		}
		if rec := wt.post(t, c, accountsPath, url.Values{"client_id": {"200"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("pick: %d", rec.Code)
		}
		if body := wt.settings(t, c, ""); !strings.Contains(body, "Webhooks of account 200") {
			t.Errorf("settings after pick is not account 200's")
		}
	})
}

// TestWebStateChangesNeedOriginAndCSRF: every POST is refused (403, nothing
// changed) without the session's CSRF token, with another session's, from
// another origin, or without an Origin header.
func TestWebStateChangesNeedOriginAndCSRF(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	other := wt.signIn(t, emailA)
	h := wt.store.seedHook(clientA, "https://example.com/a", false)
	posts := []struct {
		path string
		form url.Values
	}{
		{settingsHooks, url.Values{"url": {"https://example.com/new"}, "destination_id": {"12345"}}},
		{settingsHooks + "/1/disable", url.Values{}},
		{settingsHooks + "/1/delete", url.Values{}},
		{settingsHooks + "/1/rotate-secret", url.Values{}},
		{settingsHooks + "/1/test", url.Values{}},
		{settingsHooks + "/1/replay", url.Values{"since": {"2026-07-16"}}},
		{settingsHooks + "/1/deliveries/" + delivery.ID("load-1") + "/resend", url.Values{}},
		{settingsAlerts, url.Values{"email": {"x@example.com"}}},
		{settingsHooks + "/1/subscription", url.Values{"events": {"run_completed"}}},
		{settingsFreshness, url.Values{"integration_name": {"s"}, "table": {"t"}, "max_interval": {"1h"}}},
		{signOutPath, url.Values{}},
	}
	for _, p := range posts {
		cases := []struct {
			name string
			rq   request
		}{
			{"no csrf", request{method: "POST", path: p.path, form: p.form, cookie: c}},
			{"another session's csrf", request{method: "POST", path: p.path, form: with(p.form, csrfField, signin.CSRFToken(other)), cookie: c}},
			{"cross origin", request{method: "POST", path: p.path, form: with(p.form, csrfField, signin.CSRFToken(c)), cookie: c, origin: "https://evil.example"}},
			{"no origin", request{method: "POST", path: p.path, form: with(p.form, csrfField, signin.CSRFToken(c)), cookie: c, origin: "-"}},
		}
		for _, tc := range cases {
			if rec := wt.do(t, tc.rq); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", p.path, tc.name, rec.Code)
			}
		}
	}
	if rec := wt.do(t, request{method: "POST", path: signInPath, form: url.Values{"email": {emailA}}, origin: "https://evil.example"}); rec.Code != http.StatusForbidden {
		t.Errorf("cross-origin sign-in request: %d, want 403", rec.Code)
	}
	got, _ := wt.store.hook(clientA, h.ID)
	hooks, _ := wt.store.ListHooks(context.Background(), clientA)
	acct, _ := wt.store.Account(context.Background(), clientA)
	rules, _ := wt.store.FreshnessRules(context.Background(), clientA)
	if !got.Enabled() || got.Secret != h.Secret || got.EventTypes != nil || len(rules) != 0 || len(hooks) != 1 || len(acct.AlertEmails) != 0 || len(wt.sender.sent()) != 0 {
		t.Errorf("a refused request changed something: hook %+v, %d hooks, alerts %v, %d tests sent", got, len(hooks), acct.AlertEmails, len(wt.sender.sent()))
	}
	wt.settings(t, c, "") // not signed out
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = vv
	}
	out.Set(k, val)
	return out
}

func TestWebCrossAccountHookIDs(t *testing.T) {
	wt := newWebTest(t)
	theirs := wt.store.seedHook(clientB, "https://b.example.com/theirs", false)
	c := wt.signIn(t, emailA)
	for _, action := range []string{"disable", "enable", "delete", "rotate-secret", "test", "subscription", "replay",
		"deliveries/" + delivery.ID("load-1") + "/resend"} {
		rec := wt.post(t, c, settingsHooks+"/"+itoa(theirs.ID)+"/"+action, nil)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "theirs") {
			t.Errorf("%s another account's hook: %d, want 404 without it", action, rec.Code)
		}
	}
	if h, ok := wt.store.hook(clientB, theirs.ID); !ok || !h.Enabled() || h.Secret != theirs.Secret || len(wt.sender.sent()) != 0 {
		t.Errorf("another account's hook changed or was sent a test: %+v %v", h, ok)
	}
	if body := wt.settings(t, c, "?delete="+itoa(theirs.ID)); strings.Contains(body, "theirs") {
		t.Errorf("confirmation page shows another account's hook")
	}
	for _, bad := range []string{"0", "-1", "01", "abc", "99999999999999999999"} {
		if rec := wt.post(t, c, settingsHooks+"/"+bad+"/disable", nil); rec.Code != http.StatusNotFound {
			t.Errorf("hook id %q: %d, want 404", bad, rec.Code)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestWebEscapesHookURLs(t *testing.T) {
	wt := newWebTest(t)
	evil := `https://example.com/"><script>alert(1)</script><img src=x onerror=alert(2)>`
	wt.store.seedHook(clientA, evil, false)
	c := wt.signIn(t, emailA)
	for _, q := range []string{"", "?delete=1"} {
		body := wt.settings(t, c, q)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatalf("page %q holds the URL unescaped", q)
		}
		if !strings.Contains(body, html.EscapeString(`"><script>alert(1)</script>`)) && !strings.Contains(body, "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("page %q does not show the URL escaped", q)
		}
	}
	rec := wt.post(t, c, settingsHooks, url.Values{"url": {`javascript:alert(1)//"><script>x</script>`}, "destination_id": {"12345"}})
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "<script>x") || !strings.Contains(rec.Body.String(), `<p id="url-error" class="error">Invalid URI</p>`) {
		t.Errorf("invalid URL echoed: %d", rec.Code)
	}
}

// TestWebHookFlows walks every flow of the page against the fake store and
// checks the page against the store's (the API's) view after each step.
func TestWebHookFlows(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	ctx := context.Background()

	body := wt.settings(t, c, "")
	for _, want := range []string{"<h1>Notification Settings</h1>", "Post-load hooks", "No webhooks yet.", `href="/app/settings/notifications?add=1#add">Add Webhook</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
	body = wt.settings(t, c, "?add=1")
	if !strings.Contains(body, `<label for="url">Webhook URL</label>`) || !strings.Contains(body, "Save Webhook") || !strings.Contains(body, `name="destination_id" value="12345"`) {
		t.Errorf("add form missing its field, button or preselected destination")
	}

	// Save Webhook: the secret once.
	rec := wt.post(t, c, settingsHooks, url.Values{"url": {"https://hooks.example.com/a"}, "destination_id": {"12345"}})
	h, _ := wt.store.hook(clientA, 1)
	if rec.Code != http.StatusOK || h.Secret == "" || !strings.Contains(html.UnescapeString(rec.Body.String()), `value="`+h.Secret+`"`) || !strings.Contains(rec.Body.String(), `data-copy="secret"`) {
		t.Fatalf("save: %d, secret shown: %v", rec.Code, strings.Contains(html.UnescapeString(rec.Body.String()), h.Secret))
	}
	if audit := h.Audit; len(audit) != 1 || audit[0].By != memberA {
		t.Errorf("audit %+v, want created by %s", audit, memberA)
	}
	if strings.Contains(html.UnescapeString(wt.settings(t, c, "")), h.Secret) {
		t.Errorf("secret shown again")
	}

	// Errors beside the field, in the API's words.
	for _, tc := range []struct{ url, dest, want string }{
		{"http://hooks.example.com/a", "12345", "Invalid URI"},
		{"https://hooks.example.com/a", "12345", "Duplicate URI"},
		{"https://hooks.example.com/b", "999", "Invalid destination_id"},
	} {
		rec := wt.post(t, c, settingsHooks, url.Values{"url": {tc.url}, "destination_id": {tc.dest}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `<p id="url-error" class="error">`+tc.want+`</p>`) {
			t.Errorf("%s: %d, want %q beside the field", tc.url, rec.Code, tc.want)
		}
	}

	// Disable, re-enable, delete (with its confirmation).
	for _, step := range []struct{ action, status string }{{"disable", "Disabled by a team member"}, {"enable", "Enabled"}} {
		rec := wt.post(t, c, settingsHooks+"/1/"+step.action, nil)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d", step.action, rec.Code)
		}
		body := wt.settings(t, c, "?notice="+step.action+"d")
		h, _ := wt.store.hook(clientA, 1)
		if !strings.Contains(body, ">"+step.status+"</span>") || (step.action == "disable") == h.Enabled() {
			t.Errorf("after %s: page status or store (enabled %v) wrong", step.action, h.Enabled())
		}
	}
	body = wt.settings(t, c, "?delete=1")
	if !strings.Contains(body, "Delete this webhook?") || !strings.Contains(body, `action="/app/settings/notifications/hooks/1/delete"`) {
		t.Errorf("no delete confirmation")
	}
	if rec := wt.post(t, c, settingsHooks+"/1/delete", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if hooks, _ := wt.store.ListHooks(ctx, clientA); len(hooks) != 0 || !strings.Contains(wt.settings(t, c, "?notice=deleted"), "Webhook deleted.") {
		t.Errorf("after delete: %d hooks", len(hooks))
	}

	// The 10-hook state.
	for i := range hook.MaxHooks {
		wt.store.seedHook(clientA, "https://hooks.example.com/n"+itoa(int64(i)), false)
	}
	body = wt.settings(t, c, "?add=1")
	if !strings.Contains(body, `<button type="button" disabled aria-describedby="add-blocked">Add Webhook</button>`) || !strings.Contains(body, "limit of 10 hooks") || strings.Contains(body, "Save Webhook") {
		t.Errorf("10 hooks: Add Webhook not unavailable with the reason")
	}
	rec = wt.post(t, c, settingsHooks, url.Values{"url": {"https://hooks.example.com/11"}, "destination_id": {"12345"}})
	if !strings.Contains(rec.Body.String(), "You have exceeded the limit of 10 hooks.") {
		t.Errorf("11th hook: %d without the API's limit message", rec.Code)
	}

	// Downgrade, then upgrade: disabled by the plan, each with Re-enable.
	if _, _, err := wt.store.UpdateAccount(ctx, clientA, store.AccountUpdate{Plan: new("standard")}); err != nil {
		t.Fatal(err)
	}
	body = wt.settings(t, c, "")
	if !strings.Contains(body, upgradeText) || strings.Contains(body, "Re-enable this webhook") || strings.Count(body, "Disabled by a plan downgrade") != hook.MaxHooks {
		t.Errorf("downgraded page wrong")
	}
	seeded := wt.store.Hooks(clientA)
	rec = wt.post(t, c, settingsHooks+"/"+itoa(seeded[0].ID)+"/enable", nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Client does not have access to hooks.") {
		t.Errorf("re-enable on a plan without the feature: %d", rec.Code)
	}
	if _, _, err := wt.store.UpdateAccount(ctx, clientA, store.AccountUpdate{Plan: new("advanced")}); err != nil {
		t.Fatal(err)
	}
	body = wt.settings(t, c, "")
	if strings.Count(body, "Disabled by a plan downgrade") != hook.MaxHooks || strings.Count(body, "Re-enable this webhook") != hook.MaxHooks {
		t.Errorf("upgraded page: hooks not each disabled with Re-enable")
	}
}

func TestWebPlanAndDestinationStates(t *testing.T) {
	wt := newWebTest(t)
	ctx := context.Background()
	c := wt.signIn(t, "memberstd@example.com")
	body := wt.settings(t, c, "?add=1")
	if !strings.Contains(body, upgradeText) || strings.Contains(body, "Save Webhook") {
		t.Errorf("plan without the feature: upgrade text missing or form shown")
	}
	rec := wt.post(t, c, settingsHooks, url.Values{"url": {"https://hooks.example.com/a"}, "destination_id": {"12345"}})
	if !strings.Contains(rec.Body.String(), "Client does not have access to hooks.") {
		t.Errorf("create on a plan without the feature: %d", rec.Code)
	}

	none := []hook.Destination{}
	if _, _, err := wt.store.UpdateAccount(ctx, clientA, store.AccountUpdate{Destinations: &none}); err != nil {
		t.Fatal(err)
	}
	ca := wt.signIn(t, emailA)
	if body := wt.settings(t, ca, "?add=1"); !strings.Contains(body, "Set up a destination first") || strings.Contains(body, "Save Webhook") {
		t.Errorf("no destination: not told to set one up")
	}
	rec = wt.post(t, ca, settingsHooks, url.Values{"url": {"https://hooks.example.com/a"}})
	if !strings.Contains(rec.Body.String(), "Client does not have a destination.") {
		t.Errorf("create without destinations: %d", rec.Code)
	}
	two := []hook.Destination{{ID: 5, Type: "snowflake"}, {ID: 6, Type: "s3"}}
	if _, _, err := wt.store.UpdateAccount(ctx, clientA, store.AccountUpdate{Destinations: &two}); err != nil {
		t.Fatal(err)
	}
	body = wt.settings(t, ca, "?add=1")
	if !strings.Contains(body, `<select id="destination" name="destination_id">`) || !strings.Contains(body, `<option value="5" selected>snowflake (5)</option>`) {
		t.Errorf("several destinations: no choice, or the first not preselected")
	}
	if rec := wt.post(t, ca, settingsHooks, url.Values{"url": {"https://hooks.example.com/six"}, "destination_id": {"6"}}); rec.Code != http.StatusOK {
		t.Fatalf("create on destination 6: %d", rec.Code)
	}
	hooks := wt.store.Hooks(clientA)
	if len(hooks) != 1 || hooks[0].URL != "https://hooks.example.com/six" || hooks[0].DestinationID != 6 {
		t.Errorf("hooks after the create on destination 6: %+v, want the one, on destination 6", hooks)
	}
}

func TestWebAlertAddresses(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	ctx := context.Background()
	if rec := wt.post(t, c, settingsAlerts, url.Values{"email": {"ops@example.com"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add: %d", rec.Code)
	}
	if a, _ := wt.store.Account(ctx, clientA); len(a.AlertEmails) != 1 || a.AlertEmails[0] != "ops@example.com" {
		t.Errorf("alert emails %v", a.AlertEmails)
	}
	for _, tc := range []struct{ email, want string }{{"OPS@example.com", "already in the list"}, {"Ops <ops@example.com>", "Enter an email address"}} {
		rec := wt.post(t, c, settingsAlerts, url.Values{"email": {tc.email}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%q: %d, want %q", tc.email, rec.Code, tc.want)
		}
	}
	if body := wt.settings(t, c, "?notice=alert-added"); !strings.Contains(body, "<span>ops@example.com</span>") {
		t.Errorf("address not listed")
	}
	if rec := wt.post(t, c, settingsAlerts, url.Values{"remove": {"ops@example.com"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d", rec.Code)
	}
	if a, _ := wt.store.Account(ctx, clientA); len(a.AlertEmails) != 0 {
		t.Errorf("after remove: %v", a.AlertEmails)
	}
}

// TestWebLogsNoSecrets: tokens, secrets, session ids and addresses never
// reach the logs.
func TestWebLogsNoSecrets(t *testing.T) {
	wt := newWebTest(t)
	c := wt.signIn(t, emailA)
	token := wt.lastLinkToken(t, emailA)
	rec := wt.post(t, c, settingsHooks, url.Values{"url": {"https://hooks.example.com/a"}, "destination_id": {"12345"}})
	h, _ := wt.store.hook(clientA, 1)
	if rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	logs := wt.logs.String()
	for _, secret := range []string{c, signin.Hash(c), token, h.Secret, emailA, signin.CSRFToken(c)} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q", secret)
		}
	}
	if !strings.Contains(logs, `"msg":"signed in"`) {
		t.Errorf("no sign-in log line: %s", logs)
	}
}

func TestWebStaticAndRedirects(t *testing.T) {
	wt := newWebTest(t)
	for _, p := range []string{"/app/static/app.css", "/app/static/app.js"} {
		rec := wt.do(t, request{method: "GET", path: p})
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if rec := wt.do(t, request{method: "GET", path: "/app/static/"}); rec.Code != http.StatusNotFound {
		t.Errorf("static listing: %d, want 404", rec.Code)
	}
	if rec := wt.do(t, request{method: "GET", path: "/app"}); rec.Code != http.StatusSeeOther {
		t.Errorf("/app: %d", rec.Code)
	}
}

// TestWebUnknownPaths: a path under /app that no route serves, or a method
// its route does not take, answers the app's HTML page (404, or 405 with
// Allow) with every security header of the app; the API's JSON answers stay
// for every other path, /application included.
func TestWebUnknownPaths(t *testing.T) {
	wt := newWebTest(t)
	cookie := wt.signIn(t, emailA)
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/app/nope", http.StatusNotFound, ""},
		{"GET", "/app/", http.StatusNotFound, ""},
		{"GET", "/app/settings/unknown", http.StatusNotFound, ""},
		{"GET", "/app/settings/notifications/", http.StatusNotFound, ""},
		{"GET", "/app//settings/notifications", http.StatusNotFound, ""},
		{"GET", "/app/%73ettings/notifications", http.StatusNotFound, ""},
		{"DELETE", "/app/settings/notifications", http.StatusMethodNotAllowed, "GET"},
		{"GET", settingsHooks, http.StatusMethodNotAllowed, "POST"},
		{"POST", appPath, http.StatusMethodNotAllowed, "GET"},
		{"PUT", signInPath, http.StatusMethodNotAllowed, "GET, POST"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := wt.do(t, request{method: tt.method, path: tt.path, cookie: cookie})
			h := rec.Header()
			if rec.Code != tt.status || h.Get("Allow") != tt.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", rec.Code, h.Get("Allow"), tt.status, tt.allow)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("headers %v, want X-Frame-Options DENY, Cache-Control no-store, HTML", h)
			}
			title := "Page not found"
			if tt.status == http.StatusMethodNotAllowed {
				title = "Method not allowed"
			}
			if body := rec.Body.String(); !strings.Contains(body, "<h1>"+title+"</h1>") || !strings.Contains(body, `href="`+settingsPath+`"`) {
				t.Errorf("body %s, want the app's page %q with a link to the settings", body, title)
			}
		})
	}
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/nope", bodyNotFound},
		{"GET", "/application", bodyNotFound},
		{"GET", "/apps/x", bodyNotFound},
		{"GET", "//app/x", bodyNotFound},
		{"DELETE", "/healthz", bodyMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		wt.handler.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if got := rec.Body.String(); got != tt.body || rec.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("%s %s: %d %s CSP %q, want the API's %s without the app's headers", tt.method, tt.path, rec.Code, got, rec.Header().Get("Content-Security-Policy"), tt.body)
		}
	}
}

// TestWebUnknownOriginRefusesChanges: with no HOOKS_APP_URL and no API
// Gateway domain to take the origin from, every state change is refused,
// with or without an Origin header.
func TestWebUnknownOriginRefusesChanges(t *testing.T) {
	h := routes(discardLogger(), newTestStore(func() time.Time { return testNow }), tokenAdmin(adminToken), hooksConfig{}, webConfig{})
	for _, origin := range []string{"", "http://example.com"} {
		req := httptest.NewRequest("POST", signInPath, strings.NewReader("email=a%40example.com"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("Origin %q: %d, want 403", origin, rec.Code)
		}
	}
}

// TestWebRotateSecret: Rotate secret shows the new secret once, says until
// when the old one still signs, and changes the stored secret; the page
// never shows it again.
func TestWebRotateSecret(t *testing.T) {
	wt := newWebTest(t)
	old := wt.store.seedHook(clientA, "https://hooks.example.com/a", false)
	c := wt.signIn(t, emailA)
	if body := wt.settings(t, c, ""); !strings.Contains(body, `action="/app/settings/notifications/hooks/1/rotate-secret#secret-box"`) {
		t.Fatal("no Rotate secret action")
	}
	rec := wt.post(t, c, settingsHooks+"/1/rotate-secret", nil)
	h, _ := wt.store.hook(clientA, 1)
	page := html.UnescapeString(rec.Body.String())
	if rec.Code != http.StatusOK || h.Secret == old.Secret || h.PreviousSecret != old.Secret || !strings.Contains(page, `value="`+h.Secret+`"`) {
		t.Fatalf("rotate: %d, new secret shown: %v", rec.Code, strings.Contains(page, h.Secret))
	}
	until := testNow.Add(24 * time.Hour).Truncate(time.Second).Format("2006-01-02T15:04:05Z07:00")
	for _, want := range []string{"New signing secret", `<time datetime="` + until + `">Jul 17, 2026 16:47 UTC</time>`, "two signatures"} {
		if !strings.Contains(page, want) {
			t.Errorf("rotation page lacks %q", want)
		}
	}
	if strings.Contains(page, old.Secret) {
		t.Error("rotation page shows the old secret")
	}
	if got := html.UnescapeString(wt.settings(t, c, "")); strings.Contains(got, h.Secret) {
		t.Error("new secret shown again")
	}
	// A disabled hook, on a plan without the feature, still rotates.
	if _, _, err := wt.store.UpdateAccount(context.Background(), clientA, store.AccountUpdate{Plan: new("standard")}); err != nil {
		t.Fatal(err)
	}
	if rec := wt.post(t, c, settingsHooks+"/1/rotate-secret", nil); rec.Code != http.StatusOK {
		t.Errorf("rotate after a downgrade: %d", rec.Code)
	}
}

// TestWebSendTest: Send test sends one test notification and shows its
// attempt; a disabled hook and a plan without the feature are refused in
// the API's words, sending nothing.
func TestWebSendTest(t *testing.T) {
	wt := newWebTest(t)
	wt.store.seedHook(clientA, "https://hooks.example.com/a", false)
	c := wt.signIn(t, emailA)
	if body := wt.settings(t, c, ""); !strings.Contains(body, `action="/app/settings/notifications/hooks/1/test#test-result"`) {
		t.Fatal("no Send test action")
	}
	wt.sender.attempt = delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503, LatencyMs: 42, Snippet: `<b>down</b>`}
	rec := wt.post(t, c, settingsHooks+"/1/test", nil)
	body := rec.Body.String()
	for _, want := range []string{`id="test-result"`, `<strong class="status off">http_status</strong>, HTTP 503, in 42 ms`, `<pre class="snippet">&lt;b&gt;down&lt;/b&gt;</pre>`, "not retried"} {
		if !strings.Contains(body, want) {
			t.Errorf("test page lacks %q", want)
		}
	}
	if rec.Code != http.StatusOK || len(wt.sender.sent()) != 1 || wt.sender.sent()[0].URL != "https://hooks.example.com/a" {
		t.Fatalf("test: %d, %d sent", rec.Code, len(wt.sender.sent()))
	}

	wt.sender.attempt = delivery.Attempt{Outcome: delivery.OutcomeConnection, LatencyMs: 3}
	if body := wt.post(t, c, settingsHooks+"/1/test", nil).Body.String(); !strings.Contains(body, "connection_error</strong>, no response, in 3 ms") {
		t.Error("no-response attempt not shown")
	}

	if rec := wt.post(t, c, settingsHooks+"/1/disable", nil); rec.Code != http.StatusSeeOther {
		t.Fatal(rec.Code)
	}
	if body := wt.settings(t, c, ""); strings.Contains(body, "/1/test") {
		t.Error("Send test offered on a disabled hook")
	}
	rec = wt.post(t, c, settingsHooks+"/1/test", nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Hook is disabled.") {
		t.Errorf("test of a disabled hook: %d", rec.Code)
	}
	if _, _, err := wt.store.UpdateAccount(context.Background(), clientA, store.AccountUpdate{Plan: new("standard")}); err != nil {
		t.Fatal(err)
	}
	rec = wt.post(t, c, settingsHooks+"/1/test", nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Client does not have access to hooks.") {
		t.Errorf("test on a plan without the feature: %d", rec.Code)
	}
	if n := len(wt.sender.sent()); n != 2 {
		t.Errorf("%d tests sent, want the 2 allowed ones", n)
	}
}
