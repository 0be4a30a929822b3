package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Load records: one item per (client, load), keyed
// DELIVERY#<client_id>#<load_id> / LOAD, holding the webhook body once and,
// in the map h, one entry per hook keyed by the hook id: its status (s),
// attempt number (n), lease while attempting (l, Unix milliseconds), the
// token of the claim that took the current attempt (c) and its attempts (a,
// their times at millisecond precision); and, from its first recorded
// result on, the load's webhook-sequence (sq, see AssignSequence).
// The names inside the map are short because every write is billed on the
// item's size.
//
// A load message claims attempt 1 of every hook at once (ClaimLoad: a
// PutItem of a new item, or one UpdateItem with a condition on each hook's
// path), and the results of those attempts are written by one UpdateItem
// (RecordResults). A retry claims, records or cancels its own entry
// (ClaimHook, RecordResults with one result, CancelHook). Every condition
// is a rule of package delivery (CanClaim, HeldBy) written for DynamoDB, and
// a failed condition is judged on the item as it was against the caller's
// claim token, so a write whose answer was lost and that the SDK retried is
// recognised as the caller's own.
//
// The history reads the records through the sparse index by_created
// (partition gpk = DELIVERIES#<client_id>, sort gsk = created_at#load_id).
// gsk is written with the claim but gpk only with the first result, so a
// load whose first attempts are still in flight is not listed yet, and the
// claim writes no index entry.
//
// Retry messages queued by the earlier design (one item per (load, hook),
// sk HOOK#<id>) find no entry in a load record: their claim fails and the
// dispatcher acknowledges them. Let the retry queue drain before upgrading.

// DeliveryTTL is how long a load record is kept after its last write
// (expires_at, the TTL attribute, in Unix seconds as DynamoDB TTL requires).
const DeliveryTTL = 30 * 24 * time.Hour

// Sort key and index of load records.
const (
	skLoad         = "LOAD"
	IndexByCreated = "by_created"
)

// Attributes of the load record.
const (
	lrLoadID  = "load_id"
	lrIntegr  = "in"
	lrTables  = "tb"
	lrBody    = "b"  // the webhook body, DEFLATE-compressed
	lrDigest  = "bd" // delivery.BodyDigest of the body, as its 32 bytes
	lrSeq     = "sq" // the load's webhook-sequence, from its first recorded result on
	lrHooks   = "h"
	lrGPK     = "gpk"
	lrGSK     = "gsk"
	entStatus = "s"
	entN      = "n"
	entLease  = "l"
	entClaim  = "c"
	entAtt    = "a"
)

// deliveriesGPK is the index partition of a client's load records.
func deliveriesGPK(clientID int64) string {
	return "DELIVERIES#" + strconv.FormatInt(clientID, 10)
}

// CreatedKey is the index sort key of a load record: its creation time,
// fixed width, then its load id.
func CreatedKey(createdAt time.Time, loadID string) string {
	return formatTime(createdAt) + "#" + loadID
}

// loadRecord is a decoded load record.
type loadRecord struct {
	load    delivery.Load
	seq     int64 // 0 until a result recorded it
	digest  string
	created time.Time
	indexed bool
	entries map[int64]entry
}

type entry struct {
	rec   delivery.Record
	claim string
}

// entryRecord is the entry of hook id as a delivery.Record (nil when the
// record has none).
func (r *loadRecord) entryRecord(id int64) *delivery.Record {
	e, ok := r.entries[id]
	if !ok {
		return nil
	}
	rec := e.rec
	rec.Attempts = slices.Clone(rec.Attempts)
	return &rec
}

// ClaimLoad takes attempt 1 of every hook of hookIDs for the load l, under
// one token and a lease until now+lease: in one PutItem when the load has
// no record yet, else in one UpdateItem whose condition is, for each hook it
// claims, delivery.CanClaim on that hook's entry. It returns the claims
// taken and, for each hook it could not claim, its entry as it was (nil
// when it has none) for delivery.OnClaimConflict. A hook whose entry already
// holds this claim (the SDK retried a write whose first try was applied)
// counts as claimed. A record that keeps another body claims nothing. When
// other writers change the record under four tries in a row, it returns an
// error (the caller retries the message later).
func (s *Store) ClaimLoad(ctx context.Context, l delivery.Load, hookIDs []int64, token string, lease time.Duration) ([]delivery.Claim, map[int64]*delivery.Record, error) {
	claims, _, conflicts, err := s.ClaimLoadDeferring(ctx, l, hookIDs, nil, token, lease)
	return claims, conflicts, err
}

