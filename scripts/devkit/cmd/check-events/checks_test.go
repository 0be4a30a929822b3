package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/webhook"
)

const testSecret = "whsec_4wOLpVxRrOjzjeaqw8WOu58UOuphuOL7/bLp7YVvZlw="

func TestCheckWebhook(t *testing.T) {
	body := []byte(`{"version":"1.0"}`)
	now := time.Now()
	sig, err := webhook.Sign(testSecret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	stale := now.Add(-time.Hour)
	staleSig, err := webhook.Sign(testSecret, "msg_1", stale, body)
	if err != nil {
		t.Fatal(err)
	}
	request := func(mutate func(h map[string]string)) map[string]string {
		h := map[string]string{
			"Content-Type": "application/json", "User-Agent": "StitchLoadingWebhook",
			"webhook-id": "msg_1", "webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": sig,
		}
		if mutate != nil {
			mutate(h)
		}
		return h
	}
	tests := map[string]struct {
		headers map[string]string
		secret  string
		known   bool
		want    string // substring of the only problem; "" for none
	}{
		"valid":                {request(nil), testSecret, true, ""},
		"one of several valid": {request(func(h map[string]string) { h["webhook-signature"] = "v1,AAAA " + sig }), testSecret, true, ""},
		"other secret":         {request(nil), "whsec_" + strings.Repeat("B", 43) + "=", true, "does not verify"},
		"other id":             {request(func(h map[string]string) { h["webhook-id"] = "msg_2" }), testSecret, true, "does not verify"},
		"no timestamp":         {request(func(h map[string]string) { delete(h, "webhook-timestamp") }), testSecret, true, "not Unix seconds"},
		"wrong user agent":     {request(func(h map[string]string) { h["User-Agent"] = "Go-http-client/1.1" }), testSecret, true, "User-Agent"},
		"unknown path":         {request(nil), "", false, "no seeded hook"},
		"stale timestamp": {request(func(h map[string]string) {
			h["webhook-timestamp"], h["webhook-signature"] = strconv.FormatInt(stale.Unix(), 10), staleSig
		}), testSecret, true, "away from now"},
		"missing content type":   {request(func(h map[string]string) { delete(h, "Content-Type") }), testSecret, true, "Content-Type"},
		"signature not v1 (bad)": {request(func(h map[string]string) { h["webhook-signature"] = strings.TrimPrefix(sig, "v1,") }), testSecret, true, "does not verify"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "https://127.0.0.1/catch/1", bytes.NewReader(body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			// The receiver verifies with the path's secret, then checkWebhook judges.
			var d kit.Delivery
			srv, path := kit.New(), ""
			if tt.known {
				path = "/catch/1"
			}
			srv.Handle(path, kit.Route{Secret: tt.secret, OnDelivery: func(got kit.Delivery) { d = got }})
			srv.ServeHTTP(httptest.NewRecorder(), req)
			if d.Path != "/catch/1" {
				t.Fatalf("the receiver took no delivery")
			}
			got := checkWebhook(d, tt.known)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestCheckMail(t *testing.T) {
	mail := func(id, to, subject, text string) inbox.Mail {
		var m inbox.Mail
		m.MessageID, m.Destination.To, m.Subject, m.Body.Text = id, []string{to}, subject, text
		return m
	}
	old := mail("m0", "ops@example.com", "S", "load-1")
	one := 1
	zero := 0
	want := mailExpectation{To: "ops@example.com", Subject: "S", TextContains: []string{"load-1"}}
	tests := map[string]struct {
		after []inbox.Mail
		want  mailExpectation
		diff  string
	}{
		"one new":            {[]inbox.Mail{old, mail("m1", "ops@example.com", "S", "x load-1 y")}, want, ""},
		"count explicit":     {[]inbox.Mail{old, mail("m1", "ops@example.com", "S", "load-1")}, mailExpectation{To: "ops@example.com", Count: &one, Subject: "S"}, ""},
		"only old mail":      {[]inbox.Mail{old}, want, "0 new mails to ops@example.com, want 1"},
		"other recipient":    {[]inbox.Mail{old, mail("m1", "x@example.com", "S", "load-1")}, want, "0 new mails"},
		"two new":            {[]inbox.Mail{old, mail("m1", "ops@example.com", "S", "load-1"), mail("m2", "ops@example.com", "S", "load-1")}, want, "2 new mails"},
		"wrong subject":      {[]inbox.Mail{mail("m1", "ops@example.com", "T", "load-1")}, want, `subject "T"`},
		"text lacks":         {[]inbox.Mail{mail("m1", "ops@example.com", "S", "other")}, want, `lacks "load-1"`},
		"none wanted":        {[]inbox.Mail{old}, mailExpectation{To: "ops@example.com", Count: &zero}, ""},
		"duplicate was sent": {[]inbox.Mail{old, mail("m1", "ops@example.com", "S", "")}, mailExpectation{To: "ops@example.com", Count: &zero}, "1 new mails to ops@example.com, want 0"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(checkMail(tt.after, inbox.IDs([]inbox.Mail{old}), tt.want), "; ")
			if (tt.diff == "") != (got == "") || !strings.Contains(got, tt.diff) {
				t.Errorf("checkMail = %q, want %q", got, tt.diff)
			}
		})
	}
}

func TestLoadExpectations(t *testing.T) {
	tests := map[string]struct {
		json string
		want string // substring of the error; "" for valid
	}{
		"valid": {`{"client_id":1,"steps":[{"seed":{"member":{"member_id":"m","email":"a@example.com","token":"t"}}},
			{"event":"e.json","function":"api","response":{"status":200,"body":{}}},
			{"event":"q.json","function":"alerter","batch_item_failures":[],"mail":{"to":"a@example.com","count":0}}]}`, ""},
		"unknown key":          {`{"client_id":1,"steps":[{"event":"e.json","function":"api","respones":{}}]}`, "unknown field"},
		"no client":            {`{"steps":[{"event":"e.json","function":"api","response":{"status":200,"body":{}}}]}`, "client_id"},
		"no steps":             {`{"client_id":1,"steps":[]}`, "no steps"},
		"no expectation":       {`{"client_id":1,"steps":[{"event":"e.json","function":"api"}]}`, "give a response"},
		"seed and event":       {`{"client_id":1,"steps":[{"seed":{},"event":"e.json"}]}`, "nothing else"},
		"hook before member":   {`{"client_id":1,"steps":[{"seed":{"hooks":[{"id":1,"url":"u","secret":"s"}]}}]}`, "seed the member first"},
		"api with failures":    {`{"client_id":1,"steps":[{"event":"e.json","function":"api","response":{"status":200,"body":{}},"batch_item_failures":[]}]}`, "only a response"},
		"mail without subject": {`{"client_id":1,"steps":[{"event":"q.json","function":"alerter","batch_item_failures":[],"mail":{"to":"a@example.com"}}]}`, "subject"},
		"trailing data":        {`{"client_id":1,"steps":[{"event":"e.json","function":"api","response":{"status":200,"body":{}}}]} {}`, "after the top-level"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "expect.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadExpectations(path)
			if tt.want == "" {
				if err != nil {
					t.Errorf("loadExpectations: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadExpectations error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestRepositoryExpectations checks events/expect.json itself and that every
// sample event has a step, without running anything.
func TestRepositoryExpectations(t *testing.T) {
	exp, err := loadExpectations("../../../../events/expect.json")
	if err != nil {
		t.Fatal(err)
	}
	files, err := eventFiles("../../../../events")
	if err != nil {
		t.Fatal(err)
	}
	covered := exp.events()
	for _, f := range files {
		if !covered[f] {
			t.Errorf("events/%s has no step in events/expect.json", f)
		}
	}
	for e := range covered {
		if _, err := os.Stat(filepath.Join("../../../../events", e)); err != nil {
			t.Errorf("events/expect.json names %s: %v", e, err)
		}
	}
}
