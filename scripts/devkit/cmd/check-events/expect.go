package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// expectations is events/expect.json: the steps scripts/check-events runs, in
// order. A step either seeds data or invokes one event and checks its result.
type expectations struct {
	// ClientID is the account every event and seed is about.
	ClientID int64  `json:"client_id"`
	Steps    []step `json:"steps"`
}

type step struct {
	// Seed, when set, makes this a seeding step (no event).
	Seed *seed `json:"seed,omitempty"`

	// Event is a file name in events/; Function the function it is for
	// (api, dispatcher, alerter or a logical id).
	Event    string `json:"event,omitempty"`
	Function string `json:"function,omitempty"`

	// Response is the expected result of an API event.
	Response *apiResponse `json:"response,omitempty"`

	// BatchItemFailures are the message ids an SQS event must report, in
	// order (empty: every record succeeded).
	BatchItemFailures *[]string `json:"batch_item_failures,omitempty"`
	// Webhooks are the webhook-id headers the hook receiver must get during
	// the event, as a multiset (order of concurrent deliveries is free).
	Webhooks *[]string `json:"webhooks,omitempty"`
	// DeadLetters is how many messages the event must put on the
	// notifications DLQ.
	DeadLetters *int `json:"dead_letters,omitempty"`
	// Mail is the email the event must send (exactly one new such mail).
	Mail *mailExpectation `json:"mail,omitempty"`
	// Scheduled marks a scheduled event (EventBridge): the function must
	// answer null, with no error.
	Scheduled bool `json:"scheduled,omitempty"`
	// EventMessages is how many event notifications (delivery.KindEvent)
	// the event must put on the retry queue.
	EventMessages *int `json:"event_messages,omitempty"`
}

// apiResponse is an API Gateway payload 2.0 response. Body is compared token
// by token (key order included, whitespace ignored); string values "<time>"
// and "<secret>" in it match any RFC 3339 UTC time to the second and any
// whsec_ secret.
type apiResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body"`
}

type mailExpectation struct {
	To string `json:"to"`
	// Count is how many new mails to To the event must send: 1 when
	// omitted; 0 checks that a duplicate sends none.
	Count   *int   `json:"count,omitempty"`
	Subject string `json:"subject,omitempty"`
	// TextContains are strings the text body must contain.
	TextContains []string `json:"text_contains,omitempty"`
}

// seed is data written before the next events, through the real store code
// where it can take the given values.
type seed struct {
	// Member is written as exact items (the store makes its own tokens):
	// the member item and the token item holding only the token's hash.
	Member *seedMember `json:"member,omitempty"`
	// Hooks are created with store.CreateHook by Member; "{{receiver}}" in
	// a URL is the local HTTPS hook receiver. ID is the id it must get.
	Hooks []seedHook `json:"hooks,omitempty"`
	// Deliveries are records whose first attempt failed (store.ClaimLoad
	// and store.RecordResults), so retry attempt 2 is due (or, with status
	// exhausted, none is).
	Deliveries []seedDelivery `json:"deliveries,omitempty"`
	// DeleteHooks are deleted with store.DeleteHook by Member.
	DeleteHooks []int64 `json:"delete_hooks,omitempty"`
	// HookSequence, when set, becomes the account's last hook id, so the
	// next create gets HookSequence+1.
	HookSequence *int64 `json:"hook_sequence,omitempty"`
	// FreshnessRules replace the account's freshness rules
	// (store.PutFreshnessRules), made CreatedAgo before now.
	FreshnessRules []seedRule `json:"freshness_rules,omitempty"`
}

type seedRule struct {
	IntegrationName string `json:"integration_name"`
	Table           string `json:"table"`
	MaxInterval     string `json:"max_interval"`
	CreatedAgo      string `json:"created_ago"`
}

type seedMember struct {
	MemberID string `json:"member_id"`
	Email    string `json:"email"`
	Token    string `json:"token"`
}

type seedHook struct {
	ID            int64  `json:"id"`
	DestinationID int64  `json:"destination_id"`
	URL           string `json:"url"`
	Secret        string `json:"secret"`
}

type seedDelivery struct {
	LoadID    string `json:"load_id"`
	HookID    int64  `json:"hook_id"`
	WebhookID string `json:"webhook_id"`
	// BodyDigest is delivery.BodyDigest of the body the retry event carries.
	BodyDigest string `json:"body_digest"`
	// Event is the retry event (a file of events/) whose body the load sent.
	Event string `json:"event"`
	// Status is how the failed first attempt leaves the delivery: waiting
	// (the default: attempt 2 is due) or exhausted (no retry left: the
	// history's resend and replay apply).
	Status string `json:"status,omitempty"`
}

