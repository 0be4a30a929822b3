package receiver

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// A route's Respond decides each answer on arrival; the route of "" takes
// every path without one of its own; without a secret nothing is verified;
// the Listener goes down and comes back on its address, counting
// connections.
func TestRespondCatchAllAndListener(t *testing.T) {
	cfg, ca, err := NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv := New()
	secret := hook.NewSecret()
	var mu sync.Mutex
	var got []Delivery
	n := 0
	srv.Handle("/signed", Route{Secret: secret, Respond: func(d Delivery) Answer {
		mu.Lock()
		defer mu.Unlock()
		n++
		return Answer{Status: []int{503, 204}[min(n, 2)-1]}
	}, OnDelivery: func(d Delivery) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
	}})
	srv.Handle("", Route{Answer: Answer{Status: 202}, OnDelivery: func(d Delivery) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
	}})
	l, err := Serve("127.0.0.1:0", srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Down)
	client, err := ClientFor(ca)
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string) (int, error) {
		t.Helper()
		body := []byte(`{"n":1}`)
		now := time.Now()
		sig, err := webhook.Sign(secret, "msg_1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, l.URL()+path, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body) // so the connection is kept alive
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for i, want := range []struct {
		path   string
		status int
	}{{"/signed", 503}, {"/signed", 204}, {"/signed", 204}, {"/any/other", 202}} {
		if status, err := post(want.path); err != nil || status != want.status {
			t.Errorf("request %d to %s: %d, %v; want %d", i+1, want.path, status, err, want.status)
		}
	}
	mu.Lock()
	if len(got) != 4 || !got[0].Verified || got[0].Answer.Status != 503 || got[3].Path != "/any/other" || got[3].Verified || got[3].Problem != "no secret to verify with" {
		t.Errorf("deliveries = %+v; want 3 verified on /signed (the first answered 503) and /any/other unverified for want of a secret", got)
	}
	mu.Unlock()
	if c := l.Conns(); c != 1 {
		t.Errorf("Conns = %d, want 1 (one kept-alive connection)", c)
	}

	addr := l.Addr()
	l.Down()
	client.CloseIdleConnections()
	if _, err := post("/signed"); err == nil {
		t.Error("a receiver that is down answered")
	}
	if err := l.Up(); err != nil {
		t.Fatal(err)
	}
	if l.Addr() != addr {
		t.Errorf("back up on %s, want %s", l.Addr(), addr)
	}
	if status, err := post("/signed"); err != nil || status != 204 {
		t.Errorf("after Up: %d, %v; want 204", status, err)
	}
	if c := l.Conns(); c != 2 {
		t.Errorf("Conns = %d, want 2", c)
	}
}
