package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Delivery records: one item per (load, hook) pair, keyed
// DELIVERY#<client_id>#<load_id> / HOOK#<hook id>. Its status and attempt
// number make every step of the dispatcher a conditional write, so a
// duplicate or stale queue message can never cause a second HTTP attempt.
//
// lease_until is a number (Unix milliseconds) so the condition compares it
// numerically; expires_at is the TTL attribute (Unix seconds, as DynamoDB
// TTL requires), refreshed on every write to 30 days ahead.

// DeliveryTTL is how long a delivery record is kept after its last write.
const DeliveryTTL = 30 * 24 * time.Hour

// Attributes of the delivery item (besides client_id, created_at,
// modified_at and expires_at, shared with other items).
const (
	delStatus    = "status"
	delAttempt   = "attempt"
	delLease     = "lease_until"
	delWebhookID = "webhook_id"
	delAttempts  = "attempts"
	delLoadID    = "load_id"
	delHookID    = "hook_id"
	delDigest    = "body_digest"
)

// deliveryNames are the expression attribute names of every delivery write
// (status is a DynamoDB reserved word, so all are named alike).
func deliveryNames() map[string]string {
	return map[string]string{
		"#status": delStatus, "#attempt": delAttempt, "#lease": delLease,
		"#expires": attrExpiresAt, "#modified": attrModifiedAt,
	}
}

