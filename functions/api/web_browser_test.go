package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color/palette"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// The browser test: headless Chromium, driven with chromedp, goes through
// every flow of the web app on the real handler over DynamoDB Local and the
// SES emulator (the emulators scripts/dev runs). It signs in through the
// link it finds in the emulator's mailbox, checks what each page shows
// against the admin API's view of the account, runs axe-core on every state
// at 1280 and 375 px wide (no violation allowed) and takes screenshots.
//
// Chromium comes from HOOKS_CHROMIUM (else chromium on PATH), axe-core from
// HOOKS_AXE_JS (else .local/tools/axe-core-<version>/axe.min.js); scripts/test
// installs both. HOOKS_SCREENSHOTS_DIR keeps the screenshots (the committed
// ones in web/screenshots come from a run with it set there).

// requireTool fails (under scripts/test or CI) or skips when path is empty.
func requireTool(t *testing.T, path, what string) {
	t.Helper()
	if path != "" {
		return
	}
	msg := what + " not found: run scripts/test (it installs it)"
	if os.Getenv("CI") == "true" || os.Getenv("HOOKS_REQUIRE_EMULATORS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func chromiumPath() string {
	if p := os.Getenv("HOOKS_CHROMIUM"); p != "" {
		return p
	}
	p, _ := exec.LookPath("chromium")
	return p
}

func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HOOKS_AXE_JS")
	if p == "" {
		matches, _ := filepath.Glob("../../.local/tools/axe-core-*/axe.min.js")
		if len(matches) > 0 {
			p = matches[len(matches)-1]
		}
	}
	requireTool(t, p, "axe-core")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	return string(b)
}

// browserStack is the app on the emulators, one account with one member.
type browserStack struct {
	url, sesURL string
	receiver    *testReceiver // where Send test goes, on loopback
	clientID    int64
	email       string
	store       *store.Store
	sqs         *sqs.Client
	retryQueue  string // where Resend and Replay queue their retry messages
}

// browserReplayRate is the stack's HOOKS_REPLAY_RATE.
const browserReplayRate = 2

func newBrowserStack(t *testing.T) *browserStack {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	ses, sesURL := devstack.SESv2(t)
	client, queues := devstack.SQS(t)
	st := store.New(db, table, time.Now)
	rc := newTestReceiver(t)
	sender, err := webhook.NewClient(webhook.Options{Timeout: testSendTimeout, AllowPrivate: true, ExtraCAFile: rc.caFile})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	srv.Config.Handler = routes(discardLogger(), newDynamoStore(st), tokenAdmin(adminToken),
		hooksConfig{allowPrivate: true, sender: sender, retries: sqsRetryQueue{client: client, url: queues.Retry}, replayRate: browserReplayRate},
		webConfig{mail: ses, from: "hooks@example.com", appURL: base})
	srv.Start()
	t.Cleanup(srv.Close)
	b := &browserStack{url: srv.URL, sesURL: sesURL, receiver: rc, store: st, clientID: time.Now().UnixNano() % 1_000_000_000,
		sqs: client, retryQueue: queues.Retry}
	b.email = fmt.Sprintf("ana+%d@example.com", b.clientID)
	b.admin(t, "POST", "/admin/v1/accounts", fmt.Sprintf(`{"client_id":%d,"plan":"advanced","alert_emails":[],"destinations":[{"id":12345,"type":"s3"}]}`, b.clientID), http.StatusCreated, nil)
	b.admin(t, "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", b.clientID), `{"email":"`+b.email+`"}`, http.StatusCreated, nil)
	return b
}

// admin calls the admin API and decodes the answer into v.
func (b *browserStack) admin(t *testing.T, method, path, body string, want int, v any) {
	t.Helper()
	b.call(t, method, path, bearer(adminToken), body, want, v)
}