// ClaimLoadDeferring is ClaimLoad that, in the same write, leaves each hook
// of deferIDs (hooks that got no in-flight slot) waiting for its attempt 1,
// as a resend does: its entry is written waiting after attempt 0 when it
// has none, so the deferred retry message (attempt 1) claims it later, and
// so does the load message if SQS delivers it again. It returns the
// deferred hooks: written now, or found as ClaimLoad could claim them
// (waiting for attempt 1, or attempt 1 claimed under a lease that has run
// out, its invocation dead), which the deferred message claims or takes
// over. A deferred hook whose entry is in any other state (attempt 1 under
// a live lease, or past attempt 1) is a conflict, as it would be for
// ClaimLoad.
func (s *Store) ClaimLoadDeferring(ctx context.Context, l delivery.Load, hookIDs, deferIDs []int64, token string, lease time.Duration) ([]delivery.Claim, []int64, map[int64]*delivery.Record, error) {
	now := s.now().UTC()
	digest := delivery.BodyDigest(l.Body)
	entries := make(map[string]types.AttributeValue, len(hookIDs)+len(deferIDs))
	for _, id := range hookIDs {
		entries[strconv.FormatInt(id, 10)] = encodeClaimedEntry(1, now.Add(lease), token, nil)
	}
	for _, id := range deferIDs {
		entries[strconv.FormatInt(id, 10)] = encodeWaitingEntry()
	}
	item := map[string]types.AttributeValue{
		attrPK: attrS(deliveryPK(l.ClientID, l.LoadID)), attrSK: attrS(skLoad),
		attrClientID: attrN(l.ClientID), lrLoadID: attrS(l.LoadID),
		lrIntegr: attrS(l.IntegrationName), lrTables: attrStrings(l.Tables),
		lrBody: bodyAttr(l.Body), lrDigest: digestAttr(digest),
		lrHooks:       &types.AttributeValueMemberM{Value: entries},
		lrGSK:         attrS(CreatedKey(now, l.LoadID)),
		attrExpiresAt: attrN(now.Add(DeliveryTTL).Unix()),
	}
	_, err := s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	claimsOf := func(ids []int64, seq int64) []delivery.Claim {
		out := make([]delivery.Claim, len(ids))
		for i, id := range ids {
			out[i] = delivery.Claim{Key: delivery.Key{ClientID: l.ClientID, LoadID: l.LoadID, HookID: id}, Attempt: 1, Token: token, Sequence: seq}
		}
		return out
	}
	if err == nil {
		return claimsOf(hookIDs, 0), slices.Clone(deferIDs), nil, nil
	}
	for try := 0; ; try++ {
		if !isConditionFailed(err) {
			return nil, nil, nil, fmt.Errorf("claim load %s: %w", l.LoadID, err)
		}
		old := conditionFailedItem(err)
		if old == nil {
			return nil, nil, nil, fmt.Errorf("claim load %s: condition failed without the item", l.LoadID)
		}
		rec, derr := decodeLoadState(old)
		if derr != nil {
			return nil, nil, nil, fmt.Errorf("claim load %s: %w", l.LoadID, derr)
		}
		var held, todo, deferred, toDefer []int64
		conflicts := map[int64]*delivery.Record{}
		for _, id := range hookIDs {
			e := rec.entryRecord(id)
			c := delivery.Claim{Key: delivery.Key{ClientID: l.ClientID, LoadID: l.LoadID, HookID: id}, Attempt: 1, Token: token}
			switch {
			case rec.digest != digest:
				conflicts[id] = e
			case e != nil && delivery.HeldBy(*e, rec.entries[id].claim, c, delivery.StatusAttempting):
				held = append(held, id)
			case delivery.CanClaim(e, 1, digest, now):
				todo = append(todo, id)
			default:
				conflicts[id] = e
			}
		}
		for _, id := range deferIDs {
			switch e := rec.entryRecord(id); {
			case rec.digest != digest:
				conflicts[id] = e
			case e == nil:
				toDefer = append(toDefer, id)
			case delivery.CanClaim(e, 1, digest, now):
				// Waiting for attempt 1, or attempt 1 of an invocation that
				// died (its lease has run out): left as it is, for the
				// deferral message to claim (or take over).
				deferred = append(deferred, id)
			default:
				conflicts[id] = e
			}
		}
		if len(todo) == 0 && len(toDefer) == 0 {
			return claimsOf(held, rec.seq), deferred, conflicts, nil
		}
		if try == 3 {
			// Other writers kept changing the record: fail, so the message
			// is delivered again (claims already held run out with their
			// lease and are taken over then).
			return nil, nil, nil, fmt.Errorf("claim load %s: the record changed under %d tries", l.LoadID, try+1)
		}
		err = s.claimEntries(ctx, l, rec, todo, toDefer, token, digest, now, lease)
		if err == nil {
			return claimsOf(append(held, todo...), rec.seq), append(deferred, toDefer...), conflicts, nil
		}
	}
}

