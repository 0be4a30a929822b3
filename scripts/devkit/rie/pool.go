package rie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Pool runs one function in up to Size emulators, as Lambda runs a function
// in as many execution environments as it has invocations in flight, up to
// its concurrency. aws-lambda-rie serves one invocation at a time, so the
// pool gives each invocation an emulator of its own: an idle one (a warm
// start) or, when none is idle, a new one (a cold start). With Size
// invocations in flight the next one waits for an emulator to come free.
// Live emulators never number more than Size.
//
// The emulators stay in the caller's process group, so signalling the
// group (as scripts/dev and scripts/chaos do to stop or crash a function)
// reaches every one of them.
type Pool struct {
	rie, bootstrap string
	env            []string
	logs           io.Writer
	timeout        time.Duration
	slots          chan struct{} // one token per invocation in flight

	mu      sync.Mutex
	idle    []*Emulator
	live    map[*Emulator]bool
	started int
	closed  bool
}

// ErrPoolClosed is returned by Invoke after Close.
var ErrPoolClosed = errors.New("emulator pool closed")

// NewPool returns a pool of at most size emulators of bootstrap, each run as
// Start runs one, with env as its environment and its output to logs. An
// invocation taking longer than timeout fails (the function's timeout plus a
// margin: the emulator answers a timed-out function itself). No emulator
// starts before the first invocation.
func NewPool(rie, bootstrap string, env []string, size int, timeout time.Duration, logs io.Writer) (*Pool, error) {
	if size < 1 {
		return nil, fmt.Errorf("pool size %d: want at least 1", size)
	}
	return &Pool{
		rie: rie, bootstrap: bootstrap, env: env, logs: &lockedWriter{w: logs}, timeout: timeout,
		slots: make(chan struct{}, size), live: map[*Emulator]bool{},
	}, nil
}

// Size is the most emulators the pool runs.
func (p *Pool) Size() int { return cap(p.slots) }

// Started is how many emulators the pool has started so far (cold starts).
func (p *Pool) Started() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

// Invoke posts event to an emulator of its own and returns the emulator's
// status and body as they came (200 also for a function error or a timeout,
// see Emulator.Invoke). It waits for a free emulator while Size invocations
// are in flight, until ctx ends. An emulator that failed to answer is
// stopped and never used again; one that refused the connection (it had
// exited) is replaced once, since the event never reached it.
func (p *Pool) Invoke(ctx context.Context, event []byte) (int, []byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, fmt.Errorf("wait for a free emulator: %w", ctx.Err())
	}
	defer func() { <-p.slots }()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	for try := 0; ; try++ {
		em, err := p.take(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, body, err := em.post(ctx, event)
		if err != nil {
			p.discard(em)
			if try == 0 && errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			return 0, nil, err
		}
		p.put(em)
		return status, body, nil
	}
}

// take returns an idle emulator or starts one. The caller holds a slot, so
// the live emulators stay within Size.
func (p *Pool) take(ctx context.Context) (*Emulator, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		em := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if em.exited() {
			// Died while idle: its port may still accept (a runtime child
			// holding the socket) and then reset, so it is never posted to;
			// Stop ends what is left of its process group.
			delete(p.live, em)
			go em.Stop()
			continue
		}
		p.mu.Unlock()
		return em, nil
	}
	p.started++
	p.mu.Unlock()
	em, err := start(ctx, p.rie, p.bootstrap, p.env, p.logs, false)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		em.Stop()
		return nil, ErrPoolClosed
	}
	p.live[em] = true
	return em, nil
}

// exited reports whether the emulator's process has ended.
func (em *Emulator) exited() bool {
	select {
	case <-em.done:
		return true
	default:
		return false
	}
}

func (p *Pool) put(em *Emulator) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return // Close stops it
	}
	p.idle = append(p.idle, em)
}

func (p *Pool) discard(em *Emulator) {
	em.Stop()
	p.mu.Lock()
	delete(p.live, em)
	p.mu.Unlock()
}

// Close stops every emulator; invocations in flight fail.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	live := make([]*Emulator, 0, len(p.live))
	for em := range p.live {
		live = append(live, em)
	}
	p.live, p.idle = map[*Emulator]bool{}, nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, em := range live {
		wg.Go(em.Stop)
	}
	wg.Wait()
}

// ServeHTTP serves the emulator's invoke API (POST InvokePath) for the
// whole pool, so a caller that invoked one emulator can invoke the pool in
// its place. An invocation that got no answer is a 502, as the emulator
// answers for a function that crashed.
func (p *Pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != InvokePath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	event, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	if err != nil {
		http.Error(w, "read event: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	status, body, err := p.Invoke(r.Context(), event)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// lockedWriter serializes the emulators' writes (whole lines) to one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