func (b *browserStack) call(t *testing.T, method, path, auth, body string, want int, v any) {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, got, want)
	}
	if v != nil {
		if err := json.Unmarshal(got, v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// apiHooks is the admin API's view of the account's hooks.
func (b *browserStack) apiHooks(t *testing.T) []hookJSON {
	t.Helper()
	var l struct {
		PostLoad []hookJSON `json:"post_load"`
	}
	b.admin(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d/hooks", b.clientID), "", http.StatusOK, &l)
	return l.PostLoad
}

var sesLinkPattern = regexp.MustCompile(`http://127\.0\.0\.1:\d+/app/sign-in/link\?token=[A-Za-z0-9_%-]+`)

// signInLink is the link of the latest sign-in email to b.email in the
// SES emulator's mailbox.
func (b *browserStack) signInLink(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(b.sesURL + "/store")
		if err != nil {
			t.Fatalf("GET /store: %v", err)
		}
		var st struct {
			Emails []struct {
				Destination struct{ To []string } `json:"destination"`
				Subject     string                `json:"subject"`
				Body        struct{ Text string } `json:"body"`
			} `json:"emails"`
		}
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil {
			t.Fatalf("decode /store: %v", err)
		}
		for i := len(st.Emails) - 1; i >= 0; i-- {
			m := st.Emails[i]
			if slices.Contains(m.Destination.To, b.email) {
				if link := sesLinkPattern.FindString(m.Body.Text); link != "" {
					return link
				}
				t.Fatalf("sign-in email without a link: %q", m.Body.Text)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in email to %s in the SES emulator", b.email)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t     *testing.T
	ctx   context.Context
	axe   string
	shots string
	// keep is set when the screenshots are kept (HOOKS_SCREENSHOTS_DIR):
	// they are then made small for the repository.
	keep bool

	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	requireTool(t, path, "chromium")
	axe := axeSource(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	shots := os.Getenv("HOOKS_SCREENSHOTS_DIR")
	keep := shots != ""
	if !keep {
		shots = t.TempDir()
	}
	br := &browser{t: t, ctx: ctx, axe: axe, shots: shots, keep: keep}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Script errors and the browser's own complaints (a refused
	// Content-Security-Policy, a failed load) fail the state they happen in.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A form answered 400 or 404 (an error shown beside its
			// field, a link used up) is logged by the browser, as meant.
			expected := m.Source == "network" && strings.Contains(m.Text, "the server responded with a status of 4")
			if !expected && (m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning) {
				br.mu.Lock()
				br.console = append(br.console, m.String())
				br.mu.Unlock()
			}
		}
	}()
	return br
}

func (br *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		br.t.Fatalf("%s: %v\npage:\n%s", what, err, br.dump())
	}
}

// navigate runs steps that load a new page (a click on a link or a
// button, a form sent) and waits until the new page has replaced the old one
// and shows then (an XPath or a CSS selector): waiting for then alone could
// find it on the old page.
func (br *browser) navigate(what, then string, steps ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	get(br, "mark the page", chromedp.Evaluate[bool](`window.oldPage = true`))
	br.do(what, steps...)
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(br.ctx, 2*time.Second)
		old, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.oldPage === true && document.readyState === "complete"`))
		cancel()
		if err == nil && !old {
			break
		}
		if time.Now().After(deadline) {
			br.t.Fatalf("%s: no new page\npage:\n%s", what, br.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
	br.do(what+": wait for "+then, chromedp.WaitVisible(then))
}

// dump is the current page's location and text, for a failure message.
func (br *browser) dump() string {
	ctx, cancel := context.WithTimeout(br.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// get runs one action that reads a value.
func get[T any](br *browser, what string, a chromedp.Action[T]) T {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		br.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text is the visible text of the page's main element.
func (br *browser) text() string {
	br.t.Helper()
	return get(br, "read the page", chromedp.Text(chromedp.CSS("main")))
}

func (br *browser) path() string {
	br.t.Helper()
	return get(br, "read the location", chromedp.Evaluate[string](`location.pathname`))
}

// state checks the current page at 1280 and 375 px: no axe-core violation,
// no console error, no sideways scrolling; and takes a screenshot at each
// width.
func (br *browser) state(name string) {
	br.t.Helper()
	for _, width := range []int64{1280, 375} {
		br.do("resize", chromedp.EmulateViewport(width, 900))
		if violations := br.axeViolations(name); violations != "[]" {
			br.t.Errorf("%s at %d px: axe-core violations: %s", name, width, violations)
		}
		if get(br, "measure", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`)) {
			br.t.Errorf("%s at %d px: the page scrolls sideways", name, width)
		}
		shot := get(br, "screenshot", chromedp.CaptureScreenshot())
		if br.keep {
			var err error
			if shot, err = smallPNG(shot); err != nil {
				br.t.Fatalf("screenshot of %s: %v", name, err)
			}
		}
		if err := os.WriteFile(filepath.Join(br.shots, fmt.Sprintf("%s-%d.png", name, width)), shot, 0o644); err != nil {
			br.t.Fatal(err)
		}
	}
	br.do("resize", chromedp.EmulateViewport(1280, 900))
	br.mu.Lock()
	defer br.mu.Unlock()
	if len(br.console) > 0 {
		br.t.Errorf("%s: console: %v", name, br.console)
		br.console = nil
	}
}

