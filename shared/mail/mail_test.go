package mail

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/postloadhooks/hooks/shared/delivery"
)

var t0 = time.Date(2026, 7, 15, 14, 45, 8, 0, time.UTC)

// sample is an alert for a realistic exhausted delivery: six attempts.
func sample() delivery.AlertMessage {
	return delivery.AlertMessage{
		Kind:            delivery.KindExhausted,
		ClientID:        116078,
		LoadID:          "b2f6c1d0-load",
		HookID:          8,
		HookURL:         "https://hooks.example.com/catch/abc?token=s3cret&x=1",
		WebhookID:       "msg_0123456789abcdef0123456789abcdef",
		IntegrationName: "shopify",
		Tables:          []string{"orders", "orders__order_items"},
		Event:           "table_loaded",
		Sequence:        42,
		Attempts: []delivery.Attempt{
			{At: t0, Outcome: "http_status", StatusCode: 503, Snippet: "upstream unavailable"},
			{At: t0.Add(31 * time.Second), Outcome: "timeout", Error: "no response within 30s"},
			{At: t0.Add(2*time.Minute + 40*time.Second), Outcome: "connection_error", Error: "connection refused"},
			{At: t0.Add(8 * time.Minute), Outcome: "tls_error", Error: "certificate expired"},
			{At: t0.Add(18 * time.Minute), Outcome: "redirect", StatusCode: 302},
			{At: t0.Add(33*time.Minute + 5*time.Second), Outcome: "blocked_address"},
		},
	}
}

func TestSubject(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		name   string
		integr string
		tables []string
		want   string
	}{
		{"one table", "shopify", []string{"orders"}, "Unable to Deliver Post Load Notification: shopify / orders"},
		{"two tables", "shopify", []string{"orders", "orders__items"}, "Unable to Deliver Post Load Notification: shopify / orders"},
		{"three tables", "shopify", []string{"orders", "a", "b"}, "Unable to Deliver Post Load Notification: shopify / orders"},
		{"no tables", "shopify", nil, "Unable to Deliver Post Load Notification: shopify"},
		{"no integration", "", []string{"orders"}, "Unable to Deliver Post Load Notification: unknown integration / orders"},
		{"header injection", "shop\r\nBcc: victim@example.com", []string{"ord\ners\x00"}, "Unable to Deliver Post Load Notification: shop Bcc: victim@example.com / ord ers"},
		{"unicode line separators and bidi", "shop\u2028ify\u202e", []string{"orders\u0085"}, "Unable to Deliver Post Load Notification: shop ify / orders"},
		{"long names", long, []string{long}, "Unable to Deliver Post Load Notification: " + strings.Repeat("x", 127) + "… / " + strings.Repeat("x", 127) + "…"},
		{"names of 128 runes, whole", strings.Repeat("i", 128), []string{strings.Repeat("t", 128)}, "Unable to Deliver Post Load Notification: " + strings.Repeat("i", 128) + " / " + strings.Repeat("t", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Subject(delivery.AlertMessage{IntegrationName: tt.integr, Tables: tt.tables})
			if got != tt.want {
				t.Errorf("Subject() = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxSubjectRunes {
				t.Errorf("Subject() has %d runes, want at most %d", n, MaxSubjectRunes)
			}
		})
	}
}

func TestSubjectBounded(t *testing.T) {
	m := delivery.AlertMessage{IntegrationName: strings.Repeat("é", 1000), Tables: make([]string, 1000)}
	for i := range m.Tables {
		m.Tables[i] = strings.Repeat("t", 1000)
	}
	got := Subject(m)
	if n := utf8.RuneCountInString(got); n > MaxSubjectRunes {
		t.Errorf("Subject() has %d runes, want at most %d", n, MaxSubjectRunes)
	}
	if !strings.HasPrefix(got, "Unable to Deliver Post Load Notification: ") || !strings.HasSuffix(got, "…") {
		t.Errorf("Subject() = %q, want the documented prefix and a cut mark", got)
	}
}

func TestRenderContainsEveryFact(t *testing.T) {
	now := t0.Add(40 * time.Minute)
	e := Render(sample(), now)
	if want := "Unable to Deliver Post Load Notification: shopify / orders"; e.Subject != want {
		t.Errorf("Subject = %q, want %q", e.Subject, want)
	}
	facts := []string{
		"https://hooks.example.com/catch/abc?[redacted]",
		"shopify",
		"orders",
		"orders__order_items",
		"b2f6c1d0-load",
		"msg_0123456789abcdef0123456789abcdef",
		"116078",
		// every attempt: time and outcome
		"2026-07-15T14:45:08Z", "HTTP 503",
		"2026-07-15T14:45:39Z", "timed out: no response within 30s",
		"2026-07-15T14:47:48Z", "connection error: connection refused",
		"2026-07-15T14:53:08Z", "TLS error: certificate expired",
		"2026-07-15T15:03:08Z", "HTTP 302 redirect, not followed",
		"2026-07-15T15:18:13Z", "refused: the host resolved to a non-public address",
		// the response snippet of the newest attempt that kept one
		"upstream unavailable",
		// what to do next
		"The load itself succeeded",
		"Check the endpoint",
		"PUT /notifications/public/v1/api/hooks/8",
		"2026-07-15T15:25:08Z", // sent at
	}
	bodies := map[string]string{"text": e.Text, "html": e.HTML}
	for name, body := range bodies {
		for _, f := range facts {
			if !strings.Contains(body, f) {
				t.Errorf("%s body lacks %q", name, f)
			}
		}
		if strings.Contains(body, "s3cret") || strings.Contains(body, "token=") {
			t.Errorf("%s body shows the hook URL's query string", name)
		}
	}
	if !strings.Contains(e.Text, `{"enable": true}`) {
		t.Errorf("text body lacks the re-enable body")
	}
	if !strings.Contains(e.HTML, `{&quot;enable&quot;: true}`) {
		t.Errorf("html body lacks the escaped re-enable body")
	}
	for _, line := range []string{"First attempt: 2026-07-15T14:45:08Z", "Last attempt:  2026-07-15T15:18:13Z"} {
		if !strings.Contains(e.Text, line) {
			t.Errorf("text body lacks %q", line)
		}
	}
	if !strings.Contains(e.Text, "  1. 2026-07-15T14:45:08Z  HTTP 503\n  2. ") {
		t.Errorf("text body does not list attempts in order, numbered:\n%s", e.Text)
	}
}

