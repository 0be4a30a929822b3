package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Alert digests: the first exhausted delivery of a hook is emailed at once
// and opens a window (from that moment); the other exhausted deliveries of
// the hook within the window are kept and sent as one digest once the
// window has ended.
//
// Items, all in the partition DIGEST#<client_id>#<hook_id>:
//
//	sk CURRENT                   the hook's newest window: start and end
//	                             (Unix ms), first_load (the load that opened
//	                             it)
//	sk SEALED#<start>            exists once the window's digest was taken:
//	                             no entry joins the window after it
//	sk ENTRY#<start>#<load_id>   one exhausted delivery kept for the digest
//
// and, on the alert item of the (load, hook) pair (see ClaimAlert),
// digest_start and digest_first: the window the delivery was placed in, and
// whether it opened it. That placement is written once, in the same
// transaction as the window or the entry, so a redelivered alert message
// finds where its delivery went and never lands in a second window: every
// exhausted delivery is either the first email of exactly one window or an
// entry of exactly one digest.
//
// An entry is written in a transaction that checks that its window is not
// sealed, and SealDigest seals before it reads the entries, so an entry is
// either in the digest or (sealed first) placed again, in a new window.
// Every item expires with the alert items (alertTTL).

// Attributes of the digest items and of the alert item's placement.
const (
	dgStart      = "start"
	dgEnd        = "end"
	dgFirstLoad  = "first_load"
	dgLoadID     = "load_id"
	dgWebhookID  = "webhook_id"
	dgIntegr     = "integration_name"
	dgTable      = "table_name"
	dgAt         = "at"
	dgClass      = "error_class"
	dgSnippet    = "response_snippet"
	dgEvent      = "event"
	dgSequence   = "sequence"
	alDigestAt   = "digest_start"
	alDigestOpen = "digest_first"
)

// placeAttempts bounds how often NoteExhausted starts over after losing a
// race with a concurrent write of the same hook's window.
const placeAttempts = 8

// ErrDigestOpen: the window has not ended yet; its digest cannot be taken.
var ErrDigestOpen = errors.New("digest window still open")

// DigestWindow is one window of a hook's alerts.
type DigestWindow struct {
	ClientID int64
	HookID   int64
	Start    time.Time // Unix milliseconds precision
	End      time.Time
}

// DigestEntry is one exhausted delivery kept for a digest.
type DigestEntry = delivery.DigestEntry

// DigestLoadID is the load id under which the digest of the window that
// started at start is claimed with ClaimAlert (so a digest, like an alert,
// reaches each address once). It holds a newline, which no real load id
// may, so it never meets a load's alert.
func DigestLoadID(start time.Time) string {
	return "digest\n" + strconv.FormatInt(start.UnixMilli(), 10)
}

func digestPK(clientID, hookID int64) string {
	return "DIGEST#" + strconv.FormatInt(clientID, 10) + "#" + strconv.FormatInt(hookID, 10)
}

const skDigestCurrent = "CURRENT"

func digestSealSK(start time.Time) string { return fmt.Sprintf("SEALED#%013d", start.UnixMilli()) }

func digestEntryPrefix(start time.Time) string { return fmt.Sprintf("ENTRY#%013d#", start.UnixMilli()) }

// NoteExhausted places the exhausted delivery e of hook hookID in the hook's
// window at now: when no window of the hook is open, e opens one of length
// window and first is true (email it at once, and have the digest taken
// when the window ends); otherwise e is kept as an entry of the open
// window's digest. Calling it again for the same (load, hook) returns the
// same placement, whatever the time.
func (s *Store) NoteExhausted(ctx context.Context, clientID, hookID int64, e DigestEntry, window time.Duration) (w DigestWindow, first bool, err error) {
	for range placeAttempts {
		w, first, done, err := s.placeOnce(ctx, clientID, hookID, e, window)
		if err != nil {
			return DigestWindow{}, false, fmt.Errorf("note exhausted %d/%s/%d: %w", clientID, e.LoadID, hookID, err)
		}
		if done {
			return w, first, nil
		}
	}
	return DigestWindow{}, false, fmt.Errorf("note exhausted %d/%s/%d: %w", clientID, e.LoadID, hookID, errBusy)
}

