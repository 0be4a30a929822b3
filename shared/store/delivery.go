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
	delClaim     = "claim" // token of the claim that took the current attempt
	delDigest    = "body_digest"
)

// deliveryNames are the expression attribute names of every delivery write
// (status is a DynamoDB reserved word, so all are named alike).
func deliveryNames() map[string]string {
	return map[string]string{
		"#status": delStatus, "#attempt": delAttempt, "#lease": delLease, "#claim": delClaim,
		"#expires": attrExpiresAt, "#modified": attrModifiedAt,
	}
}

// ClaimAttempt takes attempt c.Attempt of the pair c.Key for the caller,
// holding a lease until now+lease. It succeeds when the attempt is due
// (delivery.CanClaim; the write's condition is that rule for DynamoDB): it
// is attempt 1 and the pair has no record yet, or the record waits for it
// (status waiting after the attempt before), or it was claimed before and
// its lease expired (the invocation holding it died). The record keeps
// c.Token, which RecordAttempt and Cancel must present.
//
// bodyDigest (delivery.BodyDigest of the body the attempt sends) is kept by
// the first claim, and every later claim must name the same: a retry message
// carrying another body claims nothing. A record written before digests
// were kept takes the digest of its next claim.
//
// When the claim fails, claimed is false and current is the record as it was
// (nil if there is none), for delivery.OnClaimConflict to decide. A record
// that already holds this very claim (the SDK retried a claim whose first
// try was applied) counts as claimed.
func (s *Store) ClaimAttempt(ctx context.Context, c delivery.Claim, webhookID, bodyDigest string, lease time.Duration) (claimed bool, current *delivery.Record, err error) {
	now := s.now().UTC()
	k, n := c.Key, c.Attempt
	names := deliveryNames()
	names["#created"] = attrCreatedAt
	names["#webhook"] = delWebhookID
	names["#cid"] = attrClientID
	names["#lid"] = delLoadID
	names["#hid"] = delHookID
	names["#digest"] = delDigest
	cond := "((#status = :waiting AND #attempt = :prev) OR (#status = :attempting AND #attempt = :n AND #lease < :now)) AND (attribute_not_exists(#digest) OR #digest = :digest)"
	if n == 1 {
		cond = "attribute_not_exists(#pk) OR " + cond
		names["#pk"] = attrPK
	}
	_, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression: aws.String("SET #status = :attempting, #attempt = :n, #lease = :lease, #claim = :claim, #webhook = :webhook, " +
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
			":claim":      attrS(c.Token),
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
	if heldBy(item, c, delivery.StatusAttempting) {
		return true, nil, nil // our own claim, applied by an earlier try
	}
	rec, err := decodeDelivery(item)
	if err != nil {
		return false, nil, fmt.Errorf("claim delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	return false, &rec, nil
}

// heldBy reports whether a delivery item, read when a condition on it
// failed, shows the state that c's own write leaves (delivery.HeldBy).
func heldBy(item map[string]types.AttributeValue, c delivery.Claim, status string) bool {
	d := itemDecoder{item: item}
	if !d.has(delClaim) {
		return false
	}
	token := d.str(delClaim)
	rec, err := decodeDelivery(item)
	return err == nil && d.err == nil && delivery.HeldBy(rec, token, c, status)
}

// RecordAttempt appends the result of c's attempt to the pair's history and
// sets its status (waiting, delivered or exhausted), provided c still holds
// the attempt (status attempting at that attempt, with c's token). It
// returns the whole record as written, history included, so an alert needs
// no second read. It returns delivery.ErrClaimLost when the claim was lost.
// A record that already shows this result written under c (the SDK retried
// a write whose first try was applied) is returned as written.
func (s *Store) RecordAttempt(ctx context.Context, c delivery.Claim, a delivery.Attempt, status string) (delivery.Record, error) {
	now := s.now().UTC()
	k, n := c.Key, c.Attempt
	names := deliveryNames()
	names["#attempts"] = delAttempts
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression: aws.String("SET #status = :status, #attempts = list_append(if_not_exists(#attempts, :empty), :attempt), " +
			"#expires = :expires, #modified = :nowt REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :attempting AND #attempt = :n AND #claim = :claim"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status":     attrS(status),
			":attempting": attrS(delivery.StatusAttempting),
			":n":          attrN(int64(n)),
			":claim":      attrS(c.Token),
			":empty":      &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			":attempt":    &types.AttributeValueMemberL{Value: []types.AttributeValue{encodeAttempt(a)}},
			":expires":    attrN(now.Add(DeliveryTTL).Unix()),
			":nowt":       attrTime(now),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		item := conditionFailedItem(err)
		if item == nil || status == delivery.StatusAttempting || !heldBy(item, c, status) {
			return delivery.Record{}, fmt.Errorf("record delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, delivery.ErrClaimLost)
		}
		out, err = &dynamodb.UpdateItemOutput{Attributes: item}, nil // written by an earlier try
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
// lost), provided c still holds its attempt. It returns
// delivery.ErrClaimLost when the claim was lost, and nil when the record
// already shows c's own cancellation (a retried write).
func (s *Store) Cancel(ctx context.Context, c delivery.Claim) error {
	now := s.now().UTC()
	k, n := c.Key, c.Attempt
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(deliveryPK(k.ClientID, k.LoadID), hookSK(k.HookID)),
		UpdateExpression:         aws.String("SET #status = :cancelled, #expires = :expires, #modified = :nowt REMOVE #lease"),
		ConditionExpression:      aws.String("#status = :attempting AND #attempt = :n AND #claim = :claim"),
		ExpressionAttributeNames: deliveryNames(),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cancelled":  attrS(delivery.StatusCancelled),
			":attempting": attrS(delivery.StatusAttempting),
			":n":          attrN(int64(n)),
			":claim":      attrS(c.Token),
			":expires":    attrN(now.Add(DeliveryTTL).Unix()),
			":nowt":       attrTime(now),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		if item := conditionFailedItem(err); item != nil && heldBy(item, c, delivery.StatusCancelled) {
			return nil // cancelled by an earlier try
		}
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
