// Package receiver is the development kit's HTTPS webhook receiver: a
// loopback server with its own throw-away certificate authority (give its
// PEM to the dispatcher as HOOKS_EXTRA_CA_FILE) that answers deliveries on
// registered paths, checks each one's Standard Webhooks signature with the
// hook's secret (webhook.Verify), and reports what it got and what it
// answered.
//
// scripts/dev runs one (devkit receiver) and scripts/listen subscribes to it
// over its listen route (Listen): the subscriber names a session, and
// deliveries to /hooks/<session> stream back to it as JSON lines while it
// stays connected. Tests, benchmarks and tools use Server in process, each
// route with its own answer (Route.Respond: scripted statuses, seeded 5xx,
// a hang) and its own record of what came (Route.OnDelivery), served by a
// Listener that can go down and come back on its address. It is the one
// receiver of the kit: scripts/dev, scripts/check-events, scripts/chaos,
// the dispatcher's integration tests and its benchmarks use it.
//
// It is a development tool: it never runs in Lambda, it keeps nothing on
// disk but the CA file it is told to write, and it does not judge a
// delivery's timestamp age (see webhook.Verify).
package receiver

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/webhook"
)

// HooksPrefix is the path under which sessions receive deliveries.
const HooksPrefix = "/hooks/"

// listenPrefix is the path of the listen route.
const listenPrefix = "/_listen/"

// secretHeader carries a session's hook secret on the listen route.
const secretHeader = "X-Receiver-Secret"

// maxBody bounds what the receiver reads of a delivery (the dispatcher sends
// at most 256 KiB).
const maxBody = 1 << 20

// NewTLS returns a server configuration with a fresh certificate for
// 127.0.0.1, ::1 and localhost (the IP SANs a hook URL on loopback needs),
// signed by a fresh CA, and that CA in PEM. Both are valid for 30 days.
func NewTLS() (*tls.Config, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		return n
	}
	ca := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "post-load hooks local receiver CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}},
	}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// Answer is what the receiver answers a delivery: Status after Delay, with
// Header (Retry-After, say) on the response, and Body as the response body
// (text/html) when set, else a small JSON receipt.
type Answer struct {
	Status int           `json:"status"`
	Delay  time.Duration `json:"delayNs"`
	Header http.Header   `json:"header,omitempty"`
	Body   []byte        `json:"body,omitempty"`
}

// Delivery is one request the receiver answered.
type Delivery struct {
	At     time.Time   `json:"at"`
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
	// Verified is true when the webhook-signature header holds the
	// signature made with the route's secret; Problem says why not.
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
	Answer   Answer `json:"answer"`
}

// Route is what one registered path does.
type Route struct {
	Secret string // the hook's signing secret, to verify with ("": nothing is verified)
	Answer Answer // Status 0 means 200
	// Respond, when set, decides the answer to each delivery as it arrives
	// (the Delivery holds all but its answer), instead of Answer.
	Respond func(Delivery) Answer
	// OnDelivery, when set, gets each delivery once answered.
	OnDelivery func(Delivery)
}

// Server answers deliveries on registered paths (404 elsewhere) and serves
// the listen route. Use it as an http.Handler behind TLS.
type Server struct {
	now    func() time.Time
	mu     sync.Mutex
	routes map[string]Route
}

// New returns a Server with no routes.
func New() *Server { return &Server{now: time.Now, routes: map[string]Route{}} }

// Handle registers path; the returned function removes it again. The route
// of path "" answers every path that has no route of its own.
func (s *Server) Handle(path string, r Route) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = r
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.routes, path)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if session, ok := strings.CutPrefix(r.URL.Path, listenPrefix); ok && r.Method == http.MethodGet {
		s.serveListen(w, r, session)
		return
	}
	s.mu.Lock()
	route, ok := s.routes[r.URL.Path]
	if !ok {
		route, ok = s.routes[""]
	}
	s.mu.Unlock()
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	d := Delivery{At: s.now().UTC(), Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)}
	if route.Secret == "" {
		d.Problem = "no secret to verify with"
	} else if err := webhook.Verify(route.Secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"),
		r.Header.Get("webhook-signature"), body); err != nil {
		d.Problem = err.Error()
	} else {
		d.Verified = true
	}
	d.Answer = route.Answer
	if route.Respond != nil {
		d.Answer = route.Respond(d)
	}
	if d.Answer.Status == 0 {
		d.Answer.Status = http.StatusOK
	}
	if d.Answer.Delay > 0 {
		select {
		case <-time.After(d.Answer.Delay):
		case <-r.Context().Done():
			// Nobody is left to answer: the connection is dropped without a
			// response (a late answer could still reach a client that is
			// closing the connection, as if it had come in time).
			d.Problem = strings.TrimPrefix(d.Problem+"; ", "; ") + "the sender gave up before the answer"
			if route.OnDelivery != nil {
				route.OnDelivery(d)
			}
			panic(http.ErrAbortHandler)
		}
	}
	for k, vs := range d.Answer.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if d.Answer.Body != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(d.Answer.Status)
		_, _ = w.Write(d.Answer.Body)
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(d.Answer.Status)
		fmt.Fprintf(w, `{"received":true,"verified":%t}`, d.Verified)
	}
	if route.OnDelivery != nil {
		route.OnDelivery(d)
	}
}

// serveListen streams, as JSON lines, every delivery to /hooks/<session>
// until the subscriber disconnects. The secret comes in X-Receiver-Secret,
// the answer in the status and delay (a Go duration) query parameters.
func (s *Server) serveListen(w http.ResponseWriter, r *http.Request, session string) {
	if session == "" || strings.Contains(session, "/") {
		http.NotFound(w, r)
		return
	}
	a, err := parseAnswer(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan Delivery, 64)
	remove := s.Handle(HooksPrefix+session, Route{Secret: r.Header.Get(secretHeader), Answer: a, OnDelivery: func(d Delivery) {
		select {
		case ch <- d:
		default: // a subscriber that does not read loses lines, never blocks a delivery
		}
	}})
	defer remove()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case d := <-ch:
			if enc.Encode(d) != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func parseAnswer(q url.Values) (Answer, error) {
	a := Answer{Status: http.StatusOK}
	if v := q.Get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 || n > 599 {
			return Answer{}, fmt.Errorf("status %q: want 200 to 599", v)
		}
		a.Status = n
	}
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Minute {
			return Answer{}, fmt.Errorf("delay %q: want a duration from 0 to 10m", v)
		}
		a.Delay = d
	}
	return a, nil
}

// Listen subscribes to session on the receiver at base (https://host:port)
// with client, answering with a, verifying with secret. ready is called once
// the receiver has registered the session; each delivery is then passed to
// fn until ctx ends (nil) or the connection breaks (an error).
func Listen(ctx context.Context, client *http.Client, base, session, secret string, a Answer, ready func(), fn func(Delivery)) error {
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	q := url.Values{"status": {strconv.Itoa(a.Status)}, "delay": {a.Delay.String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+listenPrefix+url.PathEscape(session)+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set(secretHeader, secret)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("connect to the receiver: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("the receiver answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if ready != nil {
		ready()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4*maxBody)
	for sc.Scan() {
		var d Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return fmt.Errorf("read the receiver's stream: %w", err)
		}
		fn(d)
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("read the receiver's stream: %w", err)
	}
	return errors.New("the receiver closed the stream (did scripts/dev stop?)")
}

// ClientFor returns an HTTP client that trusts only the CA in caPEM.
func ClientFor(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no PEM certificate in the receiver's CA file")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}
