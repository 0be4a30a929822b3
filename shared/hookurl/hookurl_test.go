package hookurl

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/netguard"
)

// urlOfLen returns an https URL of exactly n bytes.
func urlOfLen(n int) string {
	base := "https://hooks.example.com/"
	return base + strings.Repeat("a", n-len(base))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name         string
		raw          string
		allowPrivate bool
		want         string // "" when refused
	}{
		{"plain", "https://hooks.example.com/catch/abc", false, "https://hooks.example.com/catch/abc"},
		{"no path", "https://hooks.example.com", false, "https://hooks.example.com"},
		{"empty fragment after query", "https://hooks.example.com/x?a=1&b=%2F#", false, ""},
		{"query kept byte for byte", "https://hooks.example.com/x?a=1&b=%2F", false, "https://hooks.example.com/x?a=1&b=%2F"},
		{"path case kept", "https://hooks.example.com/A/b/C", false, "https://hooks.example.com/A/b/C"},
		{"port", "https://hooks.example.com:8443/x", false, "https://hooks.example.com:8443/x"},
		{"port 443 kept", "https://hooks.example.com:443/x", false, "https://hooks.example.com:443/x"},
		{"upper case scheme and host", "HTTPS://Hooks.EXAMPLE.com/Catch", false, "https://hooks.example.com/Catch"},
		{"trailing dot removed", "https://hooks.example.com./x", false, "https://hooks.example.com/x"},
		{"punycode", "https://xn--bcher-kva.example/x", true, "https://xn--bcher-kva.example/x"},
		{"punycode tld", "https://example.xn--p1ai/x", false, "https://example.xn--p1ai/x"},
		{"public IPv4", "https://8.8.8.8/x", false, "https://8.8.8.8/x"},
		{"public IPv6", "https://[2606:4700:4700::1111]:8443/x", false, "https://[2606:4700:4700::1111]:8443/x"},
		{"public IPv6 upper case", "https://[2606:4700:4700::ABCD]/x", false, "https://[2606:4700:4700::abcd]/x"},
		{"mapped public IPv6", "https://[::ffff:8.8.8.8]/", false, "https://[::ffff:8.8.8.8]/"},
		{"2048 bytes", urlOfLen(2048), false, urlOfLen(2048)},
		{"sub-delims and tilde", "https://h.example.com/a~b!$&'()*+,;=:@", false, "https://h.example.com/a~b!$&'()*+,;=:@"},

		{"2049 bytes", urlOfLen(2049), false, ""},
		{"empty", "", false, ""},
		{"http", "http://hooks.example.com/x", false, ""},
		{"http even when private allowed", "http://127.0.0.1/x", true, ""},
		{"ftp", "ftp://hooks.example.com/x", false, ""},
		{"relative", "/catch/abc", false, ""},
		{"scheme relative", "//hooks.example.com/x", false, ""},
		{"no slashes", "https:hooks.example.com/x", false, ""},
		{"one slash", "https:/hooks.example.com/x", false, ""},
		{"three slashes", "https:///hooks.example.com/x", false, ""},
		{"no host", "https:///x", false, ""},
		{"only port", "https://:443/x", false, ""},
		{"user info", "https://user:pass@hooks.example.com/x", false, ""},
		{"user only", "https://user@hooks.example.com/x", false, ""},
		{"empty user info", "https://@hooks.example.com/x", false, ""},
		{"user info private allowed", "https://u@127.0.0.1/x", true, ""},
		{"fragment", "https://hooks.example.com/x#frag", false, ""},
		{"empty fragment", "https://hooks.example.com/x#", false, ""},
		{"space", "https://hooks.example.com/a b", false, ""},
		{"leading space", " https://hooks.example.com/x", false, ""},
		{"trailing newline", "https://hooks.example.com/x\n", false, ""},
		{"tab", "https://hooks.example.com/\tx", false, ""},
		{"NUL", "https://hooks.example.com/\x00", false, ""},
		{"DEL", "https://hooks.example.com/\x7f", false, ""},
		{"CR LF in host", "https://hooks.example.com\r\nX: y/", false, ""},
		{"backslash", "https://hooks.example.com\\@127.0.0.1/", false, ""},
		{"unicode host", "https://bücher.example/x", false, ""},
		{"unicode path", "https://hooks.example.com/bücher", false, ""},
		{"bad percent", "https://hooks.example.com/%zz", false, ""},
		{"short percent", "https://hooks.example.com/%2", false, ""},
		{"percent in host", "https://%31%32%37.0.0.1/x", true, ""},
		{"empty port", "https://hooks.example.com:/x", false, ""},
		{"port 0", "https://hooks.example.com:0/x", false, ""},
		{"port too big", "https://hooks.example.com:65536/x", false, ""},
		{"port letters", "https://hooks.example.com:https/x", false, ""},
		{"underscore host", "https://my_host.example.com/x", false, ""},
		{"label starts with hyphen", "https://-a.example.com/x", false, ""},
		{"empty label", "https://a..example.com/x", false, ""},
		{"two trailing dots", "https://hooks.example.com../x", false, ""},
		{"long label", "https://" + strings.Repeat("a", 64) + ".example.com/", false, ""},
		{"numeric tld", "https://hooks.123/x", false, ""},
		{"hex tld", "https://hooks.0x1f/x", true, ""},
		{"five parts", "https://1.2.3.4.5/x", true, ""},
		{"part too big", "https://256.1.1.1/x", true, ""},

		{"localhost", "https://localhost/x", false, ""},
		{"localhost port", "https://localhost:3000/x", false, ""},
		{"LOCALHOST", "https://LOCALHOST/x", false, ""},
		{"localhost trailing dot", "https://localhost./x", false, ""},
		{"sub.localhost", "https://api.localhost/x", false, ""},
		{"single label", "https://intranet/x", false, ""},
		{"dot local", "https://printer.local/x", false, ""},
		{"dot internal", "https://metadata.google.internal/x", false, ""},
		{"home.arpa", "https://router.home.arpa/x", false, ""},
		{"dot test", "https://a.test/x", false, ""},
		{"dot onion", "https://abc.onion/x", false, ""},
		{"loopback", "https://127.0.0.1/x", false, ""},
		{"loopback trailing dot", "https://127.0.0.1./x", false, ""},
		{"short loopback", "https://127.1/x", false, ""},
		{"decimal loopback", "https://2130706433/x", false, ""},
		{"hex loopback", "https://0x7f000001/x", false, ""},
		{"octal loopback", "https://0177.0.0.1/x", false, ""},
		{"mixed loopback", "https://0x7f.1/x", false, ""},
		{"leading zeros", "https://127.000.000.001/x", false, ""},
		{"zero", "https://0/x", false, ""},
		{"unspecified", "https://0.0.0.0/x", false, ""},
		{"private", "https://10.1.2.3/x", false, ""},
		{"private 192.168", "https://192.168.1.1:8443/x", false, ""},
		{"metadata", "https://169.254.169.254/latest/meta-data", false, ""},
		{"shared space", "https://100.64.0.1/", false, ""},
		{"hex public refused", "https://0x08080808/x", false, ""},
		{"decimal public refused", "https://134744072/x", false, ""},
		{"IPv6 loopback", "https://[::1]/x", false, ""},
		{"IPv6 loopback port", "https://[::1]:8443/x", false, ""},
		{"IPv6 unspecified", "https://[::]/x", false, ""},
		{"mapped loopback", "https://[::ffff:127.0.0.1]/x", false, ""},
		{"mapped loopback hex", "https://[::ffff:7f00:1]/x", false, ""},
		{"NAT64 metadata", "https://[64:ff9b::a9fe:a9fe]/x", false, ""},
		{"6to4 private", "https://[2002:c0a8:101::1]/x", false, ""},
		{"teredo", "https://[2001::1]/x", false, ""},
		{"link local", "https://[fe80::1]/x", false, ""},
		{"zone", "https://[fe80::1%25eth0]/x", true, ""},
		{"unique local", "https://[fd00::1]/x", false, ""},
		{"IPv4 in brackets", "https://[127.0.0.1]/x", true, ""},
		{"IPv4 in brackets public", "https://[8.8.8.8]/x", false, ""},
		{"unbalanced bracket", "https://[::1/x", true, ""},
		{"junk after bracket", "https://[::1]x/", true, ""},
		{"bare IPv6", "https://::1/x", true, ""},

		{"private: localhost", "https://localhost:3000/x", true, "https://localhost:3000/x"},
		{"private: loopback", "https://127.0.0.1:8443/hook", true, "https://127.0.0.1:8443/hook"},
		{"private: IPv6 loopback", "https://[::1]:8443/hook", true, "https://[::1]:8443/hook"},
		{"private: mapped loopback", "https://[::ffff:127.0.0.1]/x", true, "https://[::ffff:127.0.0.1]/x"},
		{"private: single label", "https://vm:8443/x", true, "https://vm:8443/x"},
		{"private: rfc1918", "https://10.0.0.1/x", true, "https://10.0.0.1/x"},
		{"private: still no short forms", "https://127.1/x", true, ""},
		{"private: still no decimal", "https://2130706433/x", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Validate(tt.raw, tt.allowPrivate)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Validate(%q, %v) = %q, want error", tt.raw, tt.allowPrivate, got)
				}
				if !errors.Is(err, hook.ErrInvalidURL) {
					t.Errorf("Validate(%q) error = %v, want it to wrap hook.ErrInvalidURL", tt.raw, err)
				}
				if got != "" {
					t.Errorf("Validate(%q) = %q with an error, want empty", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%q, %v) error = %v, want %q", tt.raw, tt.allowPrivate, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("Validate(%q, %v) = %q, want %q", tt.raw, tt.allowPrivate, got, tt.want)
			}
		})
	}
}

