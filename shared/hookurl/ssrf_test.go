package hookurl

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/netguard"
)

// The SSRF suite at creation time: every refused range (shared/webhook/README.md), in
// every spelling a browser, inet_aton or Go could read as that address, must
// be refused by Validate with allowPrivate false. The same spellings of a
// public address are run as a control, so a test that passes only because
// the generator builds garbage would fail.

// refusedIPv4 holds addresses at the edges of each refused IPv4 range, plus the ones an attacker would pick.
var refusedIPv4 = []string{
	"0.0.0.0", "0.255.255.255", // 0.0.0.0/8
	"10.0.0.1", "10.255.255.255", // 10/8
	"100.64.0.0", "100.127.255.255", // 100.64/10
	"127.0.0.1", "127.255.255.254", // 127/8
	"169.254.169.254", "169.254.0.1", // 169.254/16, cloud metadata
	"172.16.0.1", "172.31.255.255", // 172.16/12
	"192.168.0.1", "192.168.255.255", // 192.168/16
	"198.18.0.1", "198.19.255.255", // 198.18/15
	"224.0.0.1", "239.255.255.255", // 224/4
	"240.0.0.1", "255.255.255.255", // 240/4
}

// ipv4Form is one spelling of an IPv4 address as a URL host.
type ipv4Form struct {
	name string
	host func(a [4]byte) string
	// ipv6 forms carry the address inside an IPv6 literal; carried
	// extracts it again so the generator itself is checked.
	carried func(ip netip.Addr) netip.Addr
	// publicOK: Validate accepts this form for a public address. The
	// other forms are refused whatever the address (package doc).
	publicOK bool
	// decimalReading: the host means the address only to a parser that
	// reads zero-padded parts as decimal; inet_aton and browsers read them
	// as octal (010 is 8). Refused for being ambiguous.
	decimalReading bool
}

func u32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func last4(ip netip.Addr) netip.Addr { b := ip.As16(); return netip.AddrFrom4([4]byte(b[12:])) }

var ipv4Forms = []ipv4Form{
	{name: "dotted", publicOK: true, host: func(a [4]byte) string { return netip.AddrFrom4(a).String() }},
	{name: "decimal", host: func(a [4]byte) string { return fmt.Sprint(u32(a)) }},
	{name: "octal", host: func(a [4]byte) string { return fmt.Sprintf("0%o", u32(a)) }},
	{name: "octal parts", host: func(a [4]byte) string {
		return fmt.Sprintf("0%o.0%o.0%o.0%o", a[0], a[1], a[2], a[3])
	}},
	{name: "hex", host: func(a [4]byte) string { return fmt.Sprintf("0x%x", u32(a)) }},
	{name: "hex upper", host: func(a [4]byte) string { return fmt.Sprintf("0X%X", u32(a)) }},
	{name: "hex parts", host: func(a [4]byte) string {
		return fmt.Sprintf("0x%02x.0x%02X.0x%x.0X%x", a[0], a[1], a[2], a[3])
	}},
	{name: "short 3 parts", host: func(a [4]byte) string {
		return fmt.Sprintf("%d.%d.%d", a[0], a[1], uint32(a[2])<<8|uint32(a[3]))
	}},
	{name: "short 2 parts", host: func(a [4]byte) string {
		return fmt.Sprintf("%d.%d", a[0], u32(a)&0xffffff)
	}},
	{name: "short hex 2 parts", host: func(a [4]byte) string {
		return fmt.Sprintf("0x%x.0x%x", a[0], u32(a)&0xffffff)
	}},
	{name: "zero-padded decimal parts", decimalReading: true, host: func(a [4]byte) string {
		return fmt.Sprintf("%03d.%03d.%03d.%03d", a[0], a[1], a[2], a[3])
	}},
	{name: "mapped", publicOK: true, carried: netip.Addr.Unmap, host: func(a [4]byte) string {
		return "[::ffff:" + netip.AddrFrom4(a).String() + "]"
	}},
	{name: "mapped hex upper", publicOK: true, carried: netip.Addr.Unmap, host: func(a [4]byte) string {
		return fmt.Sprintf("[::FFFF:%X:%X]", u32(a)>>16, u32(a)&0xffff)
	}},
	{name: "mapped long", publicOK: true, carried: netip.Addr.Unmap, host: func(a [4]byte) string {
		return fmt.Sprintf("[0000:0000:0000:0000:0000:ffff:%04x:%04x]", u32(a)>>16, u32(a)&0xffff)
	}},
	{name: "NAT64", publicOK: true, carried: last4, host: func(a [4]byte) string {
		return "[64:ff9b::" + netip.AddrFrom4(a).String() + "]"
	}},
	{name: "NAT64 hex upper", publicOK: true, carried: last4, host: func(a [4]byte) string {
		return fmt.Sprintf("[64:FF9B::%X:%X]", u32(a)>>16, u32(a)&0xffff)
	}},
	{name: "6to4", publicOK: true, host: func(a [4]byte) string {
		return fmt.Sprintf("[2002:%x:%x::1]", u32(a)>>16, u32(a)&0xffff)
	}, carried: func(ip netip.Addr) netip.Addr { b := ip.As16(); return netip.AddrFrom4([4]byte(b[2:6])) }},
	{name: "Teredo", host: func(a [4]byte) string {
		// Server 65.54.227.120, client port obfuscated, client address
		// obfuscated (inverted) in the last 32 bits.
		c := ^u32(a)
		return fmt.Sprintf("[2001:0:4136:e378:8000:63bf:%x:%x]", c>>16, c&0xffff)
	}, carried: func(ip netip.Addr) netip.Addr {
		b := ip.As16()
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
	}},
	{name: "IPv4-compatible", carried: last4, host: func(a [4]byte) string {
		return "[::" + netip.AddrFrom4(a).String() + "]"
	}},
}

