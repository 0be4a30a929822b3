package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
)

// The delivery history of a hook: the list (newest first, paged by an
// opaque cursor bound to the account, the hook and the status asked for),
// one delivery with the exact body sent, and resend. Deliveries are kept
// 30 days.

// Errors of the history's query parameters.
var (
	errInvalidLimit  = errors.New("invalid limit")
	errInvalidStatus = errors.New("invalid status")
)

// Limits of a page of the history.
const (
	defaultDeliveryLimit = 20
	maxDeliveryLimit     = 100
)

// deliveryReader is what the history reads from the store.
type deliveryReader interface {
	hookGetter
	ListDeliveries(ctx context.Context, q delivery.ListQuery) (delivery.Page, error)
	GetDelivery(ctx context.Context, k delivery.Key) (delivery.Delivery, error)
}

// deliveryResender is what a resend needs from the store.
type deliveryResender interface {
	memberAuth
	testSender
	Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error)
	UndoResend(ctx context.Context, k delivery.Key, ended delivery.Ended) error
}

// retryQueuer queues a retry message on the dispatcher's retry queue, to
// arrive after delay seconds (0: at once; SQS allows at most 900).
type retryQueuer interface {
	QueueRetry(ctx context.Context, m delivery.RetryMessage, delay int32) error
}

// sqsSender is the SQS call the retry queue makes.
type sqsSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// sendMessageFunc is an sqsSender made of the SQS client's SendMessage
// method value, for the same reason as sendEmailFunc: given *sqs.Client
// itself, the bootstrap would carry every SQS operation (html/template's
// MethodByName keeps every exported method of a type that reaches an
// interface value), about 0.5 MiB of the api's arm64 bootstrap.
type sendMessageFunc func(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)

func (f sendMessageFunc) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f(ctx, in, opts...)
}

// sqsRetryQueue is the retry queue (HOOKS_RETRY_QUEUE_URL). With no URL
// every resend fails (a logged 500).
type sqsRetryQueue struct {
	client sqsSender
	url    string
}

func (q sqsRetryQueue) QueueRetry(ctx context.Context, m delivery.RetryMessage, delay int32) error {
	if q.client == nil || q.url == "" {
		return errors.New("resend: HOOKS_RETRY_QUEUE_URL is not set")
	}
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(string(m.Encode())),
		DelaySeconds: min(delay, maxDelaySeconds), MessageGroupId: aws.String(notify.MessageGroupID(m.ClientID))})
	return err
}

// handleListDeliveries serves GET .../hooks/{id}/deliveries: 200 with
// {"data":[delivery,...],"next_cursor":"..." or null}, newest first, the
// cursors sealed by seal (cursor.go). Allowed on any plan.
func handleListDeliveries(log *slog.Logger, s deliveryReader, seal cursorSeal) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.GetHook(r.Context(), p.ClientID, id); err != nil {
			return err
		}
		q, err := parseListQuery(r)
		if err != nil {
			return err
		}
		if q.Cursor != "" {
			if q.Cursor, err = seal.open(q.Cursor); err != nil {
				return err
			}
		}
		q.ClientID, q.HookID = p.ClientID, id
		page, err := s.ListDeliveries(r.Context(), q)
		if err != nil {
			return err
		}
		page.Next = seal.seal(page.Next)
		writeJSON(w, http.StatusOK, newDeliveryListJSON(page))
		return nil
	})
}

// parseListQuery reads limit, cursor and status. Each may be left out; one
// given (even empty) must be valid, given once and correctly escaped.
// Other parameters are ignored.
func parseListQuery(r *http.Request) (delivery.ListQuery, error) {
	v := map[string][]string{}
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		k, val, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		if val, err = url.QueryUnescape(val); err != nil {
			val = "\x00" // never valid
		}
		v[name] = append(v[name], val)
	}
	q := delivery.ListQuery{Limit: defaultDeliveryLimit}
	if l, ok := v["limit"]; ok {
		n, valid := parsePositiveID(l[0])
		if len(l) != 1 || !valid || n > maxDeliveryLimit {
			return q, errInvalidLimit
		}
		q.Limit = int(n)
	}
	if st, ok := v["status"]; ok {
		if len(st) != 1 || !validStatus(st[0]) {
			return q, errInvalidStatus
		}
		q.Status = st[0]
	}
	if c, ok := v["cursor"]; ok {
		if len(c) != 1 || c[0] == "" {
			return q, hook.ErrInvalidCursor
		}
		q.Cursor = c[0]
	}
	return q, nil
}

func validStatus(s string) bool {
	switch s {
	case delivery.StatusAttempting, delivery.StatusWaiting, delivery.StatusDelivered, delivery.StatusExhausted, delivery.StatusCancelled, delivery.StatusSkipped:
		return true
	}
	return false
}

// handleGetDelivery serves GET .../hooks/{id}/deliveries/{delivery_id}: 200
// with the delivery and the body it sent. Allowed on any plan.
func handleGetDelivery(log *slog.Logger, s deliveryReader) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		k, err := deliveryKey(r, p)
		if err != nil {
			return err
		}
		if _, err := s.GetHook(r.Context(), p.ClientID, k.HookID); err != nil {
			return err
		}
		d, err := s.GetDelivery(r.Context(), k)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newDeliveryBodyJSON(d))
		return nil
	})
}