// TestValidateDuplicatesCompareStoredForm shows which spellings of one URL
// store the same string.
func TestValidateDuplicatesCompareStoredForm(t *testing.T) {
	same := []string{
		"https://hooks.example.com/x",
		"HTTPS://HOOKS.EXAMPLE.COM/x",
		"https://Hooks.Example.Com./x",
	}
	for _, raw := range same {
		got, err := Validate(raw, false)
		if err != nil {
			t.Fatalf("Validate(%q): %v", raw, err)
		}
		if got != same[0] {
			t.Errorf("Validate(%q) = %q, want %q", raw, got, same[0])
		}
	}
	got, err := Validate("https://hooks.example.com/X", false)
	if err != nil || got == same[0] {
		t.Errorf("Validate of a different path = %q, %v; want a distinct stored URL", got, err)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/catch/abc?x=1",
		"https://127.0.0.1/",
		"https://[::ffff:127.0.0.1]:8443/",
		"https://0x7f.1/",
		"https://user@example.com/",
		"https://localhost./",
		"HTTPS://EXAMPLE.COM./a#b",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		got, err := Validate(raw, allowPrivate)
		if err != nil {
			if !errors.Is(err, hook.ErrInvalidURL) {
				t.Fatalf("Validate(%q) error %v does not wrap ErrInvalidURL", raw, err)
			}
			if got != "" {
				t.Fatalf("Validate(%q) = %q with error", raw, got)
			}
			return
		}
		if len(got) > MaxLen {
			t.Fatalf("Validate(%q) = %q: %d bytes", raw, got, len(got))
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Validate(%q) = %q: does not parse: %v", raw, got, err)
		}
		if u.Scheme != "https" || !strings.HasPrefix(got, "https://") {
			t.Fatalf("Validate(%q) = %q: not https", raw, got)
		}
		if u.User != nil || u.Fragment != "" || strings.Contains(got, "#") {
			t.Fatalf("Validate(%q) = %q: user info or fragment", raw, got)
		}
		host := u.Hostname()
		if host == "" {
			t.Fatalf("Validate(%q) = %q: no host", raw, got)
		}
		for _, c := range []byte(got) {
			if c <= ' ' || c >= 0x7f || c == '\\' {
				t.Fatalf("Validate(%q) = %q: byte %#x", raw, got, c)
			}
		}
		if again, err := Validate(got, allowPrivate); err != nil || again != got {
			t.Fatalf("Validate(Validate(%q)) = %q, %v; want %q (idempotent)", raw, again, err, got)
		}
		if allowPrivate {
			return
		}
		if ip, ok := netguard.ParseHostIP(host); ok {
			if !netguard.Allowed(ip) {
				t.Fatalf("Validate(%q) = %q: refused address %v accepted", raw, got, ip)
			}
			return
		}
		lower := strings.ToLower(host)
		if lower == "localhost" || strings.HasSuffix(lower, ".localhost") || !strings.Contains(lower, ".") {
			t.Fatalf("Validate(%q) = %q: local name accepted", raw, got)
		}
	})
}