// checkForm fails the test when host does not spell a, so that a refusal is
// known to be about the address and not about a broken generator.
func checkForm(t *testing.T, f ipv4Form, host string, a netip.Addr) {
	t.Helper()
	if f.decimalReading {
		var b [4]int
		if n, err := fmt.Sscanf(host, "%d.%d.%d.%d", &b[0], &b[1], &b[2], &b[3]); err != nil || n != 4 ||
			netip.AddrFrom4([4]byte{byte(b[0]), byte(b[1]), byte(b[2]), byte(b[3])}) != a {
			t.Fatalf("test generator: %s form %q does not spell %v in decimal", f.name, host, a)
		}
		return
	}
	ip, ok := netguard.ParseHostIP(host)
	if !ok {
		t.Fatalf("test generator: %s form %q does not parse as an address", f.name, host)
	}
	if f.carried != nil {
		ip = f.carried(ip)
	}
	if ip != a {
		t.Fatalf("test generator: %s form %q spells %v, want %v", f.name, host, ip, a)
	}
}

// variants returns the URLs built around one host spelling: plain, with a
// port, upper case, with a trailing dot (names and IPv4 only: a dot after
// "]" is junk), and behind user info naming a public host.
func variants(host string) map[string]string {
	v := map[string]string{
		"plain":      "https://" + host + "/hook",
		"port":       "https://" + host + ":443/hook",
		"upper case": strings.ToUpper("https://" + host + "/hook"),
		"user info":  "https://hooks.example.com@" + host + "/hook",
	}
	if !strings.HasPrefix(host, "[") {
		v["trailing dot"] = "https://" + host + "./hook"
		v["trailing dot upper case"] = strings.ToUpper("https://" + host + ".:8443/hook")
	}
	return v
}

func wantRefused(t *testing.T, raw string) {
	t.Helper()
	got, err := Validate(raw, false)
	if err == nil {
		t.Fatalf("Validate(%q, false) = %q, want Invalid URI", raw, got)
	}
	if !errors.Is(err, hook.ErrInvalidURL) || got != "" {
		t.Fatalf("Validate(%q, false) = %q, %v; want \"\" and an error wrapping hook.ErrInvalidURL", raw, got, err)
	}
}

