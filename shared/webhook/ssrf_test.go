//go:build unix

package webhook

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/netguard"
)

// The SSRF suite at dial time, with AllowPrivate false. Only loopback is
// ever contacted: targets that would leave the machine are addresses the
// guard refuses before connect (proved below), and DNS is replaced by a
// resolver that answers nothing, so no packet leaves the host.

// trap listens on one port of several loopback addresses and counts every
// TCP connection it accepts. It speaks no TLS: a connection is what counts.
type trap struct {
	port     string
	accepted atomic.Int64
	bound    map[string]bool // address (no port) -> listening
}

func newTrap(t *testing.T) *trap {
	t.Helper()
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(first.Addr().String())
	tr := &trap{port: port, bound: map[string]bool{"127.0.0.1": true}}
	lns := []net.Listener{first}
	for _, ip := range []string{"::1", "127.0.0.2", "127.255.255.254"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
		if err != nil {
			t.Logf("trap: cannot listen on %s: %v", ip, err)
			continue
		}
		tr.bound[ip] = true
		lns = append(lns, ln)
	}
	var wg sync.WaitGroup
	for _, ln := range lns {
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tr.accepted.Add(1)
				c.Close()
			}
		})
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		wg.Wait()
	})
	return tr
}

// noDNS replaces the default resolver, which the client's dialer uses, with
// Go's own resolver reading /etc/hosts but reaching no DNS server.
func noDNS(t *testing.T) {
	t.Helper()
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("test: DNS disabled")
		},
	}
	t.Cleanup(func() { net.DefaultResolver = saved })
}

// hostsLoopbackNames reads the names /etc/hosts maps to loopback.
func hostsLoopbackNames(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("/etc/hosts")
	if err != nil {
		t.Logf("no /etc/hosts: %v", err)
		return nil
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
		if ip, err := netip.ParseAddr(fields[0]); err == nil && ip.IsLoopback() {
			names = append(names, fields[1:]...)
		}
	}
	return names
}

// TestSSRFDeliverLoopbackSpellings delivers to every spelling of a loopback
// target that the colleague's TestDeliverBlocksPrivateAddresses does not
// already cover. Each spelling that lands on loopback is first shown to
// reach the trap with the guard off, so the guarded refusal is meaningful.
// Spellings Go does not read as IPv4 literals (decimal, hex, octal, short,
// zero-padded, trailing dot) must fail as unknown names, never reach
// 127.0.0.1. So must names with a trailing dot, which Go's resolver does
// not look up in /etc/hosts: DNS answers for them, and is disabled here.
func TestSSRFDeliverLoopbackSpellings(t *testing.T) {
	noDNS(t)
	tr := newTrap(t)
	p := tr.port

	type tc struct {
		host  string // host[:port] part of the URL
		lands bool   // Go dials loopback for it
		needs string // trap address that must be bound, if any
	}
	tests := []tc{
		{host: "127.0.0.2:" + p, lands: true, needs: "127.0.0.2"},
		{host: "127.255.255.254:" + p, lands: true, needs: "127.255.255.254"},
		{host: "0.0.0.0:" + p, lands: true}, // Linux connects 0.0.0.0 to the local host
		{host: "[::1]:" + p, lands: true, needs: "::1"},
		{host: "[0:0:0:0:0:0:0:1]:" + p, lands: true, needs: "::1"},
		{host: "[0000:0000:0000:0000:0000:0000:0000:0001]:" + p, lands: true, needs: "::1"},
		{host: "[::0.0.0.1]:" + p, lands: true, needs: "::1"},
		{host: "[::]:" + p, lands: true},
		{host: "[::FFFF:7F00:1]:" + p, lands: true},
		{host: "[::ffff:127.0.0.2]:" + p, lands: true, needs: "127.0.0.2"},
		{host: "[::ffff:0.0.0.0]:" + p, lands: true},
		{host: "LocalHost:" + p, lands: true},
		{host: "user:pass@127.0.0.2:" + p, lands: true, needs: "127.0.0.2"},
		{host: "hooks.example.com@[::1]:" + p, lands: true, needs: "::1"},
		{host: "8.8.8.8:443@localhost:" + p, lands: true},

		{host: "2130706433:" + p},
		{host: "017700000001:" + p},
		{host: "0x7f000001:" + p},
		{host: "0X7F000001:" + p},
		{host: "0177.0.0.1:" + p},
		{host: "0x7f.0.0.1:" + p},
		{host: "0x7f.1:" + p},
		{host: "127.1:" + p},
		{host: "127.0.1:" + p},
		{host: "127.000.000.001:" + p},
		{host: "127.0.0.1.:" + p},
	}
	for _, name := range hostsLoopbackNames(t) {
		for _, n := range []string{name, strings.ToUpper(name)} {
			tests = append(tests, tc{host: n + ":" + p, lands: true})
		}
		tests = append(tests, tc{host: name + ".:" + p})
	}

	guarded := newTestClient(t, Options{Timeout: 2 * time.Second})
	open := newTestClient(t, Options{Timeout: 2 * time.Second, AllowPrivate: true})
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if tt.needs != "" && !tr.bound[tt.needs] {
				t.Skipf("cannot listen on %s here", tt.needs)
			}
			req := Request{URL: "https://" + tt.host + "/hook", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")}
			before := tr.accepted.Load()

			got := guarded.Deliver(context.Background(), req)
			if n := tr.accepted.Load() - before; n != 0 {
				t.Fatalf("guarded Deliver(%s): trap accepted %d connections, want 0 (outcome %+v)", req.URL, n, got)
			}
			if tt.lands {
				if got.Outcome != delivery.OutcomeBlocked || got.Error != "address not allowed" {
					t.Errorf("guarded Deliver(%s) = %+v, want %s", req.URL, got, delivery.OutcomeBlocked)
				}
			} else if got.Outcome != delivery.OutcomeConnection {
				t.Errorf("guarded Deliver(%s) = %+v, want a connection_error from a failed name lookup", req.URL, got)
			}

			// Control, guard off: the spelling does or does not reach
			// loopback, as the case says.
			a := open.Deliver(context.Background(), req)
			reached := tr.accepted.Load()-before > 0
			if reached != tt.lands {
				t.Errorf("unguarded Deliver(%s) reached loopback = %v, want %v (outcome %+v)", req.URL, reached, tt.lands, a)
			}
		})
	}
}

