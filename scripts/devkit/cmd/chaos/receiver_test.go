package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

func TestFails5xxIsSeededAndNearItsShare(t *testing.T) {
	fails := 0
	const n = 2000
	for i := range n {
		id := hook.WebhookID(1, "load", int64(i))
		a, b := fails5xx(7, 30, id, 1), fails5xx(7, 30, id, 1)
		if a != b {
			t.Fatalf("fails5xx(%s) is not deterministic", id)
		}
		if a {
			fails++
		}
	}
	if fails < n*25/100 || fails > n*35/100 {
		t.Errorf("%d of %d requests fail, want about 30 %%", fails, n)
	}
	differ := false
	for i := range 50 {
		id := hook.WebhookID(1, "load", int64(i))
		if fails5xx(7, 30, id, 1) != fails5xx(8, 30, id, 1) {
			differ = true
		}
	}
	if !differ {
		t.Error("seeds 7 and 8 make the same decisions")
	}
}

func TestVerifySignature(t *testing.T) {
	secret := hook.NewSecret()
	body := []byte(`{"version":"1.0"}`)
	ts := time.Unix(1784126708, 0)
	sig, err := webhook.Sign(secret, "msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	sec := strconv.FormatInt(ts.Unix(), 10)
	tests := []struct {
		name, secret, id, ts, header string
		body                         []byte
		want                         bool
	}{
		{"valid", secret, "msg_1", sec, sig, body, true},
		{"valid among others", secret, "msg_1", sec, "v1,bm9wZQ== " + sig, body, true},
		{"other secret", hook.NewSecret(), "msg_1", sec, sig, body, false},
		{"other id", secret, "msg_2", sec, sig, body, false},
		{"other time", secret, "msg_1", "1784126709", sig, body, false},
		{"other body", secret, "msg_1", sec, sig, []byte(`{}`), false},
		{"bad timestamp", secret, "msg_1", "soon", sig, body, false},
		{"no secret", "", "msg_1", sec, sig, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify(tt.secret, tt.id, tt.ts, tt.header, tt.body) == nil; got != tt.want {
				t.Errorf("webhook.Verify = %t, want %t", got, tt.want)
			}
		})
	}
}