func TestSSRFCreationRefusesEveryIPv4RangeInEveryForm(t *testing.T) {
	for _, s := range refusedIPv4 {
		a := netip.MustParseAddr(s)
		if netguard.Allowed(a) {
			t.Fatalf("test table: %s is allowed by netguard, want a refused address", s)
		}
		for _, f := range ipv4Forms {
			host := f.host(a.As4())
			t.Run(s+"/"+f.name, func(t *testing.T) {
				checkForm(t, f, host, a)
				for vname, raw := range variants(host) {
					t.Run(vname, func(t *testing.T) { wantRefused(t, raw) })
				}
			})
		}
	}
}

// TestSSRFCreationPublicControl runs the same spellings for public
// addresses: the forms a careful client may use are accepted, so the
// refusals above are about the address, not the spelling.
func TestSSRFCreationPublicControl(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.215.14"} {
		a := netip.MustParseAddr(s)
		for _, f := range ipv4Forms {
			host := f.host(a.As4())
			t.Run(s+"/"+f.name, func(t *testing.T) {
				checkForm(t, f, host, a)
				raw := "https://" + host + "/hook"
				got, err := Validate(raw, false)
				if !f.publicOK {
					if err == nil {
						t.Fatalf("Validate(%q) = %q, want refused: the %s form is refused whatever the address", raw, got, f.name)
					}
					return
				}
				if want := "https://" + strings.ToLower(host) + "/hook"; err != nil || got != want {
					t.Fatalf("Validate(%q) = %q, %v; want %q", raw, got, err, want)
				}
				if got, err := Validate(strings.ToUpper(raw), false); err != nil {
					t.Errorf("Validate(%q) = %q, %v; want accepted", strings.ToUpper(raw), got, err)
				}
			})
		}
	}
}