// claimEntries claims attempt 1 of the hooks ids of an existing record, with
// a condition on each hook's path: CanClaim as rec showed it; and writes
// the entries of the hooks deferIDs, which have none, waiting for attempt 1.
func (s *Store) claimEntries(ctx context.Context, l delivery.Load, rec loadRecord, ids, deferIDs []int64, token, digest string, now time.Time, lease time.Duration) error {
	names := map[string]string{"#h": lrHooks, "#d": lrDigest, "#exp": attrExpiresAt}
	values := map[string]types.AttributeValue{
		":d": digestAttr(digest), ":exp": attrN(now.Add(DeliveryTTL).Unix()),
	}
	sets := []string{"#exp = :exp"}
	conds := []string{"#d = :d"}
	for i, id := range ids {
		e := fmt.Sprintf("#e%d", i)
		v := fmt.Sprintf(":e%d", i)
		names[e] = strconv.FormatInt(id, 10)
		var history []delivery.Attempt
		if old := rec.entryRecord(id); old != nil {
			history = old.Attempts
			names["#s"], names["#n"], names["#l"] = entStatus, entN, entLease
			values[":now"], values[":zero"], values[":one"] = attrN(now.UnixMilli()), attrN(0), attrN(1)
			values[":attempting"], values[":waiting"] = statusAttr(delivery.StatusAttempting), statusAttr(delivery.StatusWaiting)
			conds = append(conds, fmt.Sprintf("((#h.%[1]s.#s = :waiting AND #h.%[1]s.#n = :zero) OR (#h.%[1]s.#s = :attempting AND #h.%[1]s.#n = :one AND #h.%[1]s.#l < :now))", e))
		} else {
			conds = append(conds, fmt.Sprintf("attribute_not_exists(#h.%s)", e))
		}
		values[v] = encodeClaimedEntry(1, now.Add(lease), token, history)
		sets = append(sets, fmt.Sprintf("#h.%s = %s", e, v))
	}
	for i, id := range deferIDs {
		e, v := fmt.Sprintf("#f%d", i), fmt.Sprintf(":f%d", i)
		names[e], values[v] = strconv.FormatInt(id, 10), encodeWaitingEntry()
		conds = append(conds, fmt.Sprintf("attribute_not_exists(#h.%s)", e))
		sets = append(sets, fmt.Sprintf("#h.%s = %s", e, v))
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(deliveryPK(l.ClientID, l.LoadID), skLoad),
		UpdateExpression:                    aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:                 aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	return err
}

// ClaimHook takes attempt c.Attempt of one hook's entry (a retry, or the
// first attempt of a resent sequence), as ClaimAttempt did for a pair: when
// delivery.CanClaim allows it on the entry and the record keeps the body of
// digest. A record without the entry, or no record, claims nothing
// (current is then nil). An entry already holding c counts as claimed.
// When claimed, current is the entry as claimed (its Sequence is the
// load's, 0 when none was recorded yet).
func (s *Store) ClaimHook(ctx context.Context, c delivery.Claim, bodyDigest string, lease time.Duration) (claimed bool, current *delivery.Record, err error) {
	now := s.now().UTC()
	k, n := c.Key, c.Attempt
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(deliveryPK(k.ClientID, k.LoadID), skLoad),
		UpdateExpression: aws.String("SET #h.#e.#s = :attempting, #h.#e.#n = :n, #h.#e.#l = :lease, #h.#e.#c = :claim, #exp = :exp"),
		ConditionExpression: aws.String("#d = :d AND ((#h.#e.#s = :waiting AND #h.#e.#n = :prev) OR " +
			"(#h.#e.#s = :attempting AND #h.#e.#n = :n AND #h.#e.#l < :now))"),
		ExpressionAttributeNames: map[string]string{"#h": lrHooks, "#e": strconv.FormatInt(k.HookID, 10), "#d": lrDigest,
			"#s": entStatus, "#n": entN, "#l": entLease, "#c": entClaim, "#exp": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":attempting": statusAttr(delivery.StatusAttempting), ":waiting": statusAttr(delivery.StatusWaiting),
			":n": attrN(int64(n)), ":prev": attrN(int64(n - 1)), ":now": attrN(now.UnixMilli()),
			":lease": attrN(now.Add(lease).UnixMilli()), ":claim": attrS(c.Token), ":d": digestAttr(bodyDigest),
			":exp": attrN(now.Add(DeliveryTTL).Unix()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	if err == nil {
		rec, err := decodeLoadState(out.Attributes)
		if err != nil {
			return false, nil, fmt.Errorf("claim delivery %s hook %d: %w", k.LoadID, k.HookID, err)
		}
		return true, rec.entryRecord(k.HookID), nil
	}
	if !isConditionFailed(err) {
		return false, nil, fmt.Errorf("claim delivery %s hook %d attempt %d: %w", k.LoadID, k.HookID, n, err)
	}
	old := conditionFailedItem(err)
	if old == nil {
		return false, nil, nil
	}
	rec, err := decodeLoadState(old)
	if err != nil {
		return false, nil, fmt.Errorf("claim delivery %s hook %d: %w", k.LoadID, k.HookID, err)
	}
	e := rec.entryRecord(k.HookID)
	if e != nil && delivery.HeldBy(*e, rec.entries[k.HookID].claim, c, delivery.StatusAttempting) {
		return true, e, nil // our own claim, applied by an earlier try
	}
	return false, e, nil
}

// RecordResults appends each result's attempt to its hook's entry and sets
// the entry's status, provided the result's claim still holds the entry
// (attempting at that attempt, under its token), all in one UpdateItem with
// a condition on each hook's path. When that write fails its condition
// (some claim was lost), each result is written on its own. It returns, in
// the order of rs, each entry as written (history included, so an alert
// needs no second read), or delivery.ErrClaimLost for a result whose claim
// was lost. Results all belong to one load. An entry that already shows its
// result written under its claim (a retried write) is returned as written.
func (s *Store) RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error) {
	recs, errs := make([]delivery.Record, len(rs)), make([]error, len(rs))
	if len(rs) == 0 {
		return recs, errs
	}
	item, err := s.recordResults(ctx, rs)
	if written, ok := asWritten(item, err, rs); ok {
		for i, r := range rs {
			recs[i], errs[i] = written.entryOf(r)
		}
		return recs, errs
	}
	if !isConditionFailed(err) || len(rs) == 1 {
		for i, r := range rs {
			errs[i] = recordErr(r, err)
		}
		return recs, errs
	}
	for i, r := range rs {
		item, err := s.recordResults(ctx, rs[i:i+1])
		if written, ok := asWritten(item, err, rs[i:i+1]); ok {
			recs[i], errs[i] = written.entryOf(r)
			continue
		}
		errs[i] = recordErr(r, err)
	}
	return recs, errs
}

func recordErr(r delivery.Result, err error) error {
	if isConditionFailed(err) {
		err = delivery.ErrClaimLost
	}
	return fmt.Errorf("record delivery %s hook %d attempt %d: %w", r.Claim.LoadID, r.Claim.HookID, r.Claim.Attempt, err)
}

// written is a record as a result write left it, decoded once for all the
// results of the write (err when it could not be decoded).
type written struct {
	rec loadRecord
	err error
}

// asWritten decodes the record a result write of rs returned, once, and
// reports whether it shows every result of rs written: the write succeeded,
// or it failed its condition on a record that shows each result already
// written under its claim (the write was applied by an earlier try).
func asWritten(item map[string]types.AttributeValue, err error, rs []delivery.Result) (written, bool) {
	if err != nil && (!isConditionFailed(err) || item == nil) {
		return written{}, false
	}
	rec, derr := decodeLoadState(item)
	if err == nil {
		return written{rec: rec, err: derr}, true
	}
	return written{rec: rec}, derr == nil && allHeld(rec, rs)
}

// entryOf is r's entry in the record as written.
func (w written) entryOf(r delivery.Result) (delivery.Record, error) {
	if w.err != nil {
		return delivery.Record{}, fmt.Errorf("record delivery %s hook %d: %w", r.Claim.LoadID, r.Claim.HookID, w.err)
	}
	rec := w.rec
	e := rec.entryRecord(r.Claim.HookID)
	if e == nil {
		return delivery.Record{}, fmt.Errorf("record delivery %s hook %d: entry missing", r.Claim.LoadID, r.Claim.HookID)
	}
	return *e, nil
}

// allHeld reports whether a record read when a result write failed its
// condition shows every result of rs written under its claim (the write
// was applied by an earlier try).
func allHeld(rec loadRecord, rs []delivery.Result) bool {
	for _, r := range rs {
		e := rec.entryRecord(r.Claim.HookID)
		if r.Status == delivery.StatusAttempting || e == nil || !delivery.HeldBy(*e, rec.entries[r.Claim.HookID].claim, r.Claim, r.Status) {
			return false
		}
	}
	return true
}

// recordResults is one UpdateItem writing every result of rs. It returns the
// item as written, or as it was when the condition failed.
func (s *Store) recordResults(ctx context.Context, rs []delivery.Result) (map[string]types.AttributeValue, error) {
	now := s.now().UTC()
	k := rs[0].Claim.Key
	names := map[string]string{"#h": lrHooks, "#s": entStatus, "#n": entN, "#l": entLease, "#c": entClaim, "#a": entAtt,
		"#exp": attrExpiresAt, "#gpk": lrGPK}
	values := map[string]types.AttributeValue{
		":attempting": statusAttr(delivery.StatusAttempting), ":gpk": attrS(deliveriesGPK(k.ClientID)),
		":exp": attrN(now.Add(DeliveryTTL).Unix()),
	}
	sets := []string{"#exp = :exp", "#gpk = :gpk"}
	if seq := rs[0].Claim.Sequence; seq > 0 {
		names["#sq"], values[":sq"] = lrSeq, attrN(seq)
		sets = append(sets, "#sq = if_not_exists(#sq, :sq)")
	}
	var removes, conds []string
	lead := "" // the first snippet this write keeps (see dictionaryFor)
	for i, r := range rs {
		e, p := fmt.Sprintf("#e%d", i), fmt.Sprintf(":%d", i)
		names[e] = strconv.FormatInt(r.Claim.HookID, 10)
		values[p+"s"] = statusAttr(r.Status)
		values[p+"n"] = attrN(int64(r.Claim.Attempt))
		values[p+"c"] = attrS(r.Claim.Token)
		values[p+"a"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{encodeEntryAttempt(r.Attempt, dictionaryFor(r.Claim.Prior, lead))}}
		if lead == "" {
			lead = keptSnippet(r.Attempt)
		}
		sets = append(sets, fmt.Sprintf("#h.%[1]s.#s = %[2]ss, #h.%[1]s.#a = list_append(#h.%[1]s.#a, %[2]sa)", e, p))
		removes = append(removes, fmt.Sprintf("#h.%s.#l", e))
		conds = append(conds, fmt.Sprintf("(#h.%[1]s.#s = :attempting AND #h.%[1]s.#n = %[2]sn AND #h.%[1]s.#c = %[2]sc)", e, p))
	}
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(deliveryPK(k.ClientID, k.LoadID), skLoad),
		UpdateExpression:                    aws.String("SET " + strings.Join(sets, ", ") + " REMOVE " + strings.Join(removes, ", ")),
		ConditionExpression:                 aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return conditionFailedItem(err), err
	}
	return out.Attributes, nil
}

// CancelHook ends one hook's delivery quietly (hook deleted or disabled, or
// plan lost), provided c still holds its entry. It returns
// delivery.ErrClaimLost when the claim was lost, and nil when the entry
// already shows c's own cancellation (a retried write).
func (s *Store) CancelHook(ctx context.Context, c delivery.Claim) error {
	return s.endHook(ctx, c, delivery.StatusCancelled, "cancel")
}

// SkipHook ends one hook's delivery as skipped (its hook is disabled for
// failing: the delivery is resent when the hook recovers), as CancelHook
// does with cancelled. It also puts the record in the index by_created, in
// the same write: a record first written by a deferral has no result yet,
// and the replay after a recovery, which reads that index, would not find
// it.
func (s *Store) SkipHook(ctx context.Context, c delivery.Claim) error {
	return s.endHook(ctx, c, delivery.StatusSkipped, "skip")
}

func (s *Store) endHook(ctx context.Context, c delivery.Claim, status, verb string) error {
	now := s.now().UTC()
	k, n := c.Key, c.Attempt
	names := map[string]string{"#h": lrHooks, "#e": strconv.FormatInt(k.HookID, 10),
		"#s": entStatus, "#n": entN, "#l": entLease, "#c": entClaim, "#exp": attrExpiresAt}
	values := map[string]types.AttributeValue{
		":cancelled": statusAttr(status), ":attempting": statusAttr(delivery.StatusAttempting),
		":n": attrN(int64(n)), ":claim": attrS(c.Token),
		":exp": attrN(now.Add(DeliveryTTL).Unix()),
	}
	sets := "SET #h.#e.#s = :cancelled, #exp = :exp"
	if status == delivery.StatusSkipped {
		names["#gpk"], values[":gpk"] = lrGPK, attrS(deliveriesGPK(k.ClientID))
		sets += ", #gpk = :gpk"
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(deliveryPK(k.ClientID, k.LoadID), skLoad),
		UpdateExpression:                    aws.String(sets + " REMOVE #h.#e.#l"),
		ConditionExpression:                 aws.String("#h.#e.#s = :attempting AND #h.#e.#n = :n AND #h.#e.#c = :claim"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		if old := conditionFailedItem(err); old != nil {
			if rec, derr := decodeLoadState(old); derr == nil {
				if e := rec.entryRecord(k.HookID); e != nil && delivery.HeldBy(*e, rec.entries[k.HookID].claim, c, status) {
					return nil // ended by an earlier try
				}
			}
		}
		return fmt.Errorf("%s delivery %s hook %d attempt %d: %w", verb, k.LoadID, k.HookID, n, delivery.ErrClaimLost)
	}
	if err != nil {
		return fmt.Errorf("%s delivery %s hook %d attempt %d: %w", verb, k.LoadID, k.HookID, n, err)
	}
	return nil
}

// --- encoding ---

func encodeClaimedEntry(n int, lease time.Time, token string, history []delivery.Attempt) types.AttributeValue {
	a := make([]types.AttributeValue, len(history))
	for i, at := range history {
		a[i] = encodeEntryAttempt(at, dictionaryFor(history[:i], ""))
	}
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		entStatus: statusAttr(delivery.StatusAttempting), entN: attrN(int64(n)),
		entLease: attrN(lease.UnixMilli()), entClaim: attrS(token),
		entAtt: &types.AttributeValueMemberL{Value: a},
	}}
}

