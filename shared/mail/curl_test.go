package mail

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// curlOf is the curl command an email's text body shows.
func curlOf(t *testing.T, text string) string {
	t.Helper()
	const end = "--data-binary @notification.json"
	i := strings.Index(text, "curl -X POST ")
	j := strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("no curl command in:\n%s", text)
	}
	return text[i : j+len(end)]
}

// TestCurlCarriesTheRequestHeaders: the curl command of an alert and of a
// digest sends the webhook-event, webhook-load-id and webhook-sequence the
// delivery's requests carried; an event notification's has no sequence,
// and an alert message of an earlier version, which names no event, gets a
// placeholder for it.
func TestCurlCarriesTheRequestHeaders(t *testing.T) {
	now := t0.Add(time.Hour)
	overdue := sample()
	overdue.LoadID, overdue.Event, overdue.Sequence = "freshness-overdue-1-0123456789abcdef", hook.EventLoadOverdue, 0
	earlier := sample()
	earlier.Event, earlier.Sequence = "", 0
	tests := []struct {
		name      string
		msg       delivery.AlertMessage
		want      []string
		wantNoSeq bool
	}{
		{"table load", sample(), []string{
			"-H 'webhook-id: msg_0123456789abcdef0123456789abcdef'",
			"-H 'webhook-event: table_loaded'",
			"-H 'webhook-load-id: b2f6c1d0-load'",
			"-H 'webhook-sequence: 42'",
		}, false},
		{"event notification", overdue, []string{
			"-H 'webhook-event: load_overdue'",
			"-H 'webhook-load-id: freshness-overdue-1-0123456789abcdef'",
		}, true},
		{"message of an earlier version", earlier, []string{
			"-H 'webhook-event: <event type, e.g. table_loaded>'",
			"-H 'webhook-load-id: b2f6c1d0-load'",
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			last := m.Attempts[len(m.Attempts)-1]
			d := Digest{ClientID: m.ClientID, HookID: m.HookID, HookURL: m.HookURL, WindowStart: t0, WindowEnd: t0.Add(time.Hour),
				Entries: []delivery.DigestEntry{{LoadID: m.LoadID, WebhookID: m.WebhookID, Integration: m.IntegrationName,
					Table: m.Tables[0], At: last.At, ErrorClass: ErrorClass(last), Event: m.Event, Sequence: m.Sequence}}}
			for kind, text := range map[string]string{"alert": Render(m, now).Text, "digest": RenderDigest(d, now, Links{}).Text} {
				cmd := curlOf(t, text)
				for _, want := range tt.want {
					if !strings.Contains(cmd, want+" \\\n") {
						t.Errorf("%s: curl command lacks %s:\n%s", kind, want, cmd)
					}
				}
				if got := strings.Contains(cmd, "webhook-sequence"); got == tt.wantNoSeq {
					t.Errorf("%s: webhook-sequence shown %v, want %v:\n%s", kind, got, !tt.wantNoSeq, cmd)
				}
			}
		})
	}
}

// TestCurlRepeatsTheRealRequest: the curl command of an alert and of a
// digest, run by a shell against the repository's receiver, sends the
// headers and the body that the service's own request sent, but for the
// two signature headers, which it leaves to the reader (and the headers
// each HTTP client adds by itself).
func TestCurlRepeatsTheRealRequest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		devstack.Missing(t, "no curl on this machine (scripts/chaos needs it too)")
	}
	srv := receiver.New()
	got := make(chan receiver.Delivery, 1)
	srv.Handle("/catch", receiver.Route{Answer: receiver.Answer{Status: 204}, OnDelivery: func(d receiver.Delivery) { got <- d }})
	l, caFile := devstack.Receiver(t, srv)
	dir := t.TempDir()
	c, err := webhook.NewClient(webhook.Options{AllowPrivate: true, ExtraCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"version":"1.0","type":"x","it's":"<b>"}`)
	if err := os.WriteFile(filepath.Join(dir, "notification.json"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	received := func(t *testing.T) receiver.Delivery {
		t.Helper()
		select {
		case d := <-got:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("the receiver got no request")
			return receiver.Delivery{}
		}
	}
	// headers are the headers a request carried that the command repeats:
	// without those each client adds by itself, and with the signature
	// headers' values dropped once present.
	headers := func(t *testing.T, h http.Header) http.Header {
		t.Helper()
		h = h.Clone()
		for _, k := range []string{"Accept", "Accept-Encoding", "Content-Length"} {
			delete(h, k)
		}
		for _, k := range []string{"Webhook-Timestamp", "Webhook-Signature"} {
			if len(h[k]) != 1 || h[k][0] == "" {
				t.Errorf("%s: %q, want one value", k, h[k])
			}
			h[k] = []string{"(placeholder)"}
		}
		return h
	}

	tests := []struct {
		name  string
		event string // "" is a table load, as the dispatcher sends it
		seq   int64
	}{
		{"table load", "", 42},
		{"run completed", hook.EventRunCompleted, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := webhook.Request{ClientID: 116078, URL: l.URL() + "/catch", LoadID: "b2f6c1d0-load", Event: tt.event, Sequence: tt.seq,
				WebhookID: hook.WebhookID(116078, "b2f6c1d0-load", 8), Secret: hook.NewSecret(), Body: body}
			if a := c.Deliver(context.Background(), r); a.Outcome != delivery.OutcomeSuccess {
				t.Fatalf("real request: %+v", a)
			}
			real := received(t)
			want := headers(t, real.Header)

			// The alert message and the digest entry as the dispatcher and
			// the alerter write them for this request.
			m := sample()
			m.HookURL, m.LoadID, m.WebhookID, m.Event, m.Sequence = r.URL, r.LoadID, r.WebhookID, real.Header.Get("Webhook-Event"), tt.seq
			d := Digest{ClientID: m.ClientID, HookID: m.HookID, HookURL: m.HookURL, WindowStart: t0, WindowEnd: t0.Add(time.Hour),
				Entries: []delivery.DigestEntry{{LoadID: m.LoadID, WebhookID: m.WebhookID, Event: m.Event, Sequence: m.Sequence}}}
			for kind, text := range map[string]string{"alert": Render(m, t0).Text, "digest": RenderDigest(d, t0, Links{}).Text} {
				sh := exec.Command("sh", "-c", curlOf(t, text)+" --silent --show-error")
				sh.Dir = dir
				sh.Env = []string{"PATH=" + filepath.Dir(curl) + ":/usr/bin:/bin", "HOME=" + dir, "CURL_CA_BUNDLE=" + caFile}
				if out, err := sh.CombinedOutput(); err != nil {
					t.Fatalf("%s: curl command: %v\n%s", kind, err, out)
				}
				again := received(t)
				if diff := cmp.Diff(headers(t, again.Header), want); diff != "" {
					t.Errorf("%s: curl command's headers differ from the request's (-got +want):\n%s", kind, diff)
				}
				if again.Body != real.Body {
					t.Errorf("%s: curl command sent body %q, the request %q", kind, again.Body, real.Body)
				}
			}
		})
	}
}
