package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// The delivery history, read from the load records through the index
// by_created: one Query per page.

// ListDeliveries returns one page of q's hook's deliveries, newest first, in
// one Query of the index: q.Limit records of the client are read and those
// with an entry for the hook (and q.Status, when set) are kept, so a page
// may hold fewer than q.Limit deliveries while Next is set. A cursor that
// does not decode, or that belongs to another client, hook or status, is
// hook.ErrInvalidCursor.
func (s *Store) ListDeliveries(ctx context.Context, q delivery.ListQuery) (delivery.Page, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexByCreated),
		KeyConditionExpression: aws.String("#gpk = :gpk"),
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(int32(q.Limit)),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	names := map[string]string{"#gpk": lrGPK, "#h": lrHooks, "#e": strconv.FormatInt(q.HookID, 10)}
	values := map[string]types.AttributeValue{":gpk": attrS(deliveriesGPK(q.ClientID))}
	filter := "attribute_exists(#h.#e)"
	if q.Status != "" {
		// The status as delivery.ShownStatus shows it: a restarted entry
		// (waiting for attempt 1 under a resend's token) is attempting.
		restarted := "(#h.#e.#s = :waiting AND #h.#e.#n = :zero AND attribute_exists(#h.#e.#c))"
		switch q.Status {
		case delivery.StatusAttempting:
			filter = "#h.#e.#s = :status OR " + restarted
		case delivery.StatusWaiting:
			filter = "#h.#e.#s = :status AND NOT " + restarted
		default:
			filter = "#h.#e.#s = :status"
		}
		names["#s"] = entStatus
		values[":status"] = statusAttr(q.Status)
		if q.Status == delivery.StatusAttempting || q.Status == delivery.StatusWaiting {
			names["#n"], names["#c"] = entN, entClaim
			values[":waiting"], values[":zero"] = statusAttr(delivery.StatusWaiting), attrN(0)
		}
	}
	in.FilterExpression = aws.String(filter)
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = names, values
	if q.Cursor != "" {
		c, ok := delivery.DecodeCursor(q.Cursor, q)
		if !ok {
			return delivery.Page{}, fmt.Errorf("list deliveries of hook %d: %w", q.HookID, hook.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: attrS(deliveryPK(q.ClientID, c.LoadID)), attrSK: attrS(skLoad),
			lrGPK: attrS(deliveriesGPK(q.ClientID)), lrGSK: attrS(c.After),
		}
	}
	out, err := s.dynamo().Query(ctx, in)
	if err != nil {
		return delivery.Page{}, fmt.Errorf("list deliveries of hook %d: %w", q.HookID, err)
	}
	page := delivery.Page{Deliveries: []delivery.Delivery{}}
	for _, item := range out.Items {
		rec, err := decodeLoadRecord(item)
		if err != nil {
			return delivery.Page{}, fmt.Errorf("list deliveries of hook %d: %w", q.HookID, err)
		}
		if d, ok := rec.asDelivery(q.HookID, false); ok {
			page.Deliveries = append(page.Deliveries, d)
		}
	}
	if lek := out.LastEvaluatedKey; lek != nil {
		d := itemDecoder{item: lek}
		after, pk := d.str(lrGSK), d.str(attrPK)
		prefix := deliveryPK(q.ClientID, "")
		if d.err != nil || !strings.HasPrefix(pk, prefix) {
			return delivery.Page{}, fmt.Errorf("list deliveries of hook %d: bad last key", q.HookID)
		}
		page.Next = delivery.Cursor{ClientID: q.ClientID, HookID: q.HookID, Status: q.Status,
			After: after, LoadID: strings.TrimPrefix(pk, prefix)}.Encode()
	}
	return page, nil
}

// getLoadRecord reads a load record (strongly consistent), or
// hook.ErrNotFound.
func (s *Store) getLoadRecord(ctx context.Context, clientID int64, loadID string) (loadRecord, error) {
	out, err := s.dynamo().GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(deliveryPK(clientID, loadID), skLoad),
		ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return loadRecord{}, err
	}
	if out.Item == nil {
		return loadRecord{}, hook.ErrNotFound
	}
	return decodeLoadRecord(out.Item)
}

