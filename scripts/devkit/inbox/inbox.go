// Package inbox reads the mail the local SES v2 emulator (aws-ses-v2-local)
// has accepted. The emulator lists every message it was given, for every
// recipient, since it started, at GET <base>/store; it keeps one mailbox for
// everyone, so a reader picks its own mail by recipient (tests use
// addresses no other test uses) or by message id (what is new since a
// snapshot).
//
// It is the one reader of that store for scripts/dev's users, the tests,
// scripts/check-events and scripts/chaos. It is a development tool: it only
// reads, and only from the emulator's URL it is given.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Mail is one message as the emulator lists it.
type Mail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	// Headers are the custom headers the sender gave (SES v2
	// Content.Simple.Headers), such as List-Unsubscribe.
	Headers []Header `json:"headers"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
}

// Header is one custom mail header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Header returns the value of the custom header name ("" when absent),
// compared without regard to case.
func (m Mail) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Recipients returns the To, Cc and Bcc addresses, in that order.
func (m Mail) Recipients() []string {
	return slices.Concat(m.Destination.To, m.Destination.Cc, m.Destination.Bcc)
}

// SentTo reports whether addr is one of the recipients (compared without
// regard to case, as mail systems compare them in practice).
func (m Mail) SentTo(addr string) bool {
	return slices.ContainsFunc(m.Recipients(), func(a string) bool { return strings.EqualFold(a, addr) })
}

// maxStore bounds what a reader takes of the store's listing.
const maxStore = 64 << 20

// Reader reads the store of the emulator at URL (the SDK's
// AWS_ENDPOINT_URL_SESV2, for example http://127.0.0.1:8005).
type Reader struct {
	URL    string
	Client *http.Client
}

// New returns a Reader of the emulator at url with a 10 s timeout per read.
func New(url string) Reader {
	return Reader{URL: strings.TrimRight(url, "/"), Client: &http.Client{Timeout: 10 * time.Second}}
}

// List returns every mail in the store, oldest first.
func (r Reader) List(ctx context.Context) ([]Mail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/store", nil)
	if err != nil {
		return nil, fmt.Errorf("read the SES emulator's store: %w", err)
	}
	c := r.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the SES emulator's store: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the SES emulator's store: status %d", resp.StatusCode)
	}
	var doc struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStore)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode the SES emulator's store: %w", err)
	}
	return doc.Emails, nil
}

// To returns the mail in the store sent to addr (To, Cc or Bcc).
func (r Reader) To(ctx context.Context, addr string) ([]Mail, error) {
	all, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Mail
	for _, m := range all {
		if m.SentTo(addr) {
			out = append(out, m)
		}
	}
	return out, nil
}

// IDs returns the message ids of mails, to tell new mail from old.
func IDs(mails []Mail) map[string]bool {
	ids := make(map[string]bool, len(mails))
	for _, m := range mails {
		ids[m.MessageID] = true
	}
	return ids
}