// loadExpectations reads and checks path strictly: unknown keys are errors,
// so a typo cannot silently turn a check off.
func loadExpectations(path string) (expectations, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return expectations{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e expectations
	if err := dec.Decode(&e); err != nil {
		return expectations{}, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return expectations{}, fmt.Errorf("%s: data after the top-level object", path)
	}
	if err := e.validate(); err != nil {
		return expectations{}, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

func (e expectations) validate() error {
	var problems []error
	if e.ClientID <= 0 {
		problems = append(problems, errors.New("client_id must be a positive integer"))
	}
	if len(e.Steps) == 0 {
		problems = append(problems, errors.New("no steps"))
	}
	var member bool
	for i, s := range e.Steps {
		fail := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("step %d: "+format, append([]any{i + 1}, args...)...))
		}
		if s.Seed != nil {
			if s.Event != "" || s.Function != "" || s.Response != nil || s.BatchItemFailures != nil ||
				s.Webhooks != nil || s.DeadLetters != nil || s.Mail != nil || s.Scheduled || s.EventMessages != nil {
				fail("a seed step has nothing else")
			}
			for _, r := range s.Seed.FreshnessRules {
				_, err1 := time.ParseDuration(r.MaxInterval)
				_, err2 := time.ParseDuration(r.CreatedAgo)
				if r.IntegrationName == "" || r.Table == "" || err1 != nil || err2 != nil {
					fail("freshness rule needs integration_name, table, and durations max_interval and created_ago")
				}
			}
			if s.Seed.Member != nil {
				member = true
				if s.Seed.Member.MemberID == "" || s.Seed.Member.Token == "" || s.Seed.Member.Email == "" {
					fail("member needs member_id, email and token")
				}
			}
			if (len(s.Seed.Hooks) > 0 || len(s.Seed.DeleteHooks) > 0) && !member {
				fail("hooks are created and deleted by a member: seed the member first")
			}
			for _, h := range s.Seed.Hooks {
				if h.ID <= 0 || h.DestinationID <= 0 || h.URL == "" || h.Secret == "" {
					fail("hook needs id, destination_id, url and secret")
				}
			}
			for _, d := range s.Seed.Deliveries {
				if d.LoadID == "" || d.HookID <= 0 || d.WebhookID == "" {
					fail("delivery needs load_id, hook_id and webhook_id")
				}
				if d.Status != "" && d.Status != delivery.StatusWaiting && d.Status != delivery.StatusExhausted {
					fail("delivery status is waiting (the default) or exhausted")
				}
			}
			continue
		}
		if s.Event == "" || s.Function == "" {
			fail("an event step needs event and function")
			continue
		}
		switch {
		case s.Scheduled:
			if s.Response != nil || s.BatchItemFailures != nil || s.Webhooks != nil || s.DeadLetters != nil {
				fail("%s: a scheduled step has only mail and event_messages", s.Event)
			}
			if m := s.Mail; m != nil && (m.To == "" || m.Count != nil && *m.Count < 0 || m.want() > 0 && m.Subject == "") {
				fail("%s: mail needs to, a count of at least 0 and, unless count is 0, a subject", s.Event)
			}
		case s.Response != nil:
			if s.BatchItemFailures != nil || s.DeadLetters != nil || s.Mail != nil {
				fail("%s: an API step has only a response (and the webhooks it sends)", s.Event)
			}
			if s.Response.Status == 0 || len(s.Response.Body) == 0 {
				fail("%s: response needs status and body", s.Event)
			}
		case s.BatchItemFailures != nil:
			if m := s.Mail; m != nil && (m.To == "" || m.Count != nil && *m.Count < 0 || m.want() > 0 && m.Subject == "") {
				fail("%s: mail needs to, a count of at least 0 and, unless count is 0, a subject", s.Event)
			}
		default:
			fail("%s: give a response (API event) or batch_item_failures (SQS event)", s.Event)
		}
	}
	return errors.Join(problems...)
}

// events lists the event files the steps invoke, once each.
func (e expectations) events() map[string]bool {
	m := map[string]bool{}
	for _, s := range e.Steps {
		if s.Event != "" {
			m[s.Event] = true
		}
	}
	return m
}

// want is how many mails are expected.
func (m mailExpectation) want() int {
	if m.Count == nil {
		return 1
	}
	return *m.Count
}
