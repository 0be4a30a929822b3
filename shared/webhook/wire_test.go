package webhook

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// rawReceiver is a TLS listener that keeps the bytes of each request as
// they came over the wire (request line, headers, body) and answers 204.
type rawReceiver struct {
	url    string
	caFile string
	got    chan []byte
}

func newRawReceiver(t *testing.T) *rawReceiver {
	t.Helper()
	cert, leaf := certFor(t, "localhost")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rr := &rawReceiver{url: "https://" + ln.Addr().String(), caFile: writeCA(t, leaf), got: make(chan []byte, 4)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go rr.serve(conn)
		}
	}()
	return rr
}

func (rr *rawReceiver) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		// The head ends at the first empty line; the body is Content-Length bytes.
		var raw []byte
		length := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			raw = append(raw, line...)
			if line == "\r\n" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		rr.got <- append(raw, body...)
		if _, err := io.WriteString(conn, "HTTP/1.1 204 No Content\r\n\r\n"); err != nil {
			return
		}
	}
}

// TestDeliverRequestBytes pins every byte of the request an attempt sends:
// request line, headers (as net/http writes them: Host, User-Agent,
// Content-Length, then the rest in key order, each key in canonical form),
// and the body, with and without the optional headers and during a
// rotation, signed with a new MAC and with MACs lent by Keys.
func TestDeliverRequestBytes(t *testing.T) {
	rr := newRawReceiver(t)
	at := time.Unix(1752590708, 0)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rr.caFile, Now: func() time.Time { return at }})
	body := []byte(`{"version":"1.0","integration_name":"shopify","tables":[]}`)
	const old = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	sig := func(secret string) string {
		s, err := Sign(secret, "msg_abc", at, body)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	host := rr.url[len("https://"):]
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"a table load, every header",
			Request{ClientID: 1, URL: rr.url + "/catch?x=1", LoadID: "load-1", Sequence: 12, WebhookID: "msg_abc", Secret: testSecret, Body: body},
			"POST /catch?x=1 HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: StitchLoadingWebhook\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n" +
				"Content-Type: application/json\r\nWebhook-Event: table_loaded\r\nWebhook-Id: msg_abc\r\nWebhook-Load-Id: load-1\r\n" +
				"Webhook-Sequence: 12\r\nWebhook-Signature: " + sig(testSecret) + "\r\nWebhook-Timestamp: 1752590708\r\n\r\n" + string(body)},
		{"an event, no sequence, no load id, during a rotation",
			Request{ClientID: 1, URL: rr.url + "/e", Event: "load_overdue", WebhookID: "msg_abc", Secret: testSecret,
				PreviousSecret: old, PreviousSecretExpiresAt: at.Add(time.Hour), Body: body},
			"POST /e HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: StitchLoadingWebhook\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n" +
				"Content-Type: application/json\r\nWebhook-Event: load_overdue\r\nWebhook-Id: msg_abc\r\n" +
				"Webhook-Signature: " + sig(testSecret) + " " + sig(old) + "\r\nWebhook-Timestamp: 1752590708\r\n\r\n" + string(body)},
		{"user info in the URL, as an http.Client sends it (hook URLs have none)",
			Request{ClientID: 1, URL: "https://u:p@" + host + "/", LoadID: "load-1", WebhookID: "msg_abc", Secret: testSecret, Body: body},
			"POST / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: StitchLoadingWebhook\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n" +
				"Authorization: Basic dTpw\r\nContent-Type: application/json\r\nWebhook-Event: table_loaded\r\nWebhook-Id: msg_abc\r\nWebhook-Load-Id: load-1\r\n" +
				"Webhook-Signature: " + sig(testSecret) + "\r\nWebhook-Timestamp: 1752590708\r\n\r\n" + string(body)},
	}
	keys := &Keys{} // lent MACs sign as new ones do: first new, then reused
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []*Keys{nil, keys, keys} {
				req := tt.req
				req.Keys = k
				if a := c.Deliver(context.Background(), req); a.Outcome != delivery.OutcomeSuccess {
					t.Fatalf("Deliver = %+v, want success", a)
				}
				select {
				case got := <-rr.got:
					if string(got) != tt.want {
						t.Errorf("request bytes (keys %p):\n got %q\nwant %q", k, got, tt.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the receiver saw no request")
				}
			}
		})
	}
}