// blockedTargets holds one or more addresses of every refused range
// (README.md), including the IPv6 forms that carry a refused IPv4 address.
// None can be listened on here; all must be refused before connect.
var blockedTargets = []string{
	"0.0.0.1", "10.0.0.1", "10.255.255.254", "100.64.0.1", "100.127.255.254",
	"169.254.169.254", "169.254.170.2", "172.16.0.1", "172.31.255.254",
	"192.168.0.1", "192.168.255.254", "198.18.0.1", "198.19.255.254",
	"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
	"fc00::1", "fd00::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	"fe80::1", "febf::1", "ff02::1", "ff0e::1",
	"::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:192.168.0.1", // IPv4-mapped
	"64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:1", // NAT64
	"2002:a00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:1::1", // 6to4
	"2001:0:4136:e378:8000:63bf:f5ff:fffe", "2001::1", // Teredo
	"::a00:1", "::a9fe:a9fe", // deprecated IPv4-compatible
}

// TestSSRFControlRefusesBeforeConnect dials every refused range with the
// guarded dialer and a 1 s timeout. The dial must fail with ErrBlocked at
// once, never by timing out, and when the guard runs the socket must not be
// connected yet (getpeername says ENOTCONN): no SYN was sent.
func TestSSRFControlRefusesBeforeConnect(t *testing.T) {
	guard := netguard.Control(false)
	for _, s := range blockedTargets {
		t.Run(s, func(t *testing.T) {
			var calls, unconnected atomic.Int64
			d := net.Dialer{
				Timeout: time.Second,
				Control: func(network, address string, c syscall.RawConn) error {
					calls.Add(1)
					var peerErr error
					if err := c.Control(func(fd uintptr) { _, peerErr = syscall.Getpeername(int(fd)) }); err != nil {
						t.Errorf("RawConn.Control: %v", err)
					}
					if errors.Is(peerErr, syscall.ENOTCONN) {
						unconnected.Add(1)
					}
					if err := guard(network, address, c); err != nil {
						return err
					}
					// Fail-safe: a broken guard must not make this test
					// connect anywhere.
					t.Errorf("guard let %s %s through", network, address)
					return errors.New("test: refused by fail-safe")
				},
			}
			start := time.Now()
			conn, err := d.Dial("tcp", net.JoinHostPort(s, "443"))
			elapsed := time.Since(start)
			if err == nil {
				conn.Close()
				t.Fatalf("dial %s succeeded, want ErrBlocked", s)
			}
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Fatalf("dial %s: %v, want ErrBlocked", s, err)
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("dial %s timed out: %v", s, err)
			}
			if elapsed > 500*time.Millisecond {
				t.Errorf("dial %s took %v, want an immediate refusal", s, elapsed)
			}
			if calls.Load() != 1 || unconnected.Load() != 1 {
				t.Errorf("guard ran %d times, %d on an unconnected socket; want once, before connect", calls.Load(), unconnected.Load())
			}
		})
	}
}

