package webhook

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Connections are pooled per account: every account has its own
// http.Transport, so a connection is never shared by two accounts and one
// receiver cannot break another account's deliveries (a malformed or
// oversized response closes its own connection only). Transports speak
// HTTP/1.1 only: with HTTP/2 the requests of one account to one host share
// one connection, and a single response whose headers are too large ends
// that connection with PROTOCOL_ERROR for every request on it. Over
// HTTP/1.1 each request in flight has its own connection, so the response
// header limit fails exactly the request that went over it.
//
// Idle connections are kept for the next attempts of the same account. The
// pools of accounts with nothing in flight are closed, least recently used
// first, once the connections open across all pools, or the pools
// themselves, go over the client's budget, so idle connections and pools
// stay bounded however many accounts a process serves.

// pool is one account's transport and its bookkeeping.
type pool struct {
	transport *http.Transport
	open      atomic.Int64 // connections open (dialled, not yet closed)
	inFlight  int          // attempts using the pool; guarded by pools.mu
	lastUsed  uint64       // pools.tick at the last acquire; guarded by pools.mu
}

// pools holds one pool per account.
type pools struct {
	newTransport func(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	budget       int64 // open connections across pools, and pools, above which idle pools are closed

	mu    sync.Mutex
	tick  uint64
	byKey map[int64]*pool
}

// acquire returns the pool of account, creating it if needed, and marks an
// attempt in flight on it. Call release when the attempt is over.
func (ps *pools) acquire(account int64) *pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.byKey[account]
	if p == nil {
		p = &pool{}
		p.transport = ps.newTransport(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := ps.dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			p.open.Add(1)
			return &countedConn{Conn: c, open: &p.open}, nil
		})
		ps.byKey[account] = p
	}
	ps.tick++
	p.lastUsed = ps.tick
	p.inFlight++
	ps.trimLocked()
	return p
}

func (ps *pools) release(p *pool) {
	ps.mu.Lock()
	p.inFlight--
	ps.mu.Unlock()
}

// trimLocked closes the least recently used pools that have nothing in
// flight while the open connections or the pools exceed the budget.
func (ps *pools) trimLocked() {
	total := int64(0)
	for _, p := range ps.byKey {
		total += p.open.Load()
	}
	for total > ps.budget || int64(len(ps.byKey)) > ps.budget {
		var (
			oldest    *pool
			oldestKey int64
		)
		for k, p := range ps.byKey {
			if p.inFlight == 0 && (oldest == nil || p.lastUsed < oldest.lastUsed) {
				oldest, oldestKey = p, k
			}
		}
		if oldest == nil {
			return // every pool is busy: the attempts in flight bound it
		}
		delete(ps.byKey, oldestKey)
		total -= oldest.open.Load()
		oldest.transport.CloseIdleConnections()
	}
}

// openConns reports how many pools there are and how many connections
// they hold open (for tests).
func (ps *pools) openConns() (pools int, conns int64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.byKey {
		conns += p.open.Load()
	}
	return len(ps.byKey), conns
}

// countedConn decrements its pool's count of open connections once, when it
// is closed.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}