// ClaimAttempt takes attempt n of the pair k for this invocation, holding a
// lease until now+lease. It succeeds when the attempt is due: n is 1 and the
// pair has no record yet, or the record waits for attempt n (status waiting
// after attempt n-1), or attempt n was claimed before and its lease expired
// (the invocation holding it died).
//
// bodyDigest (delivery.BodyDigest of the body the attempt sends) is kept by
// the first claim, and every later claim must name the same: a retry message
// carrying another body claims nothing.
//
// When the claim fails, claimed is false and current is the record as it was
// (nil if there is none), for delivery.OnClaimConflict to decide.
func (s *Store) ClaimAttempt(ctx context.Context, k delivery.Key, n int, webhookID, bodyDigest string, lease time.Duration) (claimed bool, current *delivery.Record, err error) {
	now := s.now().UTC()
	names := deliveryNames()
	names["#created"] = attrCreatedAt
	names["#webhook"] = delWebhookID
	names["#cid"] = attrClientID
	names["#lid"] = delLoadID
	names["#hid"] = delHookID
	names["#digest"] = delDigest
	cond := "((#status = :waiting AND #attempt = :prev) OR (#status = :attempting AND #attempt = :n AND #lease < :now)) AND #digest = :digest"
	if n == 1 {
		cond = "attribute_not_exists(#pk) OR " + cond
		names["#pk"] = attrPK
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression: aws.String("SET #status = :attempting, #attempt = :n, #lease = :lease, #webhook = :webhook, " +
			"#cid = :cid, #lid = :lid, #hid = :hid, #digest = :digest, #expires = :expires, #modified = :nowt, #created = if_not_exists(#created, :nowt)"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":attempting": attrS(delivery.StatusAttempting),
			":waiting":    attrS(delivery.StatusWaiting),
			":n":          attrN(int64(n)),
			":prev":       attrN(int64(n - 1)),
			":now":        attrN(now.UnixMilli()),
			":lease":      attrN(now.Add(lease).UnixMilli()),
			":webhook":    attrS(webhookID),
			":cid":        attrN(k.ClientID),
			":lid":        attrS(k.LoadID),
			":hid":        attrN(k.HookID),
			":digest":     attrS(bodyDigest),
			":expires":    attrN(now.Add(DeliveryTTL).Unix()),
			":nowt":       attrTime(now),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, nil, nil
	}
	if !isConditionFailed(err) {
		return false, nil, fmt.Errorf("claim delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, err)
	}
	item := conditionFailedItem(err)
	if item == nil {
		return false, nil, nil
	}
	rec, err := decodeDelivery(item)
	if err != nil {
		return false, nil, fmt.Errorf("claim delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	return false, &rec, nil
}

// RecordAttempt appends the result of attempt n to the pair's history and
// sets its status (waiting, delivered or exhausted), provided this
// invocation still holds the claim (status attempting at attempt n). It
// returns the whole record as written, history included, so an alert needs
// no second read. It returns delivery.ErrClaimLost when the claim was lost.
func (s *Store) RecordAttempt(ctx context.Context, k delivery.Key, n int, a delivery.Attempt, status string) (delivery.Record, error) {
	now := s.now().UTC()
	names := deliveryNames()
	names["#attempts"] = delAttempts
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression: aws.String("SET #status = :status, #attempts = list_append(if_not_exists(#attempts, :empty), :attempt), " +
			"#expires = :expires, #modified = :nowt REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :attempting AND #attempt = :n"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status":     attrS(status),
			":attempting": attrS(delivery.StatusAttempting),
			":n":          attrN(int64(n)),
			":empty":      &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			":attempt":    &types.AttributeValueMemberL{Value: []types.AttributeValue{encodeAttempt(a)}},
			":expires":    attrN(now.Add(DeliveryTTL).Unix()),
			":nowt":       attrTime(now),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return delivery.Record{}, fmt.Errorf("record delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, delivery.ErrClaimLost)
	}
	if err != nil {
		return delivery.Record{}, fmt.Errorf("record delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, err)
	}
	rec, err := decodeDelivery(out.Attributes)
	if err != nil {
		return delivery.Record{}, fmt.Errorf("record delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	return rec, nil
}

// Cancel ends the pair's delivery quietly (hook deleted or disabled, or plan
// lost), provided this invocation holds the claim of attempt n. It returns
// delivery.ErrClaimLost when the claim was lost.
func (s *Store) Cancel(ctx context.Context, k delivery.Key, n int) error {
	now := s.now().UTC()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression:         aws.String("SET #status = :cancelled, #expires = :expires, #modified = :nowt REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :attempting AND #attempt = :n"),
		ExpressionAttributeNames: deliveryNames(),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cancelled":  attrS(delivery.StatusCancelled),
			":attempting": attrS(delivery.StatusAttempting),
			":n":          attrN(int64(n)),
			":expires":    attrN(now.Add(DeliveryTTL).Unix()),
			":nowt":       attrTime(now),
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("cancel delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, delivery.ErrClaimLost)
	}
	if err != nil {
		return fmt.Errorf("cancel delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, err)
	}
	return nil
}

func encodeAttempt(a delivery.Attempt) types.AttributeValue {
	m := map[string]types.AttributeValue{
		"at":         attrTime(a.At),
		"outcome":    attrS(a.Outcome),
		"latency_ms": attrN(a.LatencyMs),
	}
	if a.StatusCode != 0 {
		m["status_code"] = attrN(int64(a.StatusCode))
	}
	if a.Error != "" {
		m["error"] = attrS(a.Error)
	}
	if s := delivery.TruncateUTF8(a.Snippet, delivery.SnippetBytes); s != "" {
		m["response_snippet"] = attrS(s)
	}
	return &types.AttributeValueMemberM{Value: m}
}

func decodeDelivery(item map[string]types.AttributeValue) (delivery.Record, error) {
	d := itemDecoder{item: item}
	rec := delivery.Record{
		Key: delivery.Key{
			ClientID: d.int(attrClientID),
			LoadID:   d.str(delLoadID),
			HookID:   d.int(delHookID),
		},
		Status:    d.str(delStatus),
		Attempt:   int(d.int(delAttempt)),
		WebhookID: d.str(delWebhookID),
	}
	if d.has(delDigest) {
		rec.BodyDigest = d.str(delDigest)
	}
	if d.has(delLease) {
		rec.LeaseUntil = time.UnixMilli(d.int(delLease)).UTC()
	}
	for i, v := range d.list(delAttempts) {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			d.fail(delAttempts, "element %d: want M, got %T", i, v)
			break
		}
		ad := itemDecoder{item: m.Value}
		a := delivery.Attempt{
			At:        ad.time("at"),
			Outcome:   ad.str("outcome"),
			LatencyMs: ad.int("latency_ms"),
		}
		if ad.has("status_code") {
			a.StatusCode = int(ad.int("status_code"))
		}
		if ad.has("error") {
			a.Error = ad.str("error")
		}
		if ad.has("response_snippet") {
			a.Snippet = ad.str("response_snippet")
		}
		if ad.err != nil {
			d.fail(delAttempts, "element %d: %v", i, ad.err)
			break
		}
		rec.Attempts = append(rec.Attempts, a)
	}
	if d.err != nil {
		return delivery.Record{}, fmt.Errorf("decode delivery %s: %w", strconv.Quote(rec.LoadID), d.err)
	}
	return rec, nil
}