// encodeWaitingEntry is the entry of a deferred hook: waiting for attempt 1,
// with no attempt yet.
func encodeWaitingEntry() types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		entStatus: statusAttr(delivery.StatusWaiting), entN: attrN(0),
		entAtt: &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
	}}
}

// encodeEntryAttempt is an attempt as an entry keeps it: time, outcome,
// status code and latency; the error class and response snippet only for a
// failed attempt, the snippet compressed against dict when that is smaller
// (see encodeSnippet).
func encodeEntryAttempt(a delivery.Attempt, dict string) types.AttributeValue {
	m := map[string]types.AttributeValue{"t": attrN(a.At.UnixMilli()), "o": attrS(a.Outcome), "ms": attrN(a.LatencyMs)}
	if a.StatusCode != 0 {
		m["sc"] = attrN(int64(a.StatusCode))
	}
	if a.Outcome != delivery.OutcomeSuccess && a.Error != "" {
		m["e"] = attrS(a.Error)
	}
	if s := keptSnippet(a); s != "" {
		encodeSnippet(m, s, dict)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// keptSnippet is the response snippet the record keeps of a: the start of
// a failed attempt's, none of a successful one.
func keptSnippet(a delivery.Attempt) string {
	if a.Outcome == delivery.OutcomeSuccess {
		return ""
	}
	return delivery.TruncateUTF8(a.Snippet, delivery.SnippetBytes)
}

// A failed attempt's response snippet is kept in the smaller of two forms:
// as text (snipText), or DEFLATE-compressed (snipZ) with the CRC-32 of the
// text (snipCRC) and, when it was compressed against another snippet of the
// record as its preset dictionary, that snippet's CRC-32 (snipDict). A
// receiver in an outage answers every attempt with much the same error
// page, and each write of the record is billed on every snippet it holds,
// so after the first a page costs tens of bytes. The dictionary is named by
// its checksum, not by where it is, so it may be any snippet the record
// holds: snippets are never removed from a record, only added. A snippet
// that does not rebuild to its checksum is dropped, never shown altered.
const (
	snipText = "r"
	snipZ    = "z"
	snipDict = "zk"
	snipCRC  = "zc"
)

// zOverhead is about what the compressed form adds to its bytes: the names
// z, zk and zc, and two checksums (at most 6 bytes each as DynamoDB sizes
// numbers), less the name r.
const zOverhead = len(snipZ) + len(snipDict) + len(snipCRC) + 12 - len(snipText)

// dictionaryFor is the dictionary of a snippet whose entry kept prior
// before it: the latest snippet among them, else lead, a snippet of
// another hook written in the same write ("" for none). An entry's own
// last answer is the likeliest to match; another hook's in the same write
// often comes from the same receiver.
func dictionaryFor(prior []delivery.Attempt, lead string) string {
	for i := len(prior) - 1; i >= 0; i-- {
		if prior[i].Snippet != "" {
			return prior[i].Snippet
		}
	}
	return lead
}

// encodeSnippet sets snippet s, compressed against dict when that is
// smaller, into the attempt map m.
func encodeSnippet(m map[string]types.AttributeValue, s, dict string) {
	var d []byte
	if dict != "" {
		d = []byte(dict)
	}
	z := deflate(d, []byte(s))
	if len(z)+zOverhead >= len(s) {
		m[snipText] = attrS(s)
		return
	}
	m[snipZ] = &types.AttributeValueMemberB{Value: z}
	m[snipCRC] = attrN(int64(crc32.ChecksumIEEE([]byte(s))))
	if d != nil {
		m[snipDict] = attrN(int64(crc32.ChecksumIEEE(d)))
	}
}

// packedSnippet is a compressed snippet as an attempt keeps it, to rebuild
// once the whole record is read (see rebuildSnippets).
type packedSnippet struct {
	hookID  int64
	attempt int
	z       []byte
	sum     int64 // CRC-32 of the text
	dict    int64 // CRC-32 of the dictionary, when hasDict
	hasDict bool
}

// decodeEntryAttempt decodes an attempt; a compressed snippet is returned
// packed, for rebuildSnippets.
func decodeEntryAttempt(v types.AttributeValue) (delivery.Attempt, *packedSnippet, error) {
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		return delivery.Attempt{}, nil, fmt.Errorf("want M, got %T", v)
	}
	d := itemDecoder{item: m.Value}
	a := delivery.Attempt{At: time.UnixMilli(d.int("t")).UTC(), Outcome: d.str("o"), LatencyMs: d.int("ms"), StatusCode: int(d.optInt("sc"))}
	if d.has("e") {
		a.Error = d.str("e")
	}
	if d.has(snipText) {
		a.Snippet = d.str(snipText)
	}
	var p *packedSnippet
	if z, ok := m.Value[snipZ].(*types.AttributeValueMemberB); ok {
		p = &packedSnippet{z: z.Value, sum: d.int(snipCRC), hasDict: d.has(snipDict)}
		if p.hasDict {
			p.dict = d.int(snipDict)
		}
	}
	return a, p, d.err
}

// rebuildSnippets inflates the compressed snippets of r: each once its
// dictionary is among the snippets already known (any hook's, as text or
// rebuilt), until no more can be. One that cannot be (its dictionary is
// not in the record, or it does not match its checksum) stays "".
func rebuildSnippets(r *loadRecord, packed []*packedSnippet) {
	if len(packed) == 0 {
		return
	}
	known := map[int64]string{}
	for _, e := range r.entries {
		for _, a := range e.rec.Attempts {
			if a.Snippet != "" {
				known[int64(crc32.ChecksumIEEE([]byte(a.Snippet)))] = a.Snippet
			}
		}
	}
	for progress := true; progress; {
		progress = false
		rest := packed[:0]
		for _, p := range packed {
			var dict []byte
			if p.hasDict {
				s, ok := known[p.dict]
				if !ok {
					rest = append(rest, p)
					continue
				}
				dict = []byte(s)
			}
			progress = true
			s, err := inflate(p.z, dict, delivery.SnippetBytes)
			if err != nil || int64(crc32.ChecksumIEEE(s)) != p.sum {
				continue
			}
			r.entries[p.hookID].rec.Attempts[p.attempt].Snippet = string(s)
			known[p.sum] = string(s)
		}
		packed = rest
	}
}

// decodeLoadRecord decodes a load record, body included (the history).
func decodeLoadRecord(item map[string]types.AttributeValue) (loadRecord, error) {
	return decodeRecord(item, true)
}

// decodeLoadState decodes a load record without inflating its body: the
// claims and results judge the record by its digest and entries only, and
// the body is most of the decoding's work.
func decodeLoadState(item map[string]types.AttributeValue) (loadRecord, error) {
	return decodeRecord(item, false)
}

func decodeRecord(item map[string]types.AttributeValue, withBody bool) (loadRecord, error) {
	d := itemDecoder{item: item}
	r := loadRecord{
		load: delivery.Load{
			ClientID: d.int(attrClientID), LoadID: d.str(lrLoadID),
			IntegrationName: d.str(lrIntegr), Tables: d.strings(lrTables),
		},
		seq:     d.optInt(lrSeq),
		digest:  digestOf(&d),
		created: createdOf(&d),
		indexed: d.has(lrGPK),
		entries: map[int64]entry{},
	}
	if withBody {
		r.load.Body = bodyOf(&d)
	}
	hm, ok := item[lrHooks].(*types.AttributeValueMemberM)
	if !ok {
		d.fail(lrHooks, "want M, got %T", item[lrHooks])
		return loadRecord{}, d.result("load record")
	}
	var packed []*packedSnippet
	for name, v := range hm.Value {
		id, err := strconv.ParseInt(name, 10, 64)
		m, ok := v.(*types.AttributeValueMemberM)
		if err != nil || !ok {
			d.fail(lrHooks, "entry %q is not a hook entry", name)
			break
		}
		ed := itemDecoder{item: m.Value}
		e := entry{rec: delivery.Record{
			Key:        delivery.Key{ClientID: r.load.ClientID, LoadID: r.load.LoadID, HookID: id},
			Status:     statusOf(&ed),
			Attempt:    int(ed.int(entN)),
			WebhookID:  hook.WebhookID(r.load.ClientID, r.load.LoadID, id),
			BodyDigest: r.digest,
			Sequence:   r.seq,
		}}
		if ed.has(entLease) {
			e.rec.LeaseUntil = time.UnixMilli(ed.int(entLease)).UTC()
		}
		if ed.has(entClaim) {
			e.claim = ed.str(entClaim)
		}
		for i, av := range ed.list(entAtt) {
			a, p, err := decodeEntryAttempt(av)
			if err != nil {
				ed.fail(entAtt, "element %d: %v", i, err)
				break
			}
			if p != nil {
				p.hookID, p.attempt = id, i
				packed = append(packed, p)
			}
			e.rec.Attempts = append(e.rec.Attempts, a)
		}
		if ed.err != nil {
			d.fail(lrHooks, "entry %s: %v", name, ed.err)
			break
		}
		r.entries[id] = e
	}
	if d.err != nil {
		return loadRecord{}, d.result("load record")
	}
	rebuildSnippets(&r, packed)
	return r, nil
}

// asDelivery is hook id's entry of r as the history shows it.
func (r *loadRecord) asDelivery(id int64, withBody bool) (delivery.Delivery, bool) {
	e := r.entryRecord(id)
	if e == nil {
		return delivery.Delivery{}, false
	}
	d := delivery.Delivery{
		Key: e.Key, Status: delivery.ShownStatus(e.Status, e.Attempt, r.entries[id].claim != ""), WebhookID: e.WebhookID,
		IntegrationName: r.load.IntegrationName, Tables: slices.Clone(r.load.Tables),
		CreatedAt: r.created, Attempts: e.Attempts,
	}
	if withBody {
		d.Body = slices.Clone(r.load.Body)
	}
	return d, true
}

// Compact encodings of the load record: every write is billed on the
// item's size, and the history's index on the size of what it projects.

// statusCodes are the entry statuses as stored, one letter each.
var statusCodes = map[string]string{
	delivery.StatusAttempting: "a", delivery.StatusWaiting: "w", delivery.StatusDelivered: "d",
	delivery.StatusExhausted: "x", delivery.StatusCancelled: "c", delivery.StatusSkipped: "k",
}

func statusAttr(status string) types.AttributeValue {
	if c, ok := statusCodes[status]; ok {
		return attrS(c)
	}
	return attrS(status) // not a status: matches nothing stored
}

func statusOf(d *itemDecoder) string {
	c := d.str(entStatus)
	for s, code := range statusCodes {
		if code == c {
			return s
		}
	}
	d.fail(entStatus, "unknown status %q", c)
	return ""
}

// digestAttr is a body digest (delivery.BodyDigest, base64url) as its bytes.
func digestAttr(digest string) types.AttributeValue {
	b, err := base64.RawURLEncoding.DecodeString(digest)
	if err != nil {
		b = []byte(digest) // not a digest: matches no stored one
	}
	return &types.AttributeValueMemberB{Value: b}
}

func digestOf(d *itemDecoder) string {
	b, ok := d.item[lrDigest].(*types.AttributeValueMemberB)
	if !ok {
		return "" // not projected in the index
	}
	return base64.RawURLEncoding.EncodeToString(b.Value)
}

// bodyAttr is the webhook body, DEFLATE-compressed (JSON bodies shrink by
// about half, and the body is most of the item).
func bodyAttr(body []byte) types.AttributeValue {
	return &types.AttributeValueMemberB{Value: deflate(nil, body)}
}

func bodyOf(d *itemDecoder) []byte {
	b, ok := d.item[lrBody].(*types.AttributeValueMemberB)
	if !ok {
		return nil // not projected in the index
	}
	body, err := inflate(b.Value, nil, delivery.MaxMessageBytes)
	if err != nil {
		d.fail(lrBody, "%v", err)
	}
	return body
}

// deflate is p DEFLATE-compressed, with dict (when not nil) as its preset
// dictionary: the compressor reads dict first and what it wrote for dict,
// up to a flush, is dropped, which leaves the stream that inflate with the
// same dict reads back (compress/flate's own preset dictionary is ignored
// at BestSpeed).
// Its compressors are reused (a new one allocates about 1 MiB of state,
// which was most of the claim's CPU time); the bytes written are the same.
// The level is BestSpeed: on the benchmarks' 820-byte body it writes 373
// bytes against BestCompression's 355, in half the time, and resetting it
// does not clear the 640 KiB of hash tables the other levels clear for
// every body.
func deflate(dict, p []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	skip := 0
	if dict != nil {
		_, _ = w.Write(dict) // a bytes.Buffer does not fail
		_ = w.Flush()
		skip = buf.Len()
	}
	_, _ = w.Write(p)
	_ = w.Close()
	deflaters.Put(w)
	return buf.Bytes()[skip:]
}

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // the level is valid: no error
	return w
}}

// inflate reads back what deflate(dict, ...) wrote, failing when it holds
// more than limit bytes.
func inflate(z, dict []byte, limit int) ([]byte, error) {
	r, _ := inflaters.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReaderDict(bytes.NewReader(z), dict)
	} else if err := r.(flate.Resetter).Reset(bytes.NewReader(z), dict); err != nil {
		return nil, err
	}
	defer inflaters.Put(r)
	p, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err == nil && len(p) > limit {
		err = fmt.Errorf("more than %d bytes", limit)
	}
	return p, err
}

var inflaters sync.Pool

// createdOf is the record's creation time, the first part of its sort key
// in the index.
func createdOf(d *itemDecoder) time.Time {
	s := d.str(lrGSK)
	i := strings.IndexByte(s, '#')
	if i < 0 {
		d.fail(lrGSK, "no load id")
		return time.Time{}
	}
	t, err := parseTime(s[:i])
	if err != nil {
		d.fail(lrGSK, "%v", err)
	}
	return t
}
