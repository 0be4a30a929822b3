package mail

// The freshness notice's bodies (see body.go for why they are Go, not
// templates).

func freshnessText(v freshnessView) string {
	b := &body{}
	if v.BackOnTime {
		b.w("Table ").text(v.Integration).w(" / ").text(v.Table).w(" is back on time.\n\n")
		b.w("It has loaded again: last successful load ").text(v.LastLoadedAt).w(". It had been overdue since ").text(v.OverdueSince).
			w(" (rule: at least one successful load every ").text(v.MaxInterval).w("). The rule is armed again: you will hear from us if it goes ").
			text(v.MaxInterval).w(" without a successful load.\n")
	} else {
		b.w("Table ").text(v.Integration).w(" / ").text(v.Table).w(" is overdue.\n\n")
		b.w("It has had no successful load for ").text(v.MaxInterval).w(", the longest interval its freshness rule allows.\n\n")
		b.w("Integration:   ").text(v.Integration).w("\n")
		b.w("Table:         ").text(v.Table).w("\n")
		b.w("Max interval:  ").text(v.MaxInterval).w("\n")
		b.w("Last load:     ")
		lastLoad(b, v)
		b.w("\n")
		b.w("Overdue since: ").text(v.OverdueSince).w("\n\n")
		b.w("What to do next\n")
		b.w("- Check the integration's last runs and the loads of this table in the data pipeline.\n")
		b.w(`- Nothing more is sent about this table until it loads again; then one "back on time" email follows.` + "\n")
	}
	appLinkLine(b, v.AppURL, "freshness rules")
	b.w("\nThis notice was sent at ").text(v.GeneratedAt).w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeText(b, v.UnsubscribeURL)
	return b.String()
}

func freshnessHTML(v freshnessView) string {
	b := &body{html: true}
	if v.BackOnTime {
		htmlHead(b, "Table back on time")
		b.w(`<h1 style="font-size: 1.3em;">Table `).text(v.Integration).w(" / ").text(v.Table).w(" is back on time</h1>\n")
		b.w("<p>It has loaded again: last successful load ").text(v.LastLoadedAt).w(". It had been overdue since ").text(v.OverdueSince).
			w(" (rule: at least one successful load every ").text(v.MaxInterval).w("). The rule is armed again.</p>\n")
	} else {
		htmlHead(b, "Table overdue")
		b.w(`<h1 style="font-size: 1.3em;">Table `).text(v.Integration).w(" / ").text(v.Table).w(" is overdue</h1>\n")
		b.w("<p>It has had no successful load for ").text(v.MaxInterval).w(", the longest interval its freshness rule allows.</p>\n")
		b.w(`<table cellpadding="4" style="border-collapse: collapse;">` + "\n")
		b.w(`<tr><th align="left">Integration</th><td>`).text(v.Integration).w("</td></tr>\n")
		b.w(`<tr><th align="left">Table</th><td><code>`).text(v.Table).w("</code></td></tr>\n")
		b.w(`<tr><th align="left">Max interval</th><td>`).text(v.MaxInterval).w("</td></tr>\n")
		b.w(`<tr><th align="left">Last load</th><td>`)
		lastLoad(b, v)
		b.w("</td></tr>\n")
		b.w(`<tr><th align="left">Overdue since</th><td>`).text(v.OverdueSince).w("</td></tr>\n")
		b.w("</table>\n")
		b.w(`<h2 style="font-size: 1.1em;">What to do next</h2>` + "\n<ul>\n")
		b.w("<li>Check the integration&#39;s last runs and the loads of this table in the data pipeline.</li>\n")
		b.w("<li>Nothing more is sent about this table until it loads again; then one &ldquo;back on time&rdquo; email follows.</li>\n")
		b.w("</ul>\n")
	}
	if v.AppURL != "" {
		b.w(`<p>See and change the account&#39;s freshness rules and alert addresses in <a href="`).href(v.AppURL).w(`">the web app</a>.</p>` + "\n")
	}
	b.w(`<p style="color: #666; font-size: 0.9em;">This notice was sent at `).text(v.GeneratedAt).w(" to the alert addresses of account ").num(v.ClientID).w(".")
	unsubscribeHTML(b, v.UnsubscribeURL)
	return b.String()
}

// lastLoad writes when the table last loaded, or that it has not since
// the rule was made.
func lastLoad(b *body, v freshnessView) {
	if v.LastLoadedAt != "" {
		b.text(v.LastLoadedAt)
		return
	}
	b.w("none since the rule was made at ").text(v.Since)
}