func TestRenderEscapesHostileInput(t *testing.T) {
	m := sample()
	m.IntegrationName = "<img src=x onerror=alert(1)>\r\nBcc: victim@example.com"
	m.Tables = []string{"<script>alert('t')</script>", "a&b\"c"}
	m.HookURL = "https://hooks.example.com/<script>?q=<script>"
	m.LoadID = "load\x1b[31m<b>"
	m.Attempts[len(m.Attempts)-1].Snippet = "<script>alert(document.cookie)</script>\r\n<a href=\"javascript:x\">"
	m.Attempts[0].Error = "</li><script>x</script>"
	e := Render(m, t0)
	for _, bad := range []string{"<script", "<img", "<b>", `<a href`, "</li><script"} {
		if strings.Contains(strings.ToLower(e.HTML), bad) {
			t.Errorf("html body contains live markup %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(document[.]cookie)&lt;/script&gt;",
		"&lt;img src=x onerror=alert(1)&gt;",
		"&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;",
		"a&amp;b&#34;c",
		"https://hooks.example.com/%3Cscript%3E?[redacted]",
	} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("html body lacks escaped %q", want)
		}
	}
	for name, s := range map[string]string{"subject": e.Subject, "text": e.Text, "html": e.HTML} {
		if strings.ContainsAny(s, "\x1b\x00\r") {
			t.Errorf("%s contains control characters", name)
		}
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		t.Errorf("subject %q spans lines", e.Subject)
	}
	// In the text body the hostile values stay on their own lines: a CR/LF
	// in a name never starts a new line.
	if strings.Contains(e.Text, "\nBcc:") {
		t.Errorf("text body lets a name start a new line:\n%s", e.Text)
	}
}

func TestRenderBoundsLongInput(t *testing.T) {
	m := sample()
	m.Tables = nil
	for i := 0; i < 500; i++ {
		m.Tables = append(m.Tables, strings.Repeat("t", 300))
	}
	m.Attempts[len(m.Attempts)-1].Snippet = strings.Repeat("s", 1024)
	e := Render(m, t0)
	if !strings.Contains(e.Text, " and 450 more") || !strings.Contains(e.HTML, " and 450 more") {
		t.Errorf("bodies do not count the tables they leave out")
	}
	if strings.Contains(e.Text, strings.Repeat("t", maxNameRunes+1)) {
		t.Errorf("text body shows a table name longer than %d runes", maxNameRunes)
	}
	if strings.Contains(e.Text, strings.Repeat("s", maxSnippetRunes)) {
		t.Errorf("text body shows more than %d runes of the snippet", maxSnippetRunes)
	}
	if len(e.Text) > 64<<10 || len(e.HTML) > 64<<10 {
		t.Errorf("bodies are %d and %d bytes, want them bounded", len(e.Text), len(e.HTML))
	}
}

func TestRenderWithoutSnippetOrTables(t *testing.T) {
	m := sample()
	m.Tables = nil
	for i := range m.Attempts {
		m.Attempts[i].Snippet = ""
	}
	e := Render(m, t0)
	if strings.Contains(e.Text, "response body") {
		t.Errorf("text body mentions a response body when no attempt kept one")
	}
	if !strings.Contains(e.Text, "Tables:        (none given)") {
		t.Errorf("text body does not say no tables were given:\n%s", e.Text)
	}
}

func TestClean(t *testing.T) {
	tests := map[string]string{
		"plain":           "plain",
		"  a \t b  ":      "a b",
		"a\r\nb":          "a b",
		"a\x00\x07b":      "a b",
		"a\u200bb\u202ec": "a b c",
		"a\u2028b\u2029c": "a b c",
		"bad\xffutf8":     "bad utf8",
		"émoji 🚀 ok":      "émoji 🚀 ok",
		"\n\n":            "",
	}
	for in, want := range tests {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	got := []string{}
	for _, a := range []delivery.Attempt{
		{Outcome: "http_status", StatusCode: 500},
		{Outcome: "redirect"},
		{Outcome: "something_new", StatusCode: 418, Error: "teapot"},
		{},
	} {
		got = append(got, describe(a))
	}
	want := []string{"HTTP 500", "redirect, not followed", "something_new (HTTP 418): teapot", "failed"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("describe() mismatch (-got +want):\n%s", diff)
	}
}

func TestQuoteNeutralisesLinks(t *testing.T) {
	tests := []struct{ in, want string }{
		{"see https://evil.example/login now", "see https[:]//evil[.]example/login now"},
		{"www.evil.com or a@b.co", "www[.]evil[.]com or a[at]b[.]co"},
		{"end of sentence. Next", "end of sentence. Next"},
		{"v1.2 ünï.cödé", "v1[.]2 ünï[.]cödé"},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := wrap(strings.Repeat("word ", 40), 20); len(got) != 10 || got[0] != "word word word word" {
		t.Errorf("wrap = %q", got)
	}
}
