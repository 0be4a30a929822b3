// Package netguard decides which IP addresses the service may contact: only
// globally reachable unicast addresses, as the IANA IPv4 and IPv6
// Special-Purpose Address Registries define them. It also gives a
// net.Dialer Control function that applies that policy to the address
// actually dialled (after DNS, so DNS rebinding cannot get past it), and a
// parser for the host literals that browsers and resolvers accept.
//
// It does not resolve names, does not validate URLs (see package hookurl)
// and does not log.
//
// Policy choices beyond the registries:
//   - Whole blocks are refused where the registry marks only some of their
//     members globally reachable: 192.0.0.0/24 (PCP/TURN anycast) and
//     2001::/23 (PCP/TURN/DNS-SD anycast, AMT, AS112, ORCHIDv2, DETs). None
//     is a plausible webhook endpoint.
//   - Teredo (2001::/32) is refused outright rather than decoding its
//     obfuscated client IPv4 address: no real endpoint is Teredo-only.
//   - IPv6 outside 2000::/3 (the only block IANA allocates global unicast
//     from) is refused, except the IPv4-carrying ::ffff:0:0/96 and
//     64:ff9b::/96, which are judged by the IPv4 address they carry.
//     64:ff9b:1::/48 (local-use translation) is refused whatever it carries.
//   - 2002::/16 (6to4) is judged by its embedded IPv4 address.
//   - Multicast (224.0.0.0/4, ff00::/8) is refused, and so is any address
//     with a zone.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// ErrBlocked is returned (wrapped) by the Control function when the dialled
// address is not allowed. It survives the net.OpError and url.Error chain,
// so callers can detect it with errors.Is.
var ErrBlocked = errors.New("address not allowed")

// refused4 are the IPv4 blocks that are not globally reachable.
var refused4 = prefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private use
	"100.64.0.0/10",   // shared address space (CGN)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link local, cloud metadata
	"172.16.0.0/12",   // private use
	"192.0.0.0/24",    // IETF protocol assignments (whole block, see package doc)
	"192.0.2.0/24",    // documentation TEST-NET-1
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private use
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation TEST-NET-2
	"203.0.113.0/24",  // documentation TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, includes 255.255.255.255 limited broadcast
)

var (
	// globalUnicast6 is the only IPv6 block IANA allocates unicast from.
	// Outside it lie, among others, ::/128, ::1/128, the deprecated
	// IPv4-compatible ::/96, 64:ff9b:1::/48, 100::/64, 5f00::/16, fc00::/7,
	// fe80::/10, fec0::/10 and ff00::/8: all refused.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// refused6 are the blocks inside 2000::/3 that are not globally reachable.
var refused6 = prefixes(
	"2001::/23",     // IETF protocol assignments, incl. Teredo 2001::/32 and benchmarking 2001:2::/48
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// Allowed reports whether ip is a globally reachable unicast address that
// the service may contact. IPv6 forms that carry an IPv4 address are judged
// by that address.
func Allowed(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.Is4In6() {
		return allowed4(ip.Unmap())
	}
	if ip.Is4() {
		return allowed4(ip)
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return allowed4(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if !globalUnicast6.Contains(ip) {
		return false
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return allowed4(netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, p := range refused6 {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func allowed4(ip netip.Addr) bool {
	for _, p := range refused4 {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Control returns a function for net.Dialer.Control that refuses to connect
// to any address Allowed rejects, and to anything but TCP. The error wraps
// ErrBlocked. With allowPrivate (local runs and tests only) every address is
// accepted.
func Control(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	if allowPrivate {
		return func(string, string, syscall.RawConn) error { return nil }
	}
	return func(network, address string, _ syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("dial %s: %w", network, ErrBlocked)
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial: unparsable address: %w", ErrBlocked)
		}
		if !Allowed(ap.Addr()) {
			return fmt.Errorf("dial %s: %w", ap.Addr(), ErrBlocked)
		}
		return nil
	}
}

// ParseHostIP parses host as an IP address literal, in any form a browser
// (WHATWG URL) or the C resolver (inet_aton) would take as an address:
// dotted decimal, a single 32-bit number (2130706433), octal (0177.0.0.1)
// or hex (0x7f.1) parts, fewer than four parts (127.1), one trailing dot,
// and IPv6 with or without brackets. IPv6 zones (fe80::1%eth0) are refused.
// ok is false when host is not such a literal; callers must then treat it as
// a name, and should refuse names whose last label looks numeric.
func ParseHostIP(host string) (ip netip.Addr, ok bool) {
	if strings.HasPrefix(host, "[") || strings.HasSuffix(host, "]") {
		if len(host) < 2 || host[0] != '[' || host[len(host)-1] != ']' {
			return netip.Addr{}, false
		}
		return parseIPv6(host[1 : len(host)-1])
	}
	if strings.Contains(host, ":") {
		return parseIPv6(host)
	}
	return parseIPv4(host)
}

func parseIPv6(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parseIPv4 follows the WHATWG URL standard's IPv4 parser.
func parseIPv4(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		last := i == len(parts)-1
		if !last {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number parses one part: 0x/0X prefix hex (possibly empty),
// leading 0 octal, otherwise decimal.
func parseIPv4Number(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		p, base = p[1:], 8
	}
	// ParseUint with an explicit base takes neither signs nor underscores.
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
