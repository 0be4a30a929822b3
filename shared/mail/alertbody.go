package mail

import "strconv"

// The alert email's bodies (see body.go for why they are Go, not templates).

func alertText(v view) string {
	b := &body{}
	b.w("A post-load hook could not be reached.\n\n")
	b.w("We tried ").num(int64(v.AttemptCount)).w(" times to send a load notification to post-load hook ").num(v.HookID).
		w(" of account ").num(v.ClientID).w(", and every attempt failed. It is not retried again; resend it from the web app or the API once the endpoint works (if the hook is disabled for failing, it is sent again when a probe finds the endpoint working).\n\n")
	b.w("The load itself succeeded: the data is in your destination. Only the webhook notification was not delivered, so anything that waits for it (a transform, a workflow) has not been started for this load.\n\n")
	b.w("Hook:          ").num(v.HookID).w(", ").text(v.HookURL).w("\n")
	b.w("Integration:   ").text(v.Integration).w("\n")
	b.w("Tables:        ")
	tableList(b, v.Tables, v.MoreTables, "", "")
	b.w("\n")
	b.w("Load ID:       ").text(v.LoadID).w("\n")
	b.w("Webhook ID:    ").text(v.WebhookID).w(" (the webhook-id header of every attempt)\n")
	b.w("First attempt: ").text(v.FirstAt).w("\n")
	b.w("Last attempt:  ").text(v.LastAt).w("\n\n")
	b.w("Attempts (times in UTC):\n")
	for _, a := range v.Attempts {
		b.w("  ", strconv.Itoa(a.N), ". ").text(a.At).w("  ").text(a.Outcome).w("\n")
	}
	if v.MoreAttempts > 0 {
		b.w("  ... and ", strconv.Itoa(v.MoreAttempts), " more\n")
	}
	b.w("\nWhat to do next\n")
	b.w("- Check the endpoint: it must be reachable from the public internet over HTTPS with a certificate from a public certificate authority, and answer the POST with a 2xx status within 30 seconds. Redirects are not followed. The query string of the hook URL is not shown in this email.\n")
	b.w("- Start any downstream work for load ").text(v.LoadID).w(" by hand if it is needed.\n")
	b.w("- The hook stays enabled: later loads are sent to it as usual.\n")
	b.w("- If you disabled the hook while fixing the endpoint, re-enable it with the hooks API:\n")
	b.w("    PUT ").text(v.ReenablePath).w("\n")
	b.w("    Authorization: Bearer <your API token>\n")
	b.w(`    {"enable": true}` + "\n")
	appLinkLine(b, v.AppURL, "hooks")
	b.w("\nTo send the same request yourself (put the query string of the hook URL back, save the load notification as notification.json, and sign it with the hook secret or leave the signature out if your endpoint allows):\n")
	b.text(v.Curl).w("\n")
	if len(v.SnippetLines) > 0 {
		b.w("\nWhat your endpoint answered\n")
		b.w("The start of the response body of attempt ", strconv.Itoa(v.SnippetAttempt), ", quoted below as the endpoint sent it (links disabled). These are the endpoint's words, not ours: an alert from us never asks for a token or a password.\n")
		quotedLines(b, v.SnippetLines)
	}
	b.w("\nThis alert was sent at ").text(v.GeneratedAt).w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeText(b, v.UnsubscribeURL)
	return b.String()
}

