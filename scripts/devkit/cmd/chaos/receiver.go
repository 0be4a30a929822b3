package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postloadhooks/hooks/shared/webhook"
)

// Receivers: HTTPS servers on loopback that play the customers' endpoints.
// Each hook has its own path /r/<slot>; what a slot does is its behavior.

type behavior int

const (
	flaky  behavior = iota // answers 5xx to a seeded, deterministic share of attempts, 2xx otherwise
	hang                   // never answers within the attempt timeout
	broken                 // always 500 (only with -break lost-pair)
)

// recorder answers every receiver's requests and keeps what it saw.
type recorder struct {
	seed       uint64
	percent5xx int
	hangFor    time.Duration
	now        func() time.Time

	inflightHang atomic.Int64

	mu        sync.Mutex
	behaviors map[string]behavior
	secrets   map[string]string // slot -> the hook's secret
	counts    map[string]int    // requests per webhook-id
	receipts  []receipt
	served5xx int
}

func newRecorder(seed uint64, percent5xx int, hangFor time.Duration) *recorder {
	return &recorder{
		seed: seed, percent5xx: percent5xx, hangFor: hangFor, now: time.Now,
		behaviors: map[string]behavior{}, secrets: map[string]string{}, counts: map[string]int{},
	}
}

// setSlot registers a hook's path, its behavior and its secret.
func (rc *recorder) setSlot(slot string, b behavior, secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.behaviors[slot] = b
	rc.secrets[slot] = secret
}

// fails5xx decides, deterministically from the seed, whether the nth request
// carrying webhookID gets a 5xx.
func fails5xx(seed uint64, percent int, webhookID string, n int) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, webhookID, n)
	return int(h.Sum64()%100) < percent
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slot, ok := strings.CutPrefix(r.URL.Path, "/r/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	sum := sha256.Sum256(body)
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	rc.counts[id]++
	n := rc.counts[id]
	b, secret := rc.behaviors[slot], rc.secrets[slot]
	rc.mu.Unlock()
	rec := receipt{
		Slot: slot, WebhookID: id, BodyHash: hex.EncodeToString(sum[:]),
		SigOK: webhook.Verify(secret, id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body) == nil,
	}

	switch b {
	case hang:
		rc.inflightHang.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(rc.hangFor):
		}
		rc.inflightHang.Add(-1)
		rec.At = rc.now()
		rc.add(rec)
		w.WriteHeader(http.StatusGatewayTimeout) // long after the client gave up
		return
	case broken:
		rec.Status = http.StatusInternalServerError
	default:
		rec.Status = http.StatusOK
		if fails5xx(rc.seed, rc.percent5xx, id, n) {
			rec.Status = http.StatusServiceUnavailable
		}
	}
	rec.At = rc.now()
	rc.add(rec)
	w.WriteHeader(rec.Status)
	fmt.Fprintf(w, `{"status":%d}`, rec.Status)
}

func (rc *recorder) add(r receipt) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.receipts = append(rc.receipts, r)
	if r.Status >= 500 {
		rc.served5xx++
	}
}

// snapshot returns the receipts so far and the number of 5xx served.
func (rc *recorder) snapshot() ([]receipt, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.receipts...), rc.served5xx
}

// receiver is one HTTPS listener that can go down and come back on the same
// address.
type receiver struct {
	addr    string
	handler http.Handler
	tls     *tls.Config

	mu  sync.Mutex
	srv *http.Server
}

func (s *receiver) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("receiver %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	s.srv = srv
	go func() {
		if err := srv.Serve(tls.NewListener(ln, s.tls)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("chaos: receiver %s stopped: %v\n", s.addr, err)
		}
	}()
	return nil
}

// stop closes the listener and every connection, idle or active: clients
// then see refused or reset connections.
func (s *receiver) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}
