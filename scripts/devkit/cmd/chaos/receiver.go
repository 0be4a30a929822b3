package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
)

// Receivers: HTTPS listeners of the kit's receiver on loopback that play
// the customers' endpoints. Each hook has its own path /r/<slot>; what a
// slot does is its behavior.

type behavior int

const (
	flaky  behavior = iota // answers 5xx to a seeded, deterministic share of attempts, 2xx otherwise
	hang                   // never answers within the attempt timeout
	broken                 // always 500 (only with -break lost-pair)
	outage                 // 503 until the outage ends, 2xx after (outage.go)
)

// recorder decides what every receiver answers and keeps what it saw: one
// route of the kit's receiver per hook, on the Server all the receivers
// serve.
type recorder struct {
	seed       uint64
	percent5xx int
	hangFor    time.Duration
	now        func() time.Time
	srv        *kit.Server

	inflightHang atomic.Int64
	outageUp     atomic.Bool // the outage endpoint answers 2xx
	// dupReplay (-break dup-replay) records the outage endpoint's first
	// 2xx twice, as a receiver that counted a replay twice would.
	dupReplay bool

	mu        sync.Mutex
	counts    map[string]int // requests per webhook-id
	receipts  []receipt
	pings     []receipt // probes (webhook-event: ping), kept apart from deliveries
	served5xx int
	duped     bool
}

func newRecorder(seed uint64, percent5xx int, hangFor time.Duration) *recorder {
	rc := &recorder{seed: seed, percent5xx: percent5xx, hangFor: hangFor, now: time.Now, srv: kit.New(), counts: map[string]int{}}
	// A path under /r/ that no hook has is recorded (as a flaky slot with
	// no secret, so its signature does not verify); any other is not found.
	rc.srv.Handle("", rc.route("", flaky))
	return rc
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) { rc.srv.ServeHTTP(w, r) }

// setSlot registers a hook's path /r/<slot>, its behavior and its secret.
func (rc *recorder) setSlot(slot string, b behavior, secret string) {
	r := rc.route(slot, b)
	r.Secret = secret
	rc.srv.Handle("/r/"+slot, r)
}

// fails5xx decides, deterministically from the seed, whether the nth request
// carrying webhookID gets a 5xx.
func fails5xx(seed uint64, percent int, webhookID string, n int) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, webhookID, n)
	return int(h.Sum64()%100) < percent
}

// route answers as behavior b and records a receipt per request; slot ""
// takes the slot from the path.
func (rc *recorder) route(slot string, b behavior) kit.Route {
	slotOf := func(d kit.Delivery) (string, bool) {
		if slot != "" {
			return slot, true
		}
		return strings.CutPrefix(d.Path, "/r/")
	}
	return kit.Route{
		Respond: func(d kit.Delivery) kit.Answer {
			if _, ok := slotOf(d); !ok {
				return kit.Answer{Status: http.StatusNotFound}
			}
			id := d.Header.Get("webhook-id")
			rc.mu.Lock()
			rc.counts[id]++
			n := rc.counts[id]
			rc.mu.Unlock()
			switch {
			case b == hang:
				rc.inflightHang.Add(1)
				return kit.Answer{Status: http.StatusGatewayTimeout, Delay: rc.hangFor} // long after the client gave up
			case b == broken:
				return kit.Answer{Status: http.StatusInternalServerError}
			case b == outage && !rc.outageUp.Load():
				return kit.Answer{Status: http.StatusServiceUnavailable}
			case b == outage:
				return kit.Answer{Status: http.StatusOK}
			case fails5xx(rc.seed, rc.percent5xx, id, n):
				return kit.Answer{Status: http.StatusServiceUnavailable}
			}
			return kit.Answer{Status: http.StatusOK}
		},
		OnDelivery: func(d kit.Delivery) {
			s, ok := slotOf(d)
			if !ok {
				return
			}
			sum := sha256.Sum256([]byte(d.Body))
			rec := receipt{Slot: s, WebhookID: d.Header.Get("webhook-id"), BodyHash: hex.EncodeToString(sum[:]),
				SigOK: d.Verified, Status: d.Answer.Status, At: rc.now()}
			rec.Sequence, _ = strconv.ParseInt(d.Header.Get("webhook-sequence"), 10, 64)
			if b == hang {
				rec.Status = 0 // it hung until the client gave up
			}
			if d.Header.Get("webhook-event") == "ping" {
				rc.addPing(rec)
				return
			}
			rc.add(rec)
			if b == outage && rc.dupReplay && rec.Status == http.StatusOK && rc.firstDup() {
				rc.add(rec)
			}
			if b == hang {
				rc.inflightHang.Add(-1)
			}
		},
	}
}

func (rc *recorder) add(r receipt) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.receipts = append(rc.receipts, r)
	if r.Status >= 500 {
		rc.served5xx++
	}
}

func (rc *recorder) addPing(r receipt) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.pings = append(rc.pings, r)
}

// firstDup reports true once: the receipt -break dup-replay doubles.
func (rc *recorder) firstDup() bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	first := !rc.duped
	rc.duped = true
	return first
}

// pingsSeen returns the probes received so far.
func (rc *recorder) pingsSeen() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.pings...)
}

// snapshot returns the receipts so far and the number of 5xx served.
func (rc *recorder) snapshot() ([]receipt, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.receipts...), rc.served5xx
}