// GetDelivery returns one delivery with its body, or hook.ErrNotFound when
// the load has no record or the record has no entry for the hook.
func (s *Store) GetDelivery(ctx context.Context, k delivery.Key) (delivery.Delivery, error) {
	rec, err := s.getLoadRecord(ctx, k.ClientID, k.LoadID)
	if err != nil {
		return delivery.Delivery{}, fmt.Errorf("get delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	d, ok := rec.asDelivery(k.HookID, true)
	if !ok {
		return delivery.Delivery{}, fmt.Errorf("get delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrNotFound)
	}
	return d, nil
}

// Resend starts a fresh sequence (attempt 1 and the retries, an alert when
// it is exhausted) for a delivery that has ended (delivered, exhausted or
// cancelled): its entry waits for attempt 1 again, its attempts kept. It
// returns the retry message that starts the sequence (same webhook id, same
// body), for the caller to queue, the delivery as now stored, and how the
// replaced sequence had ended (for UndoResend). A delivery still attempting
// or waiting is hook.ErrDeliveryInProgress, with the delivery as it is; a
// test notification's is hook.ErrTestDelivery (a test is never retried);
// hook.ErrNotFound as GetDelivery.
func (s *Store) Resend(ctx context.Context, k delivery.Key) (delivery.Restart, error) {
	for {
		rec, err := s.getLoadRecord(ctx, k.ClientID, k.LoadID)
		if err != nil {
			return delivery.Restart{}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, err)
		}
		d, ok := rec.asDelivery(k.HookID, true)
		if !ok {
			return delivery.Restart{}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrNotFound)
		}
		if delivery.IsTest(k.LoadID) {
			return delivery.Restart{Delivery: d}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrTestDelivery)
		}
		if !delivery.IsFinal(d.Status) {
			return delivery.Restart{Delivery: d}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrDeliveryInProgress)
		}
		now := s.now().UTC()
		e := rec.entries[k.HookID]
		token := rand.Text() // tells this write from another's when its answer is lost
		_, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.table),
			Key:                 key(deliveryPK(k.ClientID, k.LoadID), skLoad),
			UpdateExpression:    aws.String("SET #h.#e.#s = :waiting, #h.#e.#n = :zero, #h.#e.#c = :token, #gpk = :gpk, #exp = :exp"),
			ConditionExpression: aws.String("#h.#e.#s = :old AND #h.#e.#n = :n"),
			ExpressionAttributeNames: map[string]string{"#h": lrHooks, "#e": strconv.FormatInt(k.HookID, 10),
				"#s": entStatus, "#n": entN, "#c": entClaim, "#gpk": lrGPK, "#exp": attrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":waiting": statusAttr(delivery.StatusWaiting), ":zero": attrN(0), ":old": statusAttr(e.rec.Status), ":token": attrS(token),
				":n": attrN(int64(e.rec.Attempt)), ":gpk": attrS(deliveriesGPK(k.ClientID)),
				":exp": attrN(now.Add(DeliveryTTL).Unix()),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
		})
		if isConditionFailed(err) && !resentBy(conditionFailedItem(err), k.HookID, token) {
			continue // the entry moved on: decide again on what it is now
		}
		if isConditionFailed(err) {
			err = nil // applied by an earlier try
		}
		if err != nil {
			return delivery.Restart{}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, err)
		}
		ended := delivery.Ended{Status: d.Status, Attempt: e.rec.Attempt}
		d.Status = delivery.ShownStatus(delivery.StatusWaiting, 0, true)
		m := delivery.RetryMessage{
			Kind: delivery.KindRetry, ClientID: k.ClientID, LoadID: k.LoadID, HookID: k.HookID,
			Attempt: 1, WebhookID: d.WebhookID, Body: d.Body,
		}
		return delivery.Restart{Message: m, Delivery: d, Ended: ended}, nil
	}
}

// UndoResend puts back how k's sequence had ended before a Resend, when
// the retry message that Resend returned could not be queued: the entry,
// still waiting for attempt 1, is final again as it was. An entry that has
// moved on since (the message was queued after all and its attempt
// claimed) is left as it is, and so is a missing one: both are no error.
func (s *Store) UndoResend(ctx context.Context, k delivery.Key, ended delivery.Ended) error {
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(deliveryPK(k.ClientID, k.LoadID), skLoad),
		UpdateExpression:    aws.String("SET #h.#e.#s = :ended, #h.#e.#n = :n REMOVE #h.#e.#c"),
		ConditionExpression: aws.String("#h.#e.#s = :waiting AND #h.#e.#n = :zero"),
		ExpressionAttributeNames: map[string]string{"#h": lrHooks, "#e": strconv.FormatInt(k.HookID, 10),
			"#s": entStatus, "#n": entN, "#c": entClaim},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ended": statusAttr(ended.Status), ":n": attrN(int64(ended.Attempt)),
			":waiting": statusAttr(delivery.StatusWaiting), ":zero": attrN(0),
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("undo resend of delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	return nil
}

// resentBy reports whether a record read when a resend's condition failed
// shows that resend's own write (an earlier try was applied).
func resentBy(item map[string]types.AttributeValue, hookID int64, token string) bool {
	if item == nil {
		return false
	}
	rec, err := decodeLoadRecord(item)
	if err != nil {
		return false
	}
	e, ok := rec.entries[hookID]
	return ok && e.claim == token && e.rec.Status == delivery.StatusWaiting && e.rec.Attempt == 0
}

// ExhaustedDeliveries returns the exhausted deliveries of a hook whose
// created_at is in [since, until), oldest first, at most max, test
// deliveries excluded (as many Query pages as that takes).
func (s *Store) ExhaustedDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error) {
	return s.finalDeliveries(ctx, clientID, hookID, since, until, max, delivery.StatusExhausted)
}

