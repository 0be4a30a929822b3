package mail

import (
	"strconv"
	"strings"
)

// The bodies are written in plain Go rather than with text/template and
// html/template: the templates' reflection (reflect.Value.MethodByName)
// makes the linker keep every exported method of every type the alerter
// links, about 2.3 MiB of its bootstrap. body is the small writer they use
// instead. Literal text is the service's own and is written as it is;
// every value goes through text (escaped in the HTML body as html/template
// escapes HTML text) or href (checked and escaped as html/template treats a
// URL in a quoted attribute), so the HTML bodies read byte for byte as the
// templates rendered them (testdata/*.golden).

// body is one email body being written, text or HTML.
type body struct {
	b    strings.Builder
	html bool
}

// w writes the service's own words and markup, unescaped.
func (b *body) w(parts ...string) *body {
	for _, p := range parts {
		b.b.WriteString(p)
	}
	return b
}

// text writes a value: as it is in the text body, escaped in the HTML body.
func (b *body) text(s string) *body {
	if b.html {
		s = escapeHTML(s)
	}
	b.b.WriteString(s)
	return b
}

// num writes a number.
func (b *body) num(n int64) *body {
	b.b.WriteString(strconv.FormatInt(n, 10))
	return b
}

// href writes a link's URL as the value of a double-quoted HTML attribute.
func (b *body) href(url string) *body {
	b.b.WriteString(escapeHTML(normalizeURL(safeURL(url))))
	return b
}

func (b *body) String() string { return b.b.String() }

// escapeHTML escapes s for HTML text or a quoted attribute value as
// html/template does: the five characters that can end text or an
// attribute, '+' (which some browsers read as the start of UTF-7) and NUL.
// It works on bytes: every byte of a multi-byte UTF-8 character is 0x80 or
// above, so none of them is one of these.
func escapeHTML(s string) string {
	var out strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		if written == 0 {
			out.Grow(len(s) + 16)
		}
		out.WriteString(s[written:i])
		out.WriteString(repl)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	out.WriteString(s[written:])
	return out.String()
}

// safeURL replaces a URL whose scheme is not http, https or mailto with
// "#ZgotmplZ", html/template's marker of a refused URL, so a link can
// never run script.
func safeURL(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") {
		if !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
			return "#ZgotmplZ"
		}
	}
	return s
}

// normalizeURL percent-encodes every byte of s that is not unreserved or
// reserved in a URL (RFC 3986), the single quote and parentheses included,
// and keeps valid %XX escapes, as html/template does for a URL attribute.
func normalizeURL(s string) string {
	var out strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!#$&*+,/:;=?@[]", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		out.WriteString(s[written:i])
		out.WriteByte('%')
		out.WriteByte(hexDigits[c>>4])
		out.WriteByte(hexDigits[c&15])
		written = i + 1
	}
	if written == 0 {
		return s
	}
	out.WriteString(s[written:])
	return out.String()
}

const hexDigits = "0123456789abcdef"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