// TestSSRFDeliverRefusesEveryRange: the same addresses through the real
// client, as URL literals. Each attempt is blocked_address, quickly.
//
// Preconditions keep a broken guard from sending packets off the machine:
// each address must be refused by netguard's Control, and the client must be
// seen to refuse a loopback listener, before any address is dialled.
func TestSSRFDeliverRefusesEveryRange(t *testing.T) {
	noDNS(t)
	c := newTestClient(t, Options{Timeout: time.Second})
	guard := netguard.Control(false)
	for _, s := range blockedTargets {
		ap := netip.AddrPortFrom(netip.MustParseAddr(s), 443)
		network := "tcp6"
		if ap.Addr().Unmap().Is4() {
			network = "tcp4"
		}
		if err := guard(network, netip.AddrPortFrom(ap.Addr().Unmap(), 443).String(), nil); !errors.Is(err, netguard.ErrBlocked) {
			t.Fatalf("precondition: netguard.Control lets %s through (%v); not dialling it", s, err)
		}
	}
	tr := newTrap(t)
	if got := c.Deliver(context.Background(), Request{URL: "https://127.0.0.1:" + tr.port + "/", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")}); got.Outcome != delivery.OutcomeBlocked || tr.accepted.Load() != 0 {
		t.Fatalf("precondition: the client is not guarded (%+v, %d connections); not dialling any refused range", got, tr.accepted.Load())
	}

	for _, s := range blockedTargets {
		host := s
		if strings.Contains(s, ":") {
			host = "[" + s + "]"
		}
		for _, u := range []string{"https://" + host + "/", "https://" + strings.ToUpper(host) + ":8443/x?y=1", "https://u:p@" + host + "/"} {
			t.Run(u, func(t *testing.T) {
				start := time.Now()
				got := c.Deliver(context.Background(), Request{URL: u, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
				if got.Outcome != delivery.OutcomeBlocked || got.Error != "address not allowed" || got.StatusCode != 0 {
					t.Errorf("Deliver(%s) = %+v, want %s", u, got, delivery.OutcomeBlocked)
				}
				if d := time.Since(start); d > 500*time.Millisecond {
					t.Errorf("Deliver(%s) took %v, want an immediate refusal", u, d)
				}
			})
		}
	}
}

// TestSSRFRedirectsNeverFollowed: the first hop (a loopback receiver, so the
// guard is off for it) answers every 3xx with a Location towards loopback,
// cloud metadata or itself. The attempt is "redirect", the receiver sees one
// request, and nothing else is dialled: the dialer is wrapped to record
// every address and to refuse all but the receiver, so even a broken client
// could send nothing to 169.254.169.254.
func TestSSRFRedirectsNeverFollowed(t *testing.T) {
	noDNS(t)
	tr := newTrap(t)
	locations := []string{
		"http://127.0.0.1:" + tr.port + "/",
		"https://127.0.0.1:" + tr.port + "/",
		"http://[::1]:" + tr.port + "/",
		"//127.0.0.1:" + tr.port + "/",
		"https://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://169.254.169.254/latest/meta-data/",
		"/again", // the receiver itself: a followed redirect would make a second request
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, loc := range locations {
			t.Run(strconv.Itoa(status)+" "+loc, func(t *testing.T) {
				rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Location", loc)
					w.WriteHeader(status)
				}, nil)
				c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Timeout: 2 * time.Second})
				dial := c.pools.dial // every account's pool dials through it
				var mu sync.Mutex
				var dialled []string
				c.pools.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
					mu.Lock()
					dialled = append(dialled, addr)
					mu.Unlock()
					if addr != rc.Listener.Addr().String() {
						return nil, errors.New("test: dial refused")
					}
					return dial(ctx, network, addr)
				}

				got := c.Deliver(context.Background(), Request{URL: rc.URL + "/hook", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
				if got.Outcome != delivery.OutcomeRedirect || got.StatusCode != status || got.Error != "redirect not followed" {
					t.Errorf("Deliver = %+v, want %s with status %d", got, delivery.OutcomeRedirect, status)
				}
				if n := rc.requests.Load(); n != 1 {
					t.Errorf("receiver saw %d requests, want 1", n)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, a := range dialled {
					if a != rc.Listener.Addr().String() {
						t.Errorf("client dialled %s, want only the receiver %s", a, rc.Listener.Addr())
					}
				}
				if n := tr.accepted.Load(); n != 0 {
					t.Errorf("redirect target accepted %d connections, want 0", n)
				}
			})
		}
	}
}