// deliveryKey is the delivery of the path's {id} and {delivery_id} in p's
// account, or hook.ErrNotFound.
func deliveryKey(r *http.Request, p hook.Principal) (delivery.Key, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return delivery.Key{}, err
	}
	loadID, ok := delivery.ParseID(r.PathValue("delivery_id"))
	if !ok {
		return delivery.Key{}, hook.ErrNotFound
	}
	return delivery.Key{ClientID: p.ClientID, LoadID: loadID, HookID: id}, nil
}

// handleResend serves POST .../hooks/{id}/deliveries/{delivery_id}/resend,
// without a body: 202 with the delivery. A delivery that has ended starts a
// fresh sequence (the same body and webhook-id, 1 attempt and the retries,
// an alert when it is exhausted); one still in progress is answered as it
// is, and nothing is queued. Needs the feature and an enabled hook.
func handleResend(log *slog.Logger, s deliveryResender, q retryQueuer) http.Handler {
	return asMember(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal) error {
		k, err := deliveryKey(r, p)
		if err != nil {
			return err
		}
		if err := readNoBody(w, r); err != nil {
			return err
		}
		d, err := resend(r.Context(), s, q, k)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, newDeliveryJSON(d))
		return nil
	})
}

// resend checks the hook (hook.ErrNotFound, then hook.ErrNoAccess, which
// wins over hook.ErrDisabled), restarts the delivery (hook.ErrNotFound,
// hook.ErrTestDelivery) and queues the retry message that starts it.
func resend(ctx context.Context, s deliveryResender, q retryQueuer, k delivery.Key) (delivery.Delivery, error) {
	if _, err := hookUsable(ctx, s, k.ClientID, k.HookID); err != nil {
		return delivery.Delivery{}, err
	}
	r, err := s.Resend(ctx, k)
	if errors.Is(err, hook.ErrDeliveryInProgress) {
		return r.Delivery, nil
	}
	if err != nil {
		return delivery.Delivery{}, err
	}
	if err := queueRestart(ctx, s, q, r, 0); err != nil {
		return delivery.Delivery{}, err
	}
	return r.Delivery, nil
}

// queueRestart queues the retry message of a restarted delivery, to arrive
// after delay seconds. When that fails the delivery is put back as it had
// ended (so it is not left waiting for a message that never comes) and the
// queue's error returned: the caller answers 500 and the member may try
// again.
func queueRestart(ctx context.Context, s deliveryResender, q retryQueuer, r delivery.Restart, delay int32) error {
	err := q.QueueRetry(ctx, r.Message, delay)
	if err == nil {
		return nil
	}
	if uerr := s.UndoResend(ctx, r.Delivery.Key, r.Ended); uerr != nil {
		return errors.Join(fmt.Errorf("queue resend of %s hook %d: %w", r.Delivery.LoadID, r.Delivery.HookID, err), uerr)
	}
	return fmt.Errorf("queue resend of %s hook %d: %w", r.Delivery.LoadID, r.Delivery.HookID, err)
}

// hookUsable returns the hook unless it is not in the account
// (hook.ErrNotFound), the plan lacks the feature (hook.ErrNoAccess, which
// wins over a disabled hook) or it is disabled (hook.ErrDisabled).
func hookUsable(ctx context.Context, s testSender, clientID, id int64) (hook.Hook, error) {
	h, err := s.GetHook(ctx, clientID, id)
	if err != nil {
		return hook.Hook{}, err
	}
	a, err := s.Account(ctx, clientID)
	if err != nil {
		return hook.Hook{}, err
	}
	switch {
	case !a.HasHooks():
		return hook.Hook{}, hook.ErrNoAccess
	case !h.Enabled():
		return hook.Hook{}, hook.ErrDisabled
	}
	return h, nil
}

// deliveryJSON is one delivery as the history shows it.
type deliveryJSON struct {
	ID              string        `json:"id"`
	LoadID          string        `json:"load_id"`
	IntegrationName string        `json:"integration_name"`
	Tables          []string      `json:"tables"`
	Status          string        `json:"status"`
	WebhookID       string        `json:"webhook_id"`
	CreatedAt       string        `json:"created_at"`
	Attempts        []attemptJSON `json:"attempts"`
}

func newDeliveryJSON(d delivery.Delivery) deliveryJSON {
	j := deliveryJSON{ID: delivery.ID(d.LoadID), LoadID: d.LoadID, IntegrationName: d.IntegrationName,
		Tables: d.Tables, Status: d.Status, WebhookID: d.WebhookID, CreatedAt: formatTime(d.CreatedAt),
		Attempts: make([]attemptJSON, 0, len(d.Attempts))}
	if j.Tables == nil {
		j.Tables = []string{}
	}
	for _, a := range d.Attempts {
		j.Attempts = append(j.Attempts, newAttemptJSON(a))
	}
	return j
}

// deliveryBodyJSON is one delivery with the exact body it sent.
type deliveryBodyJSON struct {
	deliveryJSON
	Body string `json:"body"`
}

func newDeliveryBodyJSON(d delivery.Delivery) deliveryBodyJSON {
	return deliveryBodyJSON{deliveryJSON: newDeliveryJSON(d), Body: string(d.Body)}
}

// deliveryListJSON is a page of the history.
type deliveryListJSON struct {
	Data       []deliveryJSON `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

func newDeliveryListJSON(p delivery.Page) deliveryListJSON {
	j := deliveryListJSON{Data: make([]deliveryJSON, 0, len(p.Deliveries))}
	for _, d := range p.Deliveries {
		j.Data = append(j.Data, newDeliveryJSON(d))
	}
	if p.Next != "" {
		j.NextCursor = &p.Next
	}
	return j
}
