package mail

import (
	"strings"
	"testing"
	"time"
)

func TestRenderFreshness(t *testing.T) {
	now := time.Date(2026, 7, 15, 18, 0, 0, 0, time.UTC)
	f := Freshness{ClientID: 116078, IntegrationName: "shopify", Table: "orders", MaxInterval: "2h",
		RuleCreatedAt: now.Add(-5 * time.Hour), OverdueSince: now.Add(-time.Minute)}
	e := RenderFreshness(f, now, Links{AppURL: "https://app.example.com/app"})
	if e.Subject != "Table overdue: shopify / orders" {
		t.Errorf("subject %q", e.Subject)
	}
	for _, want := range []string{"no successful load for 2h", "none since the rule was made at 2026-07-15T13:00:00Z", "https://app.example.com/app"} {
		if !strings.Contains(e.Text, want) || !strings.Contains(e.HTML, want) {
			t.Errorf("text or HTML lacks %q:\n%s\n%s", want, e.Text, e.HTML)
		}
	}
	f.BackOnTime, f.LastLoadedAt = true, now.Add(-30*time.Second)
	e = RenderFreshness(f, now, Links{})
	if e.Subject != "Table back on time: shopify / orders" || !strings.Contains(e.Text, "last successful load 2026-07-15T17:59:30Z") {
		t.Errorf("back on time: %q\n%s", e.Subject, e.Text)
	}
	// Names from customers cannot break the subject line or the HTML.
	f.IntegrationName, f.Table = "evil\r\nBcc: x@example.com", "<script>"
	e = RenderFreshness(f, now, Links{})
	if strings.ContainsAny(e.Subject, "\r\n") || strings.Contains(e.HTML, "<script>") {
		t.Errorf("unsafe: subject %q, HTML has <script>: %v", e.Subject, strings.Contains(e.HTML, "<script>"))
	}
}
