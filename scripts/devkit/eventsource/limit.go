package eventsource

import "sync"

// Limit is a function's concurrency, shared by the pollers of every queue
// that invokes it: as Lambda runs a function in no more execution
// environments than its concurrency, whatever its mappings' pollers want,
// the workers of all the pollers given the same Limit never number more
// than its size. Size it as the function's pool of emulators
// (scripts/devkit/rie.Pool's Size), so that no worker receives messages
// while every emulator is busy and holds them invisible, waiting.
//
// Each poller keeps one worker whatever the Limit (Lambda keeps polling
// every queue of a mapping), so a Limit smaller than the number of its
// pollers is exceeded by that difference; cmd/eventsource refuses one.
type Limit struct {
	mu   sync.Mutex
	size int
	used int
	most int
}

// NewLimit returns a Limit of size workers.
func NewLimit(size int) *Limit { return &Limit{size: size} }

// take counts one more worker in unless size already run; must takes it
// whatever the count (a poller's one worker).
func (l *Limit) take(must bool) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used >= l.size && !must {
		return false
	}
	l.used++
	l.most = max(l.most, l.used)
	return true
}

func (l *Limit) give() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.used--
}

// Running is how many workers of the Limit's pollers run now.
func (l *Limit) Running() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used
}

// Most is the most workers of the Limit's pollers that ran at once.
func (l *Limit) Most() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.most
}