func TestSSRFCreationRefusesEveryIPv6Range(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
	}{
		{"::/128", []string{"[::]", "[0::0]", "[0000:0000:0000:0000:0000:0000:0000:0000]", "[::0.0.0.0]"}},
		{"::1", []string{"[::1]", "[0:0:0:0:0:0:0:1]", "[0000:0000:0000:0000:0000:0000:0000:0001]", "[::0:1]", "[::0.0.0.1]"}},
		{"fc00::/7", []string{"[fc00::]", "[FC00::1]", "[fd00::2]", "[fd12:3456:789a::1]", "[FDFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF]"}},
		{"fe80::/10", []string{"[fe80::]", "[fe80::1]", "[FE80::FC:FF:FE00:1]", "[fe80:0000:0000:0000:0000:0000:0000:0001]", "[febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"}},
		{"ff00::/8", []string{"[ff00::]", "[ff02::1]", "[FF05::1:3]", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"}},
		{"deprecated site local", []string{"[fec0::1]"}},
		{"NAT64 local-use", []string{"[64:ff9b:1::808:808]"}},
		{"Teredo", []string{"[2001::]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[2001:0000:ffff:ffff:ffff:ffff:ffff:ffff]"}},
		{"6to4 anycast relay 192.88.99.0/24", []string{"[2002:c058:6301::1]"}},
	}
	for _, tt := range tests {
		for _, host := range tt.hosts {
			t.Run(tt.name+"/"+host, func(t *testing.T) {
				ip, ok := netguard.ParseHostIP(host)
				if !ok || netguard.Allowed(ip) {
					t.Fatalf("test table: %q parses %v ok=%v allowed=%v, want a refused IPv6 literal", host, ip, ok, netguard.Allowed(ip))
				}
				for vname, raw := range variants(host) {
					t.Run(vname, func(t *testing.T) { wantRefused(t, raw) })
				}
				// A zone, a dot after the bracket and a bracket-less
				// literal are refused as malformed.
				bare := strings.Trim(host, "[]")
				for _, raw := range []string{
					"https://[" + bare + "%25eth0]/hook",
					"https://[" + bare + "%eth0]/hook",
					"https://" + host + "./hook",
					"https://" + bare + "/hook",
				} {
					wantRefused(t, raw)
				}
			})
		}
	}
	// Control: a public IPv6 address in the same spellings is accepted.
	for _, host := range []string{"[2606:4700:4700::1111]", "[2606:4700:4700:0000:0000:0000:0000:1111]", "[2606:4700:4700::ABCD]"} {
		if got, err := Validate("https://"+host+"/hook", false); err != nil {
			t.Errorf("control: Validate(%q) = %q, %v; want accepted", host, got, err)
		}
	}
}

// loopbackNames reads the names /etc/hosts maps to a loopback address.
func loopbackNames(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("/etc/hosts")
	if err != nil {
		t.Skipf("no /etc/hosts: %v", err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(fields[0])
		if err != nil || !ip.IsLoopback() {
			continue
		}
		names = append(names, fields[1:]...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Skip("/etc/hosts maps no name to loopback")
	}
	return names
}

// TestSSRFCreationLoopbackHostNames: Validate does not resolve names, so a
// name that /etc/hosts points at loopback is refused here only when it can
// never be public (single label, localhost, special-use suffix). Any other
// name is left to the dial-time check, which the webhook package's suite
// proves with the same /etc/hosts names.
func TestSSRFCreationLoopbackHostNames(t *testing.T) {
	refused := 0
	for _, name := range loopbackNames(t) {
		lower := strings.ToLower(strings.TrimSuffix(name, "."))
		neverPublic := !strings.Contains(lower, ".") || lower == "localhost" || strings.HasSuffix(lower, ".localhost") ||
			specialTLDs[lower[strings.LastIndexByte(lower, '.')+1:]]
		if !neverPublic {
			t.Logf("%s resolves to loopback here but looks public: the dial-time check covers it", name)
			continue
		}
		refused++
		for _, host := range []string{name, strings.ToUpper(name), name + ".", strings.ToUpper(name) + "."} {
			t.Run(host, func(t *testing.T) {
				for vname, raw := range variants(host) {
					t.Run(vname, func(t *testing.T) { wantRefused(t, raw) })
				}
			})
		}
	}
	if refused == 0 {
		t.Skip("no never-public loopback name in /etc/hosts")
	}
}

// TestSSRFCreationUserInfo: user info is refused whatever it holds and
// whichever side of the "@" the private address sits on, including the
// spellings where parsers disagree on where the authority ends.
func TestSSRFCreationUserInfo(t *testing.T) {
	for _, raw := range []string{
		"https://127.0.0.1:443@hooks.example.com/",     // the host is public; still refused
		"https://hooks.example.com:443@127.0.0.1/",     // user "hooks.example.com", password "443"
		"https://:@hooks.example.com/",                 // empty user and password
		"https://user%40x@hooks.example.com/",          // encoded @ in the user
		"https://hooks.example.com%40127.0.0.1/",       // encoded @ in the host
		"https://8.8.8.8@[::1]/",                       // IPv6 behind user info
		"https://a@b@hooks.example.com/",               // two @
		"https://hooks.example.com/@127.0.0.1/",        // "@" in the path is not user info: accepted
		"https://hooks.example.com?@127.0.0.1/",        // "@" in the query is not user info: accepted
		"https://hooks.example.com\\@127.0.0.1/",       // backslash, read as "/" by browsers
		"https://hooks.example.com\t@127.0.0.1/",       // tab, stripped by browsers
		"https://hooks.example.com%2F@127.0.0.1/",      // encoded slash before @
		"https://[::ffff:127.0.0.1]@hooks.example.com", // literal in the user part
	} {
		t.Run(raw, func(t *testing.T) {
			got, err := Validate(raw, false)
			public := strings.Contains(raw, "/@") || strings.Contains(raw, "?@")
			if public {
				// The host is hooks.example.com; the @ lives in the path
				// or query and the URL is stored byte for byte.
				if err != nil || got != raw {
					t.Fatalf("Validate(%q) = %q, %v; want it accepted unchanged", raw, got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%q, false) = %q, want Invalid URI", raw, got)
			}
		})
	}
}
