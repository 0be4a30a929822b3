package mail

import "strconv"

// The digest email's bodies (see body.go for why they are Go, not
// templates).

func digestText(v digestView) string {
	b := &body{}
	b.w("A post-load hook is still failing.\n\n")
	b.w("Since the alert we sent at ").text(v.WindowStart).w(", ", strconv.Itoa(v.Count), " more load notifications to post-load hook ").num(v.HookID).
		w(" of account ").num(v.ClientID).w(" failed their last retry, up to ").text(v.WindowEnd).
		w(". They are not retried again; replay them from the web app or the API once the endpoint works (if the hook is disabled for failing, they are sent again when a probe finds the endpoint working). The loads themselves succeeded: the data is in your destination.\n\n")
	b.w("Hook:     ").num(v.HookID).w(", ").text(v.HookURL).w("\n")
	b.w("Failed:   ", strconv.Itoa(v.Count), "\n")
	b.w("Errors:   ")
	classList(b, v.Classes)
	b.w("\n\nLoads (last attempt in UTC):\n")
	for _, l := range v.Loads {
		b.w("  ").text(l.At).w("  ").text(l.LoadID).w("  ").text(l.Integration).w(" / ").text(l.Table).w("  ").text(l.Class).w("\n")
	}
	if v.MoreLoads > 0 {
		b.w("  ... and ", strconv.Itoa(v.MoreLoads), " more\n")
	}
	b.w("\nWhat to do next\n")
	b.w("- Check the endpoint: it must be reachable from the public internet over HTTPS and answer the POST with a 2xx status within 30 seconds. The query string of the hook URL is not shown in this email.\n")
	b.w("- Start any downstream work for these loads by hand if it is needed.\n")
	appLinkLine(b, v.AppURL, "hooks")
	b.w("\nTo send the last of these requests yourself (put the query string back, save the load notification as notification.json, and sign it with the hook secret or leave the signature out if your endpoint allows):\n")
	b.text(v.Curl).w("\n")
	if len(v.SnippetLines) > 0 {
		b.w("\nWhat your endpoint answered last\n")
		b.w("The start of the last response body kept (load ").text(v.SnippetLoad).w("), quoted as the endpoint sent it (links disabled). These are the endpoint's words, not ours: an alert from us never asks for a token or a password.\n")
		quotedLines(b, v.SnippetLines)
	}
	b.w("\nAt most one alert and one digest like this one are sent per hook and alert window (an hour). This digest was sent at ").text(v.GeneratedAt).
		w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeText(b, v.UnsubscribeURL)
	return b.String()
}

func digestHTML(v digestView) string {
	b := &body{html: true}
	htmlHead(b, "Post-load hook still failing")
	b.w(`<h1 style="font-size: 1.3em;">A post-load hook is still failing</h1>` + "\n")
	b.w("<p>Since the alert we sent at ").text(v.WindowStart).w(", ", strconv.Itoa(v.Count), " more load notifications to post-load hook ").num(v.HookID).
		w(" of account ").num(v.ClientID).w(" failed their last retry, up to ").text(v.WindowEnd).
		w(". They are not retried again; replay them from the web app or the API once the endpoint works (if the hook is disabled for failing, they are sent again when a probe finds the endpoint working). <strong>The loads themselves succeeded:</strong> the data is in your destination.</p>\n")
	b.w(`<table cellpadding="4" style="border-collapse: collapse;">` + "\n")
	b.w(`<tr><th align="left">Hook</th><td>`).num(v.HookID).w(", <code>").text(v.HookURL).w("</code></td></tr>\n")
	b.w(`<tr><th align="left">Failed</th><td>`, strconv.Itoa(v.Count), "</td></tr>\n")
	b.w(`<tr><th align="left">Errors</th><td>`)
	classList(b, v.Classes)
	b.w("</td></tr>\n</table>\n")
	b.w(`<h2 style="font-size: 1.1em;">Loads (last attempt in UTC)</h2>` + "\n<ul>\n")
	for _, l := range v.Loads {
		b.w("<li>").text(l.At).w(" &ndash; <code>").text(l.LoadID).w("</code>, ").text(l.Integration).w(" / <code>").text(l.Table).w("</code>: ").text(l.Class).w("</li>\n")
	}
	b.w("</ul>\n")
	if v.MoreLoads > 0 {
		b.w("<p>&hellip; and ", strconv.Itoa(v.MoreLoads), " more</p>\n")
	}
	b.w(`<h2 style="font-size: 1.1em;">What to do next</h2>` + "\n<ul>\n")
	b.w("<li>Check the endpoint: it must be reachable from the public internet over HTTPS and answer the POST with a 2xx status within 30 seconds. The query string of the hook URL is not shown in this email.</li>\n")
	b.w("<li>Start any downstream work for these loads by hand if it is needed.</li>\n")
	appLinkItem(b, v.AppURL, "hooks")
	b.w("</ul>\n")
	b.w("<p>To send the last of these requests yourself (put the query string back, save the load notification as <code>notification.json</code>, and sign it with the hook secret or leave the signature out if your endpoint allows):</p>\n")
	b.w("<pre>").text(v.Curl).w("</pre>\n")
	if v.Snippet != "" {
		b.w(`<h2 style="font-size: 1.1em;">What your endpoint answered last</h2>` + "\n")
		b.w("<p>The start of the last response body kept (load <code>").text(v.SnippetLoad).w("</code>), quoted as the endpoint sent it (links disabled). These are the endpoint&#39;s words, not ours: an alert from us never asks for a token or a password.</p>\n")
		quotedBlock(b, v.Snippet)
	}
	b.w(`<p style="color: #666; font-size: 0.9em;">At most one alert and one digest like this one are sent per hook and alert window (an hour). This digest was sent at `).text(v.GeneratedAt).
		w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeHTML(b, v.UnsubscribeURL)
	return b.String()
}

// classList writes the error classes with their counts: "HTTP 503 (4),
// timed out (1)".
func classList(b *body, classes []classCount) {
	for i, c := range classes {
		if i > 0 {
			b.w(", ")
		}
		b.text(c.Class).w(" (", strconv.Itoa(c.N), ")")
	}
}
