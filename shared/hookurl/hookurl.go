// Package hookurl decides whether a URL is acceptable as a hook target and
// returns the form to store. It implements the "Invalid URI" rules of the
// hooks API: absolute HTTPS only, at most MaxLen bytes, no user info, no
// fragment, and no host that can never be public.
//
// It does not resolve names and cannot know where a name will point:
// package netguard checks the address actually dialled at every delivery.
// It does not log.
//
// Rules beyond the specification, and why:
//   - Only the characters RFC 3986 allows in a URI are accepted, so control
//     characters, whitespace, backslashes and raw non-ASCII are refused:
//     send paths and queries percent-encoded. Percent-encoding is refused in
//     the host (no "%31%32%37.0.0.1"), and so are IPv6 zones.
//   - Internationalised host names must be given in their ASCII (punycode,
//     "xn--") form; Unicode host names are refused, not converted.
//   - A fragment (even an empty "#") is refused: it is never sent to the
//     server, so two URLs differing only by fragment would be the same
//     endpoint under two entries.
//   - IPv4 literals must be in plain dotted-decimal form. Other forms that
//     browsers or inet_aton read as addresses (2130706433, 0x7f.1, 0177.0.0.1,
//     127.1, "1.2.3.4.") are refused whatever the address, because Go's own
//     resolver reads them as names: what we check would not be what we dial.
//     Names whose last label is numeric are refused for the same reason.
//   - Unless allowPrivate: single-label names (resolved through search
//     domains, so internal), top-level labels that are not letters or
//     "xn--", and the special-use names localhost, *.localhost, .local,
//     .internal, .home.arpa, .test, .example, .invalid, .onion and .alt are
//     refused.
//
// The returned URL is the input with only these normalisations: the scheme
// and host are lower-cased and one trailing dot of a host name is removed.
// Path, query, port and percent-encoding are kept byte for byte. Duplicate
// detection compares these stored strings, so URLs that differ in any other
// way (":443", an empty path, "%7E" versus "~") are distinct hooks.
package hookurl

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/netguard"
)

// MaxLen is the longest URL accepted, in bytes.
const MaxLen = 2048

const scheme = "https://"

// specialTLDs are top-level names reserved for non-public use (RFC 6761,
// RFC 6762, RFC 8375, RFC 9476, ICANN's .internal).
var specialTLDs = map[string]bool{
	"localhost": true,
	"local":     true,
	"internal":  true,
	"test":      true,
	"example":   true,
	"invalid":   true,
	"onion":     true,
	"alt":       true,
}

// RedactedQuery replaces the query string of a redacted hook URL.
const RedactedQuery = "?[redacted]"

// Redact returns raw as it may be shown or queued: scheme, host (with port)
// and path only. A query string is replaced by RedactedQuery; a fragment and
// user info are dropped. A URL that does not parse as an absolute URL is not
// shown at all. Redact of a redacted URL is that URL. It is the one
// redaction of the service: alert messages and alert emails both use it.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "(not shown: not a valid absolute URL)"
	}
	out := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if u.RawQuery != "" || u.ForceQuery {
		out += RedactedQuery
	}
	return out
}

// Validate checks raw as a hook URL and returns the string to store. The
// error wraps hook.ErrInvalidURL and says why, for logs; it is not meant
// for clients. allowPrivate (local runs and tests only) accepts loopback,
// private and special-use hosts.
func Validate(raw string, allowPrivate bool) (string, error) {
	stored, err := validate(raw, allowPrivate)
	if err != nil {
		return "", fmt.Errorf("%w: %s", hook.ErrInvalidURL, err)
	}
	return stored, nil
}

type reason string

func (r reason) Error() string { return string(r) }