func alertHTML(v view) string {
	b := &body{html: true}
	htmlHead(b, "Post-load hook undeliverable")
	b.w(`<h1 style="font-size: 1.3em;">A post-load hook could not be reached</h1>` + "\n")
	b.w("<p>We tried ").num(int64(v.AttemptCount)).w(" times to send a load notification to post-load hook ").num(v.HookID).
		w(" of account ").num(v.ClientID).w(", and every attempt failed. It is not retried again; resend it from the web app or the API once the endpoint works (if the hook is disabled for failing, it is sent again when a probe finds the endpoint working).</p>\n")
	b.w("<p><strong>The load itself succeeded:</strong> the data is in your destination. Only the webhook notification was not delivered, so anything that waits for it (a transform, a workflow) has not been started for this load.</p>\n")
	b.w(`<table cellpadding="4" style="border-collapse: collapse;">` + "\n")
	b.w(`<tr><th align="left">Hook</th><td>`).num(v.HookID).w(", <code>").text(v.HookURL).w("</code></td></tr>\n")
	b.w(`<tr><th align="left">Integration</th><td>`).text(v.Integration).w("</td></tr>\n")
	b.w(`<tr><th align="left">Tables</th><td>`)
	tableList(b, v.Tables, v.MoreTables, "<code>", "</code>")
	b.w("</td></tr>\n")
	b.w(`<tr><th align="left">Load ID</th><td><code>`).text(v.LoadID).w("</code></td></tr>\n")
	b.w(`<tr><th align="left">Webhook ID</th><td><code>`).text(v.WebhookID).w("</code> (the webhook-id header of every attempt)</td></tr>\n")
	b.w(`<tr><th align="left">First attempt</th><td>`).text(v.FirstAt).w("</td></tr>\n")
	b.w(`<tr><th align="left">Last attempt</th><td>`).text(v.LastAt).w("</td></tr>\n")
	b.w("</table>\n")
	b.w(`<h2 style="font-size: 1.1em;">Attempts (times in UTC)</h2>` + "\n<ol>\n")
	for _, a := range v.Attempts {
		b.w("<li>").text(a.At).w(" &ndash; ").text(a.Outcome).w("</li>\n")
	}
	b.w("</ol>\n")
	if v.MoreAttempts > 0 {
		b.w("<p>&hellip; and ", strconv.Itoa(v.MoreAttempts), " more</p>\n")
	}
	b.w(`<h2 style="font-size: 1.1em;">What to do next</h2>` + "\n<ul>\n")
	b.w("<li>Check the endpoint: it must be reachable from the public internet over HTTPS with a certificate from a public certificate authority, and answer the POST with a 2xx status within 30 seconds. Redirects are not followed. The query string of the hook URL is not shown in this email.</li>\n")
	b.w("<li>Start any downstream work for load <code>").text(v.LoadID).w("</code> by hand if it is needed.</li>\n")
	b.w("<li>The hook stays enabled: later loads are sent to it as usual.</li>\n")
	b.w("<li>If you disabled the hook while fixing the endpoint, re-enable it with the hooks API:\n")
	b.w("<pre>PUT ").text(v.ReenablePath).w("\nAuthorization: Bearer &lt;your API token&gt;\n{&quot;enable&quot;: true}</pre></li>\n")
	appLinkItem(b, v.AppURL, "hooks")
	b.w("</ul>\n")
	b.w("<p>To send the same request yourself (put the query string of the hook URL back, save the load notification as <code>notification.json</code>, and sign it with the hook secret or leave the signature out if your endpoint allows):</p>\n")
	b.w("<pre>").text(v.Curl).w("</pre>\n")
	if v.Snippet != "" {
		b.w(`<h2 style="font-size: 1.1em;">What your endpoint answered</h2>` + "\n")
		b.w("<p>The start of the response body of attempt ", strconv.Itoa(v.SnippetAttempt), ", quoted below as the endpoint sent it (links disabled). These are the endpoint&#39;s words, not ours: an alert from us never asks for a token or a password.</p>\n")
		quotedBlock(b, v.Snippet)
	}
	b.w(`<p style="color: #666; font-size: 0.9em;">This alert was sent at `).text(v.GeneratedAt).w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeHTML(b, v.UnsubscribeURL)
	return b.String()
}

// The pieces the alert, digest and freshness bodies share.

// tableList writes the tables, comma-separated, each between open and
// close, "(none given)" for none, and how many were left out.
func tableList(b *body, tables []string, more int, open, close string) {
	for i, t := range tables {
		if i > 0 {
			b.w(", ")
		}
		b.w(open).text(t).w(close)
	}
	if len(tables) == 0 {
		b.w("(none given)")
	}
	if more > 0 {
		b.w(" and ", strconv.Itoa(more), " more")
	}
}

// htmlHead starts an HTML body: the document, its head and the body tag.
func htmlHead(b *body, title string) {
	b.w(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>`, title, `</title>
</head>
<body style="font-family: sans-serif; line-height: 1.4;">
`)
}

// appLinkLine writes the text body's line with the web app's link, if
// there is one; what names what the page changes ("hooks").
func appLinkLine(b *body, appURL, what string) {
	if appURL != "" {
		b.w("- See and change the account's ", what, " and alert addresses in the web app: ").text(appURL).w("\n")
	}
}

// quotedLines writes the text body's snippet, one "> " line each.
func quotedLines(b *body, lines []string) {
	for _, l := range lines {
		b.w("> ").text(l).w("\n")
	}
}

// quotedBlock writes the HTML body's snippet in its blockquote.
func quotedBlock(b *body, snippet string) {
	b.w(`<blockquote style="margin: 0 0 1em 0; padding: 0.5em 1em; border-left: 4px solid #999; color: #444;"><pre style="white-space: pre-wrap; margin: 0;">`).
		text(snippet).w("</pre></blockquote>\n")
}

// appLinkItem writes the HTML list item linking to the web app, if there
// is a link; what names what the page changes ("hooks").
func appLinkItem(b *body, appURL, what string) {
	if appURL != "" {
		b.w("<li>See and change the account&#39;s ", what, ` and alert addresses in <a href="`).href(appURL).w(`">the web app</a>.</li>` + "\n")
	}
}

// unsubscribeText ends the text body: the unsubscribe line, if there is a
// link.
func unsubscribeText(b *body, url string) {
	if url != "" {
		b.w("\nTo stop alerts to this address, open ").text(url).w(" (it removes only this address from the account's alert addresses).")
	}
	b.w("\n")
}

// unsubscribeHTML ends the HTML body's footer paragraph and the document.
func unsubscribeHTML(b *body, url string) {
	if url != "" {
		b.w(` <a href="`).href(url).w(`">Unsubscribe this address</a> (removes only this address from the account&#39;s alert addresses).`)
	}
	b.w("</p>\n</body>\n</html>\n")
}