// TestReceiver runs a receiver over TLS with its own CA and checks what it
// answers, what it records and that it goes down and comes back.
func TestReceiver(t *testing.T) {
	tlsCfg, caPEM, err := kit.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA PEM does not parse")
	}
	rc := newRecorder(1, 30, 2*time.Second)
	secret := hook.NewSecret()
	rc.setSlot("flaky-2", flaky, secret)
	rc.setSlot("hang-1", hang, secret)
	rc.setSlot("lost-0", broken, secret)
	r, err := kit.Serve("127.0.0.1:0", rc, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Down)
	addr := r.Addr()
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	post := func(slot, id string) (int, error) {
		body := `{"version":"1.0"}`
		now := time.Now()
		sig, err := webhook.Sign(secret, id, now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://"+addr+"/r/"+slot, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	var want5xx int
	for i := 1; i <= 20; i++ {
		id := fmt.Sprintf("msg_%d", i)
		status, err := post("flaky-2", id)
		if err != nil {
			t.Fatal(err)
		}
		want := http.StatusOK
		if fails5xx(1, 30, id, 1) {
			want = http.StatusServiceUnavailable
			want5xx++
		}
		if status != want {
			t.Errorf("flaky %s: status %d, want %d", id, status, want)
		}
	}
	if status, err := post("lost-0", "msg_lost"); err != nil || status != http.StatusInternalServerError {
		t.Errorf("broken slot: %d, %v; want 500", status, err)
	}
	if _, err := post("hang-1", "msg_hang"); err == nil {
		t.Error("hang slot answered within the client timeout")
	}
	// The hang handler records when the client gives up.
	deadline := time.Now().Add(3 * time.Second)
	for rc.inflightHang.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	receipts, served5xx := rc.snapshot()
	if len(receipts) != 22 || served5xx != want5xx+1 {
		t.Errorf("recorded %d receipts and %d 5xx, want 22 and %d", len(receipts), served5xx, want5xx+1)
	}
	for _, rec := range receipts {
		if !rec.SigOK {
			t.Errorf("receipt %s: signature not verified", rec.WebhookID)
		}
	}
	if last := receipts[len(receipts)-1]; last.Slot != "hang-1" || last.Status != 0 {
		t.Errorf("hang receipt = %+v, want slot hang-1 with status 0", last)
	}

	r.Down()
	if _, err := post("flaky-2", "msg_down"); err == nil {
		t.Error("a stopped receiver answered")
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := post("flaky-2", "msg_up"); err != nil {
		t.Errorf("restarted receiver: %v", err)
	}
}

func TestLoadWaves(t *testing.T) {
	var loads []loadSpec
	for i := range 8 {
		loads = append(loads, loadSpec{id: strconv.Itoa(i), body: "b" + strconv.Itoa(i)})
	}
	waves, dups := loadWaves(loads)
	sent := map[string]int{}
	total := 0
	for _, w := range waves {
		if len(w.bodies) > 0 && w.at > lateResend {
			t.Errorf("a wave at %s", w.at)
		}
		for _, b := range w.bodies {
			sent[b]++
			total++
		}
	}
	if total != len(loads)+dups || dups == 0 {
		t.Errorf("sent %d messages with %d duplicates, want %d", total, dups, len(loads)+dups)
	}
	for _, l := range loads {
		if sent[l.body] == 0 {
			t.Errorf("load %s never sent", l.id)
		}
	}
	if sent["b0"] != 2 || len(waves[0].bodies) != 3 {
		t.Errorf("load 0 sent %d times, first wave %q; want it twice in the first wave", sent["b0"], waves[0].bodies)
	}
}

func TestPlannedHooks(t *testing.T) {
	hs := plannedHooks(5)
	var got []string
	for _, h := range hs {
		got = append(got, fmt.Sprintf("%s/%s/%t", h.slot, h.server, h.enabled))
	}
	want := "down-0/down/true hang-1/hang/true flaky-2/flaky/true flaky-3/flaky/true off-4/flaky/false"
	if strings.Join(got, " ") != want {
		t.Errorf("plannedHooks(5) = %s, want %s", strings.Join(got, " "), want)
	}
}

// TestOutageReceiver: the outage slot answers 503 until the outage ends
// and 2xx after; pings are kept apart from deliveries; with -break
// dup-replay its first 2xx is recorded twice.
func TestOutageReceiver(t *testing.T) {
	tlsCfg, caPEM, err := kit.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	rc := newRecorder(1, 30, time.Second)
	rc.dupReplay = true
	secret := hook.NewSecret()
	rc.setSlot("outage-0", outage, secret)
	r, err := kit.Serve("127.0.0.1:0", rc, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Down)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	post := func(id, event string) int {
		t.Helper()
		body, now := `{"version":"1.0"}`, time.Now()
		sig, err := webhook.Sign(secret, id, now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://"+r.Addr()+"/r/outage-0", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		req.Header.Set("webhook-event", event)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	got := []int{post("msg_1", "table_loaded"), post("msg_ping_1", "ping")}
	rc.outageUp.Store(true)
	got = append(got, post("msg_ping_2", "ping"), post("msg_1", "table_loaded"), post("msg_2", "table_loaded"))
	if want := []int{503, 503, 200, 200, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers %v, want %v", got, want)
	}
	receipts, _ := rc.snapshot()
	var ids []string
	for _, rec := range receipts {
		ids = append(ids, fmt.Sprintf("%s/%d", rec.WebhookID, rec.Status))
	}
	// msg_1's 2xx is the first: recorded twice.
	if want := "msg_1/503 msg_1/200 msg_1/200 msg_2/200"; strings.Join(ids, " ") != want {
		t.Errorf("receipts %s, want %s", strings.Join(ids, " "), want)
	}
	pings := rc.pingsSeen()
	if len(pings) != 2 || pings[0].Status != 503 || pings[1].Status != 200 || !pings[1].SigOK {
		t.Errorf("pings %+v, want a 503 then a verified 200", pings)
	}
}
