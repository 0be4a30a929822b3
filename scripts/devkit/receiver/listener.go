package receiver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Listener serves a handler over TLS on one loopback address. It can go
// down (every connection closed, new ones refused) and come back on the
// same address, as a customer's endpoint does, and it counts the
// connections it accepted.
type Listener struct {
	// OnConn, when set (before Up), is called for each connection accepted.
	OnConn func()

	addr    string
	handler http.Handler
	tls     *tls.Config
	conns   atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

// Serve serves h over TLS with cfg (NewTLS makes one) on addr, for
// example 127.0.0.1:0 for a free port, which is then kept for Up.
func Serve(addr string, h http.Handler, cfg *tls.Config) (*Listener, error) {
	l := NewListener(addr, h, cfg)
	if err := l.Up(); err != nil {
		return nil, err
	}
	return l, nil
}

// NewListener is Serve without serving yet: set OnConn, then call Up.
func NewListener(addr string, h http.Handler, cfg *tls.Config) *Listener {
	return &Listener{addr: addr, handler: h, tls: cfg}
}

// Addr is the address served (host:port).
func (l *Listener) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// URL is https://Addr.
func (l *Listener) URL() string { return "https://" + l.Addr() }

// Conns is how many connections the listener has accepted so far.
func (l *Listener) Conns() int64 { return l.conns.Load() }

// Up serves again after Down; it does nothing while serving.
func (l *Listener) Up() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("receiver %s: %w", l.addr, err)
	}
	l.addr = ln.Addr().String()
	srv := &http.Server{
		Handler:           l.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // TLS handshakes cut short by a client going away
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				l.conns.Add(1)
				if l.OnConn != nil {
					l.OnConn()
				}
			}
		},
	}
	l.srv = srv
	go func() {
		if err := srv.Serve(tls.NewListener(ln, l.tls)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("receiver %s stopped: %v\n", ln.Addr(), err)
		}
	}()
	return nil
}

// Down closes the listener and every connection, idle or active: clients
// then see refused or reset connections. It does nothing while down.
func (l *Listener) Down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.srv != nil {
		_ = l.srv.Close()
		l.srv = nil
	}
}