func validate(raw string, allowPrivate bool) (string, error) {
	if raw == "" {
		return "", reason("empty")
	}
	if len(raw) > MaxLen {
		return "", reason("longer than 2048 bytes")
	}
	if err := checkChars(raw); err != nil {
		return "", err
	}
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return "", reason("not an absolute https URL")
	}
	if strings.Contains(raw, "#") {
		return "", reason("has a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", reason("unparsable")
	}
	if u.Scheme != "https" || u.Opaque != "" {
		return "", reason("not an absolute https URL")
	}
	if u.User != nil {
		return "", reason("has user info")
	}

	rest := raw[len(scheme):]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.Contains(authority, "@") {
		return "", reason("has user info")
	}
	if strings.Contains(authority, "%") {
		return "", reason("percent-encoded host")
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return "", err
	}
	// Go's HTTP client dials what url.Parse finds: make sure it agrees with
	// what we checked.
	if !strings.EqualFold(strings.Trim(host, "[]"), u.Hostname()) || port != u.Port() {
		return "", reason("ambiguous authority")
	}

	host, err = checkHost(host, allowPrivate)
	if err != nil {
		return "", err
	}
	stored := scheme + host
	if port != "" {
		stored += ":" + port
	}
	return stored + tail, nil
}

// checkChars accepts only RFC 3986 characters, with well-formed
// percent-encoding.
func checkChars(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return reason("malformed percent-encoding")
			}
		default:
			return reason("character not allowed in a URI")
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// splitHostPort splits an authority without user info. The port, when
// present, is 1 to 65535.
func splitHostPort(authority string) (host, port string, err error) {
	host = authority
	if strings.HasPrefix(authority, "[") {
		i := strings.IndexByte(authority, ']')
		if i < 0 {
			return "", "", reason("unbalanced brackets")
		}
		host = authority[:i+1]
		switch after := authority[i+1:]; {
		case after == "":
		case after[0] == ':':
			port = after[1:]
			if port == "" {
				return "", "", reason("empty port")
			}
		default:
			return "", "", reason("junk after IPv6 literal")
		}
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
		if port == "" {
			return "", "", reason("empty port")
		}
	}
	if host == "" {
		return "", "", reason("no host")
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "", "", reason("bad port")
		}
	}
	return host, port, nil
}

// checkHost returns the host to store, or why it is refused.
func checkHost(host string, allowPrivate bool) (string, error) {
	host = strings.ToLower(host)
	if strings.HasPrefix(host, "[") {
		ip, ok := netguard.ParseHostIP(host)
		if !ok {
			return "", reason("bad IPv6 literal")
		}
		if !allowPrivate && !netguard.Allowed(ip) {
			return "", reason("address can never be public")
		}
		return host, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		if !allowPrivate && !netguard.Allowed(ip) {
			return "", reason("address can never be public")
		}
		return host, nil
	}
	if _, ok := netguard.ParseHostIP(host); ok {
		return "", reason("IPv4 literal not in dotted-decimal form")
	}
	name := strings.TrimSuffix(host, ".")
	if err := checkName(name); err != nil {
		return "", err
	}
	if !allowPrivate {
		if err := checkPublicName(name); err != nil {
			return "", err
		}
	}
	return name, nil
}

// checkName checks DNS host name syntax (letters, digits, hyphens; labels
// of 1 to 63 bytes not starting or ending with a hyphen; 253 bytes in all)
// and refuses a numeric-looking last label.
func checkName(name string) error {
	if name == "" || len(name) > 253 {
		return reason("bad host name length")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return reason("bad host name label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return reason("bad host name character")
			}
		}
	}
	if endsInNumber(labels[len(labels)-1]) {
		return reason("host name ends in a number")
	}
	return nil
}

// endsInNumber follows the WHATWG URL standard: a last label of digits, or
// 0x followed by hex digits, makes the host an IPv4 address (or invalid).
func endsInNumber(l string) bool {
	if strings.HasPrefix(l, "0x") {
		l = l[2:]
		for i := 0; i < len(l); i++ {
			if !isHex(l[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

// checkPublicName refuses names that can never resolve to a public host.
func checkPublicName(name string) error {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return reason("single-label host name")
	}
	tld := name[i+1:]
	if !strings.HasPrefix(tld, "xn--") {
		for j := 0; j < len(tld); j++ {
			if tld[j] < 'a' || tld[j] > 'z' {
				return reason("top-level label not alphabetic")
			}
		}
	}
	if specialTLDs[tld] || name == "home.arpa" || strings.HasSuffix(name, ".home.arpa") {
		return reason("special-use name")
	}
	return nil
}