// smallPNG re-encodes a screenshot with the 216 web-safe colours, which
// keep a page of flat colours legible at a quarter of the size. Each
// channel is rounded to the nearest multiple of 0x33, the palette's steps.
func smallPNG(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var index [6][6][6]uint8
	for i, c := range palette.WebSafe {
		r, g, b, _ := c.RGBA()
		index[r>>8/0x33][g>>8/0x33][b>>8/0x33] = uint8(i)
	}
	bounds := img.Bounds()
	p := image.NewPaletted(bounds, palette.WebSafe)
	step := func(v uint32) uint32 { return (v>>8 + 0x33/2) / 0x33 }
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			p.SetColorIndex(x, y, index[step(r)][step(g)][step(b)])
		}
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, p); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// axeViolations runs axe-core on the page and returns its violations as
// JSON ("[]" for none).
func (br *browser) axeViolations(name string) string {
	br.t.Helper()
	get(br, "load axe-core", chromedp.Evaluate[bool](br.axe+";true"))
	return get(br, "axe-core on "+name, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)}))))`,
		chromedp.EvalAwaitPromise))
}

// expectHooks compares the page's table with the admin API's hooks: same
// URLs, in order, each with the status the API's disabled_at implies.
func (br *browser) expectHooks(b *browserStack, wantStatus ...string) {
	br.t.Helper()
	api := b.apiHooks(br.t)
	rows := get(br, "read the table", chromedp.Evaluate[[]string](`[...document.querySelectorAll("tbody tr[id^=hook-]")].map(r => r.querySelector("td.url").innerText.trim() + " | " + r.querySelector(".status").innerText.trim())`))
	if len(rows) != len(api) || len(api) != len(wantStatus) {
		br.t.Fatalf("page shows %d hooks, the API %d, want %d: %v", len(rows), len(api), len(wantStatus), rows)
	}
	for i, h := range api {
		if (h.DisabledAt == nil) != (wantStatus[i] == "Enabled") {
			br.t.Errorf("hook %d: API disabled_at %v, want status %s", h.ID, h.DisabledAt, wantStatus[i])
		}
		if want := h.Config.URL + " | " + wantStatus[i]; rows[i] != want {
			br.t.Errorf("row %d = %q, want %q", i, rows[i], want)
		}
	}
}

// menu opens a hook's menu, chooses item and waits for the XPath then.
func (br *browser) menu(hookID int64, item, then string) {
	br.t.Helper()
	row := fmt.Sprintf("#hook-%d", hookID)
	br.do("open the menu of "+row,
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.WaitVisible(chromedp.CSS(row+" .menuitems")))
	sel := fmt.Sprintf(`//tr[@id="hook-%d"]//*[contains(@class,"item") and normalize-space()=%q]`, hookID, item)
	br.navigate("choose "+item, then, chromedp.Click(sel))
}

// signIn asks for a link on the sign-in page (open), follows it from the
// SES emulator's mailbox and signs in; state is called on the link's two
// pages (br.state to check them, or a no-op). It returns the link.
func (br *browser) signIn(b *browserStack, state func(name string)) string {
	br.t.Helper()
	br.do("type the address", chromedp.SendKeys(chromedp.ID("email"), b.email))
	br.navigate("ask for a link", "//h1[.='Check your email']", chromedp.Submit(chromedp.ID("email")))
	state("sign-in-sent")
	link := b.signInLink(br.t)
	br.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible("//button[.='Sign in']"))
	state("sign-in-link")
	br.navigate("sign in", "//h1[.='Notification Settings']", chromedp.Click("//button[.='Sign in']"))
	if p := br.path(); p != settingsPath {
		br.t.Fatalf("after sign-in at %s", p)
	}
	return link
}