// finalDeliveries returns the deliveries of a hook created in [since,
// until) whose status is one of statuses (one or two), oldest first, at
// most max, test deliveries excluded.
func (s *Store) finalDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int, statuses ...string) ([]delivery.Delivery, error) {
	statusCond := "#h.#e.#s = :st0"
	if len(statuses) > 1 {
		statusCond = "(#h.#e.#s = :st0 OR #h.#e.#s = :st1)"
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexByCreated),
		KeyConditionExpression: aws.String("#gpk = :gpk AND #gsk BETWEEN :since AND :until"),
		FilterExpression:       aws.String(statusCond + " AND NOT begins_with(#lid, :test)"),
		ExpressionAttributeNames: map[string]string{"#gpk": lrGPK, "#gsk": lrGSK, "#h": lrHooks,
			"#e": strconv.FormatInt(hookID, 10), "#s": entStatus, "#lid": lrLoadID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":gpk": attrS(deliveriesGPK(clientID)), ":since": attrS(formatTime(since)),
			// "#" sorts before every character of a load id's time prefix, so
			// this bound excludes records created at until and after.
			":until": attrS(formatTime(until.Add(-time.Nanosecond)) + "#\U0010FFFF"),
			":st0":   statusAttr(statuses[0]), ":test": attrS(delivery.TestLoadPrefix),
		},
		ScanIndexForward:       aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if len(statuses) > 1 {
		in.ExpressionAttributeValues[":st1"] = statusAttr(statuses[1])
	}
	out := []delivery.Delivery{}
	for len(out) < max {
		page, err := s.dynamo().Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("exhausted deliveries of hook %d: %w", hookID, err)
		}
		for _, item := range page.Items {
			rec, err := decodeLoadRecord(item)
			if err != nil {
				return nil, fmt.Errorf("exhausted deliveries of hook %d: %w", hookID, err)
			}
			if d, ok := rec.asDelivery(hookID, false); ok && len(out) < max {
				out = append(out, d)
			}
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// RecordTest keeps a test notification in the history: a record for load
// k.LoadID (delivery.TestLoadPrefix...) with one entry, final at once
// (delivered when a succeeded, else exhausted; no retry, no alert).
func (s *Store) RecordTest(ctx context.Context, k delivery.Key, body []byte, a delivery.Attempt) error {
	now := s.now().UTC()
	integration, tables := delivery.Names(body)
	status := delivery.StatusExhausted
	if a.Outcome == delivery.OutcomeSuccess {
		status = delivery.StatusDelivered
	}
	item := map[string]types.AttributeValue{
		attrPK: attrS(deliveryPK(k.ClientID, k.LoadID)), attrSK: attrS(skLoad),
		attrClientID: attrN(k.ClientID), lrLoadID: attrS(k.LoadID),
		lrIntegr: attrS(integration), lrTables: attrStrings(tables),
		lrBody: bodyAttr(body), lrDigest: digestAttr(delivery.BodyDigest(body)),
		lrHooks: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			strconv.FormatInt(k.HookID, 10): &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				entStatus: statusAttr(status), entN: attrN(1),
				entAtt: &types.AttributeValueMemberL{Value: []types.AttributeValue{encodeEntryAttempt(a, "")}},
			}},
		}},
		lrGPK: attrS(deliveriesGPK(k.ClientID)), lrGSK: attrS(CreatedKey(now, k.LoadID)),
		attrExpiresAt: attrN(now.Add(DeliveryTTL).Unix()),
	}
	_, err := s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("record test delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	return nil
}
