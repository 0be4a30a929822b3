package mail

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postloadhooks/hooks/shared/delivery"
)

// update rewrites testdata/*.golden from the current renderers:
// go test ./shared/mail -run TestBodiesGolden -update. The golden files were
// first written by the text/template and html/template versions of the
// bodies, before they were written in Go, so they hold the texts byte for byte as those rendered them.
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// hostileLinks are links with every character class the HTML body's
// attribute escaping treats differently: kept, percent-encoded, escaped.
var hostileLinks = Links{
	AppURL:         "https://app.example.com/app/settings/notifications?client=116078&x='a b'(c)\"<d>+é%41%zz",
	UnsubscribeURL: "https://app.example.com/app/unsubscribe?t=abc.def_~-!$*,;:@[]#frag%4",
}

// hostileAlert has markup, quotes, '+', links and addresses in every field
// a customer or a receiver controls.
func hostileAlert() delivery.AlertMessage {
	m := sample()
	m.IntegrationName = "<img src=x onerror=alert(1)> & 'co' \"x\" a+b"
	m.Tables = []string{"<script>alert('t')</script>", "a&b\"c+d", "", "  spaced\tname  ", "ünï©ødé"}
	m.HookURL = "https://user:pw@hooks.example.com/<script>/a'b?q=<script>#frag"
	m.LoadID = "load\x1b[31m<b>&'"
	m.WebhookID = "msg_'quoted'<>&+"
	m.Event = "table_loaded'; rm -rf ~ #\n"
	m.Attempts[0].Error = "</li><script>x</script> & 'q'"
	m.Attempts[2].Snippet = "older snippet"
	m.Attempts[len(m.Attempts)-1].Snippet = "<script>alert(document.cookie)</script>\r\nsee https://evil.example.com/login or mail root@evil.example.com, v1.2 & 'x'+\"y\" " + strings.Repeat("word ", 40)
	m.Attempts = append(m.Attempts, delivery.Attempt{At: t0.Add(-time.Minute), Outcome: "weird_outcome<x>", StatusCode: 418, Error: "teapot"},
		delivery.Attempt{At: t0.Add(time.Hour), Outcome: ""})
	return m
}

func hostileDigest() Digest {
	d := Digest{ClientID: 116078, HookID: 8, HookURL: "https://hooks.example.com/<x>/a'b?token=s3cret",
		WindowStart: t0, WindowEnd: t0.Add(time.Hour)}
	classes := []string{"HTTP 503", "timed out", "<b>&'\"+</b>", ""}
	for i := 0; i < MaxDigestLoads+3; i++ {
		e := delivery.DigestEntry{LoadID: "load-" + strings.Repeat("x", i%3) + "<&>", At: t0.Add(time.Duration(i) * time.Minute),
			Integration: "shop<i>fy", Table: "orders'" + strings.Repeat("_", i%2), ErrorClass: classes[i%len(classes)],
			WebhookID: "msg_" + strings.Repeat("a", i%5), Event: "run_completed'<x>", Sequence: int64(i)}
		if i%7 == 0 {
			e.Snippet = "bad gateway <html> from https://proxy.example.com/x@y " + strings.Repeat("z", i)
		}
		if i == 5 {
			e.Integration, e.Table = "", ""
		}
		d.Entries = append(d.Entries, e)
	}
	return d
}

func freshness(back bool, loaded bool) Freshness {
	f := Freshness{ClientID: 116078, IntegrationName: "shop<i>fy & 'co'", Table: "orders\"+<x>", MaxInterval: "2h<3>",
		RuleCreatedAt: t0.Add(-5 * time.Hour), OverdueSince: t0.Add(-time.Minute), BackOnTime: back}
	if loaded {
		f.LastLoadedAt = t0.Add(-30 * time.Second)
	}
	return f
}

// TestBodiesGolden renders every kind of body from a realistic and a hostile
// input, with and without links, and compares both bodies byte for byte
// with testdata.
func TestBodiesGolden(t *testing.T) {
	now := t0.Add(2 * time.Hour)
	noSnippet := sample()
	noSnippet.Tables = nil
	for i := range noSnippet.Attempts {
		noSnippet.Attempts[i].Snippet = ""
	}
	long := sample()
	long.Tables = nil
	for i := 0; i < 60; i++ {
		long.Tables = append(long.Tables, strings.Repeat("t", i*5))
	}
	for i := 0; i < 25; i++ {
		long.Attempts = append(long.Attempts, delivery.Attempt{At: t0.Add(time.Duration(i) * time.Hour), Outcome: "http_status", StatusCode: 500 + i})
	}
	long.Attempts[len(long.Attempts)-1].Snippet = strings.Repeat("s", 1024)
	noAttempts := sample()
	// An alert message of an earlier version also names no event or sequence.
	noAttempts.Attempts, noAttempts.IntegrationName, noAttempts.WebhookID, noAttempts.Event, noAttempts.Sequence = nil, "", "", "", 0
	oneDigest := Digest{ClientID: 1, HookID: 2, HookURL: "https://h.example.com/", WindowStart: t0, WindowEnd: t0.Add(time.Hour),
		Entries: []delivery.DigestEntry{{LoadID: "l1", At: t0, Integration: "shopify", Table: "orders", ErrorClass: "HTTP 500", WebhookID: "msg_1", Event: "table_loaded", Sequence: 7}}}
	badScheme := Links{AppURL: "javascript:alert(1)", UnsubscribeURL: "HTTPS://APP.example.com/u"}

	cases := map[string]func() Email{
		"alert_sample": func() Email { return Render(sample(), now) },
		"alert_sample_links": func() Email {
			return RenderFor(sample(), now, Links{AppURL: "https://app.example.com/app", UnsubscribeURL: "https://app.example.com/u?t=1"})
		},
		"alert_hostile_links": func() Email { return RenderFor(hostileAlert(), now, hostileLinks) },
		"alert_bad_scheme":    func() Email { return RenderFor(sample(), now, badScheme) },
		"alert_no_snippet":    func() Email { return Render(noSnippet, now) },
		"alert_long":          func() Email { return Render(long, now) },
		"alert_no_attempts":   func() Email { return Render(noAttempts, time.Time{}) },
		"digest_hostile":      func() Email { return RenderDigest(hostileDigest(), now, hostileLinks) },
		"digest_one":          func() Email { return RenderDigest(oneDigest, now, Links{}) },
		"digest_empty":        func() Email { return RenderDigest(Digest{ClientID: 1, HookID: 2}, now, badScheme) },
		"freshness_overdue":   func() Email { return RenderFreshness(freshness(false, false), now, hostileLinks) },
		"freshness_loaded":    func() Email { return RenderFreshness(freshness(false, true), now, Links{}) },
		"freshness_back":      func() Email { return RenderFreshness(freshness(true, true), now, hostileLinks) },
		"freshness_back_bare": func() Email { return RenderFreshness(freshness(true, false), now, badScheme) },
	}
	for name, render := range cases {
		t.Run(name, func(t *testing.T) {
			e := render()
			for ext, got := range map[string]string{"txt": e.Text, "html": e.HTML} {
				path := filepath.Join("testdata", name+"."+ext+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s differs from %s (-want +got):\n%s", ext, path, diff)
				}
			}
		})
	}
}