// placeOnce makes one try of NoteExhausted; done is false when it lost a race
// and must start over.
func (s *Store) placeOnce(ctx context.Context, clientID, hookID int64, e DigestEntry, window time.Duration) (w DigestWindow, first, done bool, err error) {
	w = DigestWindow{ClientID: clientID, HookID: hookID}
	alertLoad := delivery.AlertLoadID(e.LoadID, e.AttemptCount)
	alert, err := s.getItem(ctx, alertPK(clientID, alertLoad), hookSK(hookID))
	if err != nil {
		return w, false, false, err
	}
	if d := (itemDecoder{item: alert}); d.has(alDigestAt) {
		start := d.int(alDigestAt)
		first := d.flag(alDigestOpen)
		cur, err := s.getItem(ctx, digestPK(clientID, hookID), skDigestCurrent)
		if err != nil {
			return w, false, false, err
		}
		w.Start = time.UnixMilli(start).UTC()
		w.End = w.Start.Add(window)
		if c := (itemDecoder{item: cur}); cur != nil && c.int(dgStart) == start {
			w.End = time.UnixMilli(c.int(dgEnd)).UTC()
		}
		return w, first, true, d.result("alert")
	}
	cur, err := s.getItem(ctx, digestPK(clientID, hookID), skDigestCurrent)
	if err != nil {
		return w, false, false, err
	}
	now := time.UnixMilli(s.now().UnixMilli()).UTC()
	exp := attrN(s.now().Add(alertTTL).Unix())
	placed := func(start int64, opened bool) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:           &s.table,
			Key:                 key(alertPK(clientID, alertLoad), hookSK(hookID)),
			ConditionExpression: aws.String("attribute_not_exists(#at)"),
			UpdateExpression:    aws.String("SET #at = :start, #first = :first, #exp = if_not_exists(#exp, :exp)"),
			ExpressionAttributeNames: map[string]string{
				"#at": alDigestAt, "#first": alDigestOpen, "#exp": attrExpiresAt,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":start": attrN(start), ":first": &types.AttributeValueMemberBOOL{Value: opened}, ":exp": exp,
			},
		}}
	}
	if c := (itemDecoder{item: cur}); cur != nil && c.int(dgEnd) > now.UnixMilli() {
		if err := c.result("digest window"); err != nil {
			return w, false, false, err
		}
		start := c.int(dgStart)
		w.Start, w.End = time.UnixMilli(start).UTC(), time.UnixMilli(c.int(dgEnd)).UTC()
		entry := map[string]types.AttributeValue{
			attrPK: attrS(digestPK(clientID, hookID)), attrSK: attrS(digestEntryPrefix(w.Start) + alertLoad),
			dgLoadID: attrS(e.LoadID), dgWebhookID: attrS(e.WebhookID), dgIntegr: attrS(e.Integration),
			dgTable: attrS(e.Table), dgAt: attrTime(e.At), dgClass: attrS(e.ErrorClass),
			dgSnippet: attrS(e.Snippet), dgEvent: attrS(e.Event), dgSequence: attrN(e.Sequence), attrExpiresAt: exp,
		}
		err := s.transactWrite(ctx, []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{
				TableName:           &s.table,
				Key:                 key(digestPK(clientID, hookID), digestSealSK(w.Start)),
				ConditionExpression: aws.String(condNew),
			}},
			s.putNew(entry),
			placed(start, false),
		})
		if _, ok := cancellationReasons(err); ok {
			// Sealed meanwhile (the window's digest was taken: place it
			// again, in a new window) or placed by a concurrent duplicate:
			// start over either way.
			return w, false, false, nil
		}
		return w, false, err == nil, err
	}
	// No window open: this delivery opens one.
	w.Start, w.End = now, now.Add(window)
	cond := condNew
	vals := map[string]types.AttributeValue{}
	if cur != nil {
		cond = "#start = :oldStart AND #end <= :now"
		c := itemDecoder{item: cur}
		vals[":oldStart"], vals[":now"] = attrN(c.int(dgStart)), attrN(now.UnixMilli())
		if err := c.result("digest window"); err != nil {
			return w, false, false, err
		}
	}
	put := &types.Put{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: attrS(digestPK(clientID, hookID)), attrSK: attrS(skDigestCurrent),
			dgStart: attrN(w.Start.UnixMilli()), dgEnd: attrN(w.End.UnixMilli()),
			dgFirstLoad: attrS(e.LoadID), attrExpiresAt: exp,
		},
		ConditionExpression: aws.String(cond),
	}
	if cur != nil {
		put.ExpressionAttributeNames = map[string]string{"#start": dgStart, "#end": dgEnd}
		put.ExpressionAttributeValues = vals
	}
	err = s.transactWrite(ctx, []types.TransactWriteItem{{Put: put}, placed(w.Start.UnixMilli(), true)})
	if _, ok := cancellationReasons(err); ok {
		return w, false, false, nil // another delivery opened a window, or a duplicate placed this one
	}
	return w, true, err == nil, err
}

// SealDigest takes the digest of the window of hookID that started at start:
// it seals the window, so no entry joins it any more, and returns its
// entries, oldest first. It returns ErrDigestOpen (and seals nothing) while
// the window has not ended at the store's now. Sealing again is harmless:
// the same entries are returned.
func (s *Store) SealDigest(ctx context.Context, w DigestWindow) ([]DigestEntry, error) {
	if s.now().Before(w.End) {
		return nil, fmt.Errorf("seal digest %d/%d: %w", w.ClientID, w.HookID, ErrDigestOpen)
	}
	pk := digestPK(w.ClientID, w.HookID)
	_, err := s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK: attrS(pk), attrSK: attrS(digestSealSK(w.Start)),
			attrExpiresAt: attrN(s.now().Add(alertTTL).Unix()),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("seal digest %d/%d: %w", w.ClientID, w.HookID, err)
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(pk), ":prefix": attrS(digestEntryPrefix(w.Start))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("seal digest %d/%d: %w", w.ClientID, w.HookID, err)
	}
	out := make([]DigestEntry, 0, len(items))
	for _, it := range items {
		d := itemDecoder{item: it}
		e := DigestEntry{
			LoadID: d.str(dgLoadID), WebhookID: d.str(dgWebhookID), Integration: d.str(dgIntegr),
			Table: d.str(dgTable), At: d.time(dgAt), ErrorClass: d.str(dgClass), Snippet: d.str(dgSnippet),
			// Entries written by earlier versions have neither.
			Event: d.optStr(dgEvent), Sequence: d.optInt(dgSequence),
		}
		if err := d.result("digest entry"); err != nil {
			return nil, fmt.Errorf("seal digest %d/%d: %w", w.ClientID, w.HookID, err)
		}
		out = append(out, e)
	}
	SortDigestEntries(out)
	return out, nil
}

// SortDigestEntries orders entries as a digest lists them: by the time of
// their last attempt, then by load id.
func SortDigestEntries(entries []DigestEntry) {
	slices.SortFunc(entries, func(a, b DigestEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.LoadID, b.LoadID)
	})
}