func TestWebBrowser(t *testing.T) {
	b := newBrowserStack(t)
	br := newBrowser(t)
	settings := b.url + settingsPath

	// Signed out: sent to sign-in; asking for a link; the link's page.
	br.do("open the app", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.ID("email")))
	if p := br.path(); p != signInPath {
		t.Fatalf("signed out, the app opened %s, want %s", p, signInPath)
	}
	br.state("sign-in")
	// The accessibility check can fail: an image without alt text is one
	// violation.
	get(br, "add an image without alt", chromedp.Evaluate[bool](`document.querySelector("main").insertAdjacentHTML("beforeend", '<img src="/app/static/icon.svg">'), true`))
	if v := br.axeViolations("canary"); !strings.Contains(v, `"image-alt"`) {
		t.Fatalf("axe-core found no image-alt violation on a page with one: %s", v)
	}
	br.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("email")))
	link := br.signIn(b, br.state)
	br.expectHooks(b)
	br.state("empty")

	// Add Webhook -> URL field -> Save Webhook, errors in the API's words.
	br.navigate("Add Webhook", "#url", chromedp.Click("//a[.='Add Webhook']"))
	br.do("type an http URL", chromedp.SendKeys(chromedp.ID("url"), "http://hooks.example.com/a"))
	br.navigate("save it", "#url-error", chromedp.Click("//button[.='Save Webhook']"))
	if s := br.text(); !strings.Contains(s, "Invalid URI") {
		t.Errorf("no Invalid URI beside the field")
	}
	br.state("add-error")
	// HTML in the URL: refused in the API's words, and shown back as text.
	htmlURL := `https://hooks.example.com/"><b>bold</b>`
	br.do("type a URL with HTML", chromedp.Clear(chromedp.ID("url")), chromedp.SendKeys(chromedp.ID("url"), htmlURL))
	br.navigate("save it", "#url-error", chromedp.Click("//button[.='Save Webhook']"))
	if got := get(br, "read the field", chromedp.Value(chromedp.ID("url"))); got != htmlURL || !strings.Contains(br.text(), "Invalid URI") {
		t.Errorf("field %q after saving %q, want it kept as text with Invalid URI", got, htmlURL)
	}
	if bolds := get(br, "count b elements", chromedp.Evaluate[int](`document.querySelectorAll("main b").length`)); bolds != 0 {
		t.Errorf("the URL's HTML was rendered (%d <b> elements)", bolds)
	}
	hookURL := "https://hooks.example.com/catch/abc?team=data"
	br.do("type a good URL", chromedp.Clear(chromedp.ID("url")), chromedp.SendKeys(chromedp.ID("url"), hookURL))
	br.navigate("save it", "#secret", chromedp.Click("//button[.='Save Webhook']"))
	secret := get(br, "read the secret", chromedp.Value(chromedp.ID("secret")))
	if !strings.HasPrefix(secret, hook.SecretPrefix) {
		t.Errorf("secret %q", secret)
	}
	if !get(br, "copy button", chromedp.Evaluate[bool](`!document.querySelector("button.copy").hidden`)) {
		t.Errorf("copy button not shown")
	}
	br.expectHooks(b, "Enabled")
	br.state("secret")
	hookID := b.apiHooks(t)[0].ID

	br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible("//h1[.='Notification Settings']"))
	if strings.Contains(br.text(), secret) {
		t.Errorf("the secret is shown a second time")
	}
	br.navigate("Add Webhook again", "#url", chromedp.Click("//a[.='Add Webhook']"))
	br.do("type the same URL", chromedp.SendKeys(chromedp.ID("url"), hookURL))
	br.navigate("save it", "#url-error", chromedp.Click("//button[.='Save Webhook']"))
	if !strings.Contains(br.text(), "Duplicate URI") {
		t.Errorf("no Duplicate URI beside the field")
	}

	// A mistyped address under /app is the app's own page, under its CSP.
	br.do("open an unknown page", chromedp.Navigate(b.url+"/app/settings/notification"), chromedp.WaitVisible("//h1[.='Page not found']"))
	br.state("not-found")
	br.navigate("follow its link", "//h1[.='Notification Settings']", chromedp.Click("//a[.='Go to Notification Settings']"))

	// The menu: disable, re-enable, delete with its confirmation.
	br.do("back", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.CSS("#hook-1")))
	// By keyboard: Enter on the icon button opens the menu, Tab reaches
	// its first action, Escape closes it again.
	summary := chromedp.CSS(fmt.Sprintf("#hook-%d summary", hookID))
	br.do("open the menu by keyboard", chromedp.Focus(summary), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".menuitems")))
	br.do("tab into it", chromedp.KeyEvent(kb.Tab))
	if got := get(br, "focused", chromedp.Evaluate[string](`document.activeElement.textContent.trim()`)); got != "Disable this webhook" {
		t.Errorf("Tab from the menu button reached %q, want Disable this webhook", got)
	}
	br.do("close it with Escape", chromedp.KeyEvent(kb.Escape))
	if open := get(br, "menu state", chromedp.Evaluate[bool](`document.querySelector("details.menu").open`)); open {
		t.Errorf("Escape left the menu open")
	}
	br.do("open it again", chromedp.Focus(summary), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".menuitems")))
	br.state("menu")
	br.do("close it", chromedp.Click(summary))
	br.menu(hookID, "Disable this webhook", "//p[.='Webhook disabled.']")
	br.expectHooks(b, "Disabled by a team member")
	br.state("disabled")
	br.menu(hookID, "Re-enable this webhook", "//p[.='Webhook re-enabled.']")
	br.expectHooks(b, "Enabled")
	br.menu(hookID, "Delete this webhook", "//h3[.='Delete this webhook?']")
	br.state("delete-confirm")
	br.navigate("Delete", "//p[.='Webhook deleted.']", chromedp.Click("//div[@id='confirm']//button[.='Delete']"))
	br.expectHooks(b)

	// Send test and Rotate secret, on a hook at the loopback receiver.
	br.navigate("Add Webhook", "#url", chromedp.Click("//a[.='Add Webhook']"))
	br.do("type the receiver's URL", chromedp.SendKeys(chromedp.ID("url"), b.receiver.URL+"/catch"))
	br.navigate("save it", "#secret", chromedp.Click("//button[.='Save Webhook']"))
	first := get(br, "read the secret", chromedp.Value(chromedp.ID("secret")))
	testID := b.apiHooks(t)[0].ID
	br.menu(testID, "Send test", "#test-result")
	if s := br.text(); !strings.Contains(s, "success, HTTP 204") || !strings.Contains(s, "not retried") {
		t.Errorf("Send test result not shown: %s", s)
	}
	br.state("test-sent")
	reqs, bodies := b.receiver.seen()
	if len(reqs) != 1 || libraryVerify(t, first, bodies[0], reqs[0].Header) != nil || bodies[0] != exampleNotification {
		t.Fatalf("receiver saw %d requests, want one example notification signed with the secret", len(reqs))
	}
	br.menu(testID, "Rotate secret", "#secret")
	second := get(br, "read the new secret", chromedp.Value(chromedp.ID("secret")))
	if !strings.HasPrefix(second, hook.SecretPrefix) || second == first || !strings.Contains(br.text(), "two signatures") {
		t.Errorf("rotation showed %q (first %q)", second, first)
	}
	br.state("rotated")
	b.receiver.answer(http.StatusServiceUnavailable, "maintenance")
	br.menu(testID, "Send test", "#test-result")
	if s := br.text(); !strings.Contains(s, "http_status, HTTP 503") || !strings.Contains(s, "maintenance") {
		t.Errorf("failed Send test not shown: %s", s)
	}
	reqs, bodies = b.receiver.seen()
	if len(reqs) != 2 {
		t.Fatalf("receiver saw %d requests, want 2", len(reqs))
	}
	for _, secret := range []string{second, first} {
		if err := libraryVerify(t, secret, bodies[1], reqs[1].Header); err != nil {
			t.Errorf("after the rotation the library refuses a secret of the overlap: %v", err)
		}
	}

	// Filter and events: the form, an error beside its field, the saved
	// values as the API shows them.
	br.menu(testID, "Edit filter and events", "#edit")
	br.state("edit-filter")
	br.do("type the tables", chromedp.SendKeys(chromedp.ID("f-tables"), "orders, orders__*"))
	br.do("choose run completed", chromedp.Click(chromedp.ID("f-event-run_completed")))
	br.navigate("save it", "//p[.='Webhook filter and events saved.']", chromedp.Click("//button[.='Save filter and events']"))
	if h := b.apiHooks(t)[0]; h.Filter == nil || !slices.Equal(h.Filter.Tables, []string{"orders", "orders__*"}) || h.Filter.Integrations != nil ||
		!slices.Equal(h.Events, []string{"table_loaded", "run_completed"}) {
		t.Errorf("saved filter %+v events %v", h.Filter, h.Events)
	}
	if s := br.text(); !strings.Contains(s, "Only tables orders, orders__*. Events: Table loaded, Run completed") {
		t.Errorf("the row does not show the saved filter: %s", s)
	}
	br.menu(testID, "Edit filter and events", "#edit")
	br.do("unchoose every event", chromedp.Click(chromedp.ID("f-event-table_loaded")), chromedp.Click(chromedp.ID("f-event-run_completed")))
	br.navigate("save it", "#f-events-error", chromedp.Click("//button[.='Save filter and events']"))
	if s := br.text(); !strings.Contains(s, "Invalid PATCH body: choose at least one event.") {
		t.Errorf("no error beside the events: %s", s)
	}
	br.state("edit-filter-error")

	// Freshness rules: an error beside its field, then a rule as stored.
	br.do("type a rule", chromedp.SendKeys(chromedp.ID("r-integration"), "shopify"), chromedp.SendKeys(chromedp.ID("r-table"), "orders"),
		chromedp.SendKeys(chromedp.ID("r-interval"), "1m"))
	br.navigate("add it", "#r-interval-error", chromedp.Click("//button[.='Add rule']"))
	if s := br.text(); !strings.Contains(s, "Rule 1: max_interval must be from 5m to 168h") {
		t.Errorf("no error beside the interval: %s", s)
	}
	br.state("freshness-error")
	br.do("fix the interval", chromedp.Clear(chromedp.ID("r-interval")), chromedp.SendKeys(chromedp.ID("r-interval"), "2h"))
	br.navigate("add it", "//p[.='Freshness rule added.']", chromedp.Click("//button[.='Add rule']"))
	rules, err := b.store.FreshnessRules(context.Background(), b.clientID)
	if err != nil || len(rules) != 1 || rules[0].IntegrationName != "shopify" || rules[0].Table != "orders" || rules[0].MaxInterval != "2h" {
		t.Errorf("stored rules %+v %v", rules, err)
	}
	br.state("freshness")
	br.navigate("remove it", "//p[.='Freshness rule removed.']", chromedp.Click("//tr[@id='rule-1']//button"))
	if rules, _ := b.store.FreshnessRules(context.Background(), b.clientID); len(rules) != 0 {
		t.Errorf("after remove: %+v", rules)
	}

	br.menu(testID, "Delete this webhook", "//h3[.='Delete this webhook?']")
	br.navigate("Delete", "//p[.='Webhook deleted.']", chromedp.Click("//div[@id='confirm']//button[.='Delete']"))
	br.expectHooks(b)

	// 10 hooks (made through the API by another member): Add Webhook is
	// unavailable and says why.
	var m memberJSON
	b.admin(t, "POST", fmt.Sprintf("/admin/v1/accounts/%d/members", b.clientID), fmt.Sprintf(`{"email":"bob+%d@example.com"}`, b.clientID), http.StatusCreated, &m)
	var statuses []string
	for i := range hook.MaxHooks {
		b.call(t, "POST", hooksPath, bearer(m.Token), fmt.Sprintf(`{"type":"post_load","destination_id":12345,"config":{"url":"https://hooks.example.com/n%d"}}`, i), http.StatusOK, nil)
		statuses = append(statuses, "Enabled")
	}
	br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.ID("add-blocked")))
	if s := br.text(); !strings.Contains(s, "limit of 10 hooks") {
		t.Errorf("10 hooks: no reason given")
	}
	br.expectHooks(b, statuses...)
	br.state("limit")

	// Downgrade: listed, disabled by the plan, no adding or re-enabling.
	b.admin(t, "PATCH", fmt.Sprintf("/admin/v1/accounts/%d", b.clientID), `{"plan":"standard"}`, http.StatusOK, nil)
	br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.ID("upgrade")))
	for i := range statuses {
		statuses[i] = "Disabled by a plan downgrade"
	}
	br.expectHooks(b, statuses...)
	if s := br.text(); !strings.Contains(s, upgradeText) {
		t.Errorf("downgraded: no upgrade text")
	}
	br.state("downgraded")
	// Upgrade: still disabled, each with Re-enable.
	b.admin(t, "PATCH", fmt.Sprintf("/admin/v1/accounts/%d", b.clientID), `{"plan":"advanced"}`, http.StatusOK, nil)
	br.do("reload", chromedp.Navigate(settings), chromedp.WaitVisible("//h1[.='Notification Settings']"))
	br.expectHooks(b, statuses...)
	reenables := get(br, "count Re-enable", chromedp.Evaluate[int](`[...document.querySelectorAll(".menuitems button")].filter(b => b.textContent.trim() == "Re-enable this webhook").length`))
	if reenables != hook.MaxHooks {
		t.Errorf("upgraded: %d Re-enable actions, want %d", reenables, hook.MaxHooks)
	}
	br.state("upgraded")
	// At most 100 KB per page uncompressed: the largest page (ten hooks)
	// with its assets.
	size := get(br, "measure the page", chromedp.Evaluate[int](`document.documentElement.outerHTML.length`))
	for _, p := range []string{"/app/static/app.css", "/app/static/app.js", "/app/static/icon.svg"} {
		res, err := http.Get(b.url + p)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		size += int(n)
	}
	if size > 100<<10 {
		t.Errorf("the page with its assets is %d bytes, over 100 KB", size)
	}
	firstID := b.apiHooks(t)[0].ID
	br.menu(firstID, "Re-enable this webhook", "//p[.='Webhook re-enabled.']")
	statuses[0] = "Enabled"
	br.expectHooks(b, statuses...)

	// Alert addresses: add, see, remove.
	ops := fmt.Sprintf("ops+%d@example.com", b.clientID)
	br.do("type an alert address", chromedp.SendKeys(chromedp.ID("alert-email"), ops))
	br.navigate("add it", "//p[.='Alert address added.']", chromedp.Click("//button[.='Add address']"))
	var acct accountJSON
	b.admin(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d", b.clientID), "", http.StatusOK, &acct)
	if !slices.Equal(acct.AlertEmails, []string{ops}) || !strings.Contains(br.text(), ops) {
		t.Errorf("alert addresses: API %v, page has it: %v", acct.AlertEmails, strings.Contains(br.text(), ops))
	}
	br.state("alerts")
	br.navigate("remove it", "//p[.='Alert address removed.']", chromedp.Click("//ul[@class='emails']//button"))
	b.admin(t, "GET", fmt.Sprintf("/admin/v1/accounts/%d", b.clientID), "", http.StatusOK, &acct)
	if len(acct.AlertEmails) != 0 {
		t.Errorf("after remove: %v", acct.AlertEmails)
	}

	// Sign out: the session ends; the app sends to sign-in again; the used
	// link does not sign in twice.
	br.navigate("sign out", "#email", chromedp.Click("//button[.='Sign out']"))
	br.do("open the app", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.ID("email")))
	br.do("open the used link", chromedp.Navigate(link))
	br.navigate("reuse it", "//h1[.='This sign-in link does not work']", chromedp.Click("//button[.='Sign in']"))
	br.state("link-used")

	// Every page's headers, as a browser gets them.
	for _, p := range []string{signInPath, signInLinkPath + "?token=x", "/app/static/app.css"} {
		res, err := http.Get(b.url + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		checkSecurityHeaders(t, p, res.Header)
	}
}
