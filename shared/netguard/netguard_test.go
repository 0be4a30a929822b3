package netguard

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		// Public IPv4.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"1.0.0.0", true},
		{"9.255.255.255", true},
		{"11.0.0.0", true},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"126.255.255.255", true},
		{"128.0.0.0", true},
		{"169.253.255.255", true},
		{"169.255.0.0", true},
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		{"191.255.255.255", true},
		{"192.0.1.0", true},
		{"192.0.3.0", true},
		{"192.31.196.1", true},  // AS112-v4, globally reachable
		{"192.175.48.1", true},  // direct delegation AS112, globally reachable
		{"192.88.98.255", true}, // just below 192.88.99/24
		{"192.88.100.0", true},
		{"192.167.255.255", true},
		{"192.169.0.0", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		{"198.51.99.255", true},
		{"198.51.101.0", true},
		{"203.0.112.255", true},
		{"203.0.114.0", true},
		{"223.255.255.255", true},

		// Refused IPv4, first and last address of each block.
		{"0.0.0.0", false},
		{"0.255.255.255", false},
		{"10.0.0.0", false},
		{"10.255.255.255", false},
		{"100.64.0.0", false},
		{"100.127.255.255", false},
		{"127.0.0.0", false},
		{"127.0.0.1", false},
		{"127.255.255.255", false},
		{"169.254.0.0", false},
		{"169.254.169.254", false},
		{"169.254.255.255", false},
		{"172.16.0.0", false},
		{"172.31.255.255", false},
		{"192.0.0.0", false},
		{"192.0.0.9", false}, // PCP anycast: reachable per registry, refused with its /24
		{"192.0.0.255", false},
		{"192.0.2.0", false},
		{"192.0.2.255", false},
		{"192.88.99.0", false},
		{"192.88.99.255", false},
		{"192.168.0.0", false},
		{"192.168.255.255", false},
		{"198.18.0.0", false},
		{"198.19.255.255", false},
		{"198.51.100.0", false},
		{"198.51.100.255", false},
		{"203.0.113.0", false},
		{"203.0.113.255", false},
		{"224.0.0.0", false},
		{"239.255.255.255", false},
		{"240.0.0.0", false},
		{"255.255.255.254", false},
		{"255.255.255.255", false},

		// Public IPv6.
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"2000::", true},
		{"2001:200::", true}, // just past 2001::/23
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:db9::", true},
		{"2620:4f:8000::1", true}, // direct delegation AS112, globally reachable
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"3fff:1000::", true}, // just past 3fff::/20

		// Refused IPv6.
		{"::", false},
		{"::1", false},
		{"::2", false},
		{"100::", false},
		{"100::ffff:ffff:ffff:ffff", false},
		{"100:0:0:1::1", false}, // dummy prefix
		{"64:ff9b:1::", false},
		{"64:ff9b:1::808:808", false}, // local-use translation, refused whatever it carries
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", false},
		{"2001::", false},                                  // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},    // Teredo carrying a public address
		{"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false},    // Teredo, last
		{"2001:1::1", false},                               // PCP anycast, refused with its /23
		{"2001:2::", false},                                // benchmarking
		{"2001:10::1", false},                              // ORCHID
		{"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false},  // end of 2001::/23
		{"2001:db8::", false},                              // documentation
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false},  // documentation, last
		{"3fff::", false},                                  // documentation
		{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", false},  // documentation, last
		{"5f00::", false},                                  // SRv6 SIDs
		{"5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // SRv6 SIDs, last
		{"fc00::", false},                                  // unique local
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // unique local, last
		{"fe80::", false},                                  // link local
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // link local, last
		{"fec0::1", false},                                 // deprecated site local
		{"ff00::", false},                                  // multicast
		{"ff02::1", false},                                 // multicast
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // multicast, last
		{"4000::1", false},                                 // unallocated
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // below 2000::/3
		{"4000::", false},                                  // above 2000::/3
		{"0:0:0:0:0:1:0:0", false},                         // unassigned ::/8
		{"::808:808", false},                               // deprecated IPv4-compatible
		{"::7f00:1", false},                                // deprecated IPv4-compatible loopback
		{"::fffe:808:808", false},                          // not a mapped address
		{"::ffff:0:808:808", false},                        // SIIT ::ffff:0:0:0/96 is not ::ffff:0:0/96
		{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", false},   // next to NAT64, outside 2000::/3
		{"64:ff9b:0:0:0:1:808:808", false},                 // 64:ff9b::/64 but not /96
		{"2002:7f00:1::", false},                           // 6to4 carrying 127.0.0.1
		{"2002:a00:1::1", false},                           // 6to4 carrying 10.0.0.1
		{"2002:c000:204::1", false},                        // 6to4 carrying 192.0.2.4
		{"2002:a9fe:a9fe::", false},                        // 6to4 carrying 169.254.169.254
		{"2002::", false},                                  // 6to4 carrying 0.0.0.0
		{"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, // 6to4 carrying 255.255.255.255
		{"2002:808:808::1", true},                          // 6to4 carrying 8.8.8.8
		{"2002:101:101:ffff:ffff:ffff:ffff:ffff", true},    // 6to4 carrying 1.1.1.1
		{"64:ff9b::808:808", true},                         // NAT64 carrying 8.8.8.8
		{"64:ff9b::7f00:1", false},                         // NAT64 carrying 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false},                      // NAT64 carrying 169.254.169.254
		{"64:ff9b::c0a8:1", false},                         // NAT64 carrying 192.168.0.1
		{"64:ff9b::", false},                               // NAT64 carrying 0.0.0.0
		{"::ffff:8.8.8.8", true},                           // mapped 8.8.8.8
		{"::ffff:127.0.0.1", false},                        // mapped loopback
		{"::ffff:7f00:1", false},                           // mapped loopback, hex
		{"::ffff:10.0.0.1", false},                         // mapped private
		{"::ffff:169.254.169.254", false},                  // mapped metadata
		{"::ffff:0.0.0.0", false},                          // mapped unspecified
		{"::ffff:224.0.0.1", false},                        // mapped multicast
		{"::ffff:255.255.255.255", false},                  // mapped broadcast
		{"0:0:0:0:0:ffff:c0a8:0101", false},                // mapped 192.168.1.1, long form
		{"::ffff:100.64.0.1", false},                       // mapped shared address space
		{"2606:4700:4700:0000:0000:0000:0000:1111", true},  // long form public
		{"2600:1f18:ffff:ffff:ffff:ffff:ffff:ffff", true},  // public (AWS)
		{"2a00:1450:4001:800::200e", true},                 // public (Google)
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := Allowed(ip); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestAllowedRefusesZonesAndZero(t *testing.T) {
	for _, ip := range []netip.Addr{
		{},
		netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("2606:4700:4700::1111%eth0"),
	} {
		if Allowed(ip) {
			t.Errorf("Allowed(%#v) = true, want false", ip.String())
		}
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		allowPrivate     bool
		wantBlocked      bool
	}{
		{"tcp4", "8.8.8.8:443", false, false},
		{"tcp6", "[2606:4700:4700::1111]:443", false, false},
		{"tcp4", "127.0.0.1:443", false, true},
		{"tcp4", "169.254.169.254:80", false, true},
		{"tcp6", "[::1]:443", false, true},
		{"tcp6", "[::ffff:127.0.0.1]:443", false, true},
		{"tcp6", "[fe80::1%eth0]:443", false, true},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:443", false, true},
		{"udp4", "8.8.8.8:53", false, true},
		{"tcp4", "not an address", false, true},
		{"tcp4", "127.0.0.1:443", true, false},
		{"tcp6", "[::1]:443", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.network+" "+tt.address, func(t *testing.T) {
			err := Control(tt.allowPrivate)(tt.network, tt.address, nil)
			if got := errors.Is(err, ErrBlocked); got != tt.wantBlocked {
				t.Errorf("Control(%v)(%q, %q) = %v, want blocked %v", tt.allowPrivate, tt.network, tt.address, err, tt.wantBlocked)
			}
			if !tt.wantBlocked && err != nil {
				t.Errorf("Control(%v)(%q, %q) = %v, want nil", tt.allowPrivate, tt.network, tt.address, err)
			}
		})
	}
}

// TestControlBlocksRealDial dials a real listener on loopback: the dial must
// fail before connecting, with ErrBlocked visible through net.OpError.
func TestControlBlocksRealDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()

	d := net.Dialer{Control: Control(false)}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err == nil {
		c.Close()
		t.Fatal("dial to loopback succeeded, want blocked")
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("dial error = %v, want ErrBlocked", err)
	}
	select {
	case <-accepted:
		t.Fatal("listener accepted a connection")
	default:
	}

	d = net.Dialer{Control: Control(true)}
	c, err = d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with allowPrivate: %v", err)
	}
	c.Close()
}

func TestParseHostIP(t *testing.T) {
	tests := []struct {
		host   string
		want   string // "" when not a literal
		wantOK bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1.", "127.0.0.1", true},
		{"2130706433", "127.0.0.1", true},
		{"017700000001", "127.0.0.1", true},
		{"0x7f000001", "127.0.0.1", true},
		{"0X7F000001", "127.0.0.1", true},
		{"0177.0.0.1", "127.0.0.1", true},
		{"0x7f.1", "127.0.0.1", true},
		{"0x7f.0.0.0x1", "127.0.0.1", true},
		{"127.1", "127.0.0.1", true},
		{"127.0.1", "127.0.0.1", true},
		{"127.000.000.001", "127.0.0.1", true},
		{"0", "0.0.0.0", true},
		{"0x", "0.0.0.0", true},
		{"0.0", "0.0.0.0", true},
		{"169.254.43518", "169.254.169.254", true},
		{"0xa9fea9fe", "169.254.169.254", true},
		{"10.0x10000", "10.1.0.0", true},
		{"8.8.8.8", "8.8.8.8", true},
		{"4294967295", "255.255.255.255", true},
		{"[::1]", "::1", true},
		{"::1", "::1", true},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1", true},
		{"[2606:4700:4700::1111]", "2606:4700:4700::1111", true},
		{"[0:0:0:0:0:0:0:1]", "::1", true},

		{"4294967296", "", false},     // > 32 bits
		{"256.0.0.1", "", false},      // part > 255
		{"1.2.3.256", "", false},      // last part > 255
		{"1.2.65536", "", false},      // last part > 16 bits
		{"1.2.3.4.5", "", false},      // too many parts
		{"1..2", "", false},           // empty part
		{"127.0.0.1..", "", false},    // two trailing dots
		{".", "", false},              // nothing
		{"", "", false},               // nothing
		{"08", "", false},             // bad octal
		{"0x7g", "", false},           // bad hex
		{"+1", "", false},             // sign
		{"1_0", "", false},            // underscore
		{"example.com", "", false},    // a name
		{"localhost", "", false},      // a name
		{"1.2.3.com", "", false},      // a name ending in letters
		{"[127.0.0.1]", "", false},    // IPv4 in brackets
		{"[fe80::1%eth0]", "", false}, // zone
		{"fe80::1%25eth0", "", false}, // zone
		{"[::1", "", false},           // unbalanced
		{"::1]", "", false},           // unbalanced
		{"[]", "", false},             // empty
		{"[::1]:443", "", false},      // port is not part of a host
		{"99999999999999999999999", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, ok := ParseHostIP(tt.host)
			if ok != tt.wantOK {
				t.Fatalf("ParseHostIP(%q) ok = %v, want %v", tt.host, ok, tt.wantOK)
			}
			if !ok {
				if got.IsValid() {
					t.Errorf("ParseHostIP(%q) = %v with ok false, want zero Addr", tt.host, got)
				}
				return
			}
			if want := netip.MustParseAddr(tt.want); got != want {
				t.Errorf("ParseHostIP(%q) = %v, want %v", tt.host, got, want)
			}
		})
	}
}
