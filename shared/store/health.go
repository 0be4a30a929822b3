package store

import (
	"context"
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

// Hook health lives on the hook item itself, so the dispatcher's one read
// of an account's hooks sees it with no extra read:
//
//   - hf_since, hf_n: the first exhausted delivery since the last success
//     and how many since;
//   - hf_c0 .. hf_c9: the keys of the last countedKeys exhausted deliveries
//     counted, newest first (exhaustedKey: a short hash of the load and the
//     attempt count), so a redelivered alert message counts once unless
//     countedKeys other deliveries of the hook were counted in between;
//   - hf_ok: the last success noted while failing;
//   - pr_step, pr_q, pr_from: set only while the service holds the hook
//     disabled for failing (hook.Hook.Probe): the live probe's step, whether
//     its message is queued, where the replay after recovery starts.
//
// A member's or a plan's change of the hook's state removes the probe
// attributes (and enabling removes the failing streak), so probes stop and
// a re-enabled hook starts with a clean record.
const (
	attrFailSince   = "hf_since"
	attrFailN       = "hf_n"
	attrFailLoad    = "hf_load" // left by earlier versions; removed with the streak
	attrCounted     = "hf_c"    // + the key's place, 0 the newest
	attrLastOK      = "hf_ok"
	attrProbeStep   = "pr_step"
	attrProbeQueued = "pr_q"
	attrProbeFrom   = "pr_from"
)

// countedKeys is how many counted keys the hook item keeps. A redelivered
// alert counts twice only after countedKeys other deliveries of the hook were
// counted since its first count, so the count is then above countedKeys
// anyway: with HOOKS_AUTO_DISABLE_MIN_EXHAUSTED at most countedKeys+1 (the
// default is 10), no double count changes whether a hook is disabled.
const countedKeys = 10

// healthNames are the expression names of the health and probe attributes
// (#c0 .. #c9 the counted keys).
func healthNames() map[string]string {
	names := map[string]string{"#fs": attrFailSince, "#fn": attrFailN, "#fl": attrFailLoad, "#ok": attrLastOK,
		"#ps": attrProbeStep, "#pq": attrProbeQueued, "#pf": attrProbeFrom}
	for i := range countedKeys {
		names[countedName(i)] = attrCounted + strconv.Itoa(i)
	}
	return names
}

func countedName(i int) string { return "#c" + strconv.Itoa(i) }

// streakNames are the expression names of the failing streak's attributes,
// which a success, a re-enable and a member's enable remove.
func streakNames() []string {
	out := []string{"#fs", "#fn", "#fl"}
	for i := range countedKeys {
		out = append(out, countedName(i))
	}
	return out
}

// exhaustedKey is the key under which the exhausted delivery of load loadID
// after attempts attempts is counted (the hook is the item's): a redelivered
// alert message has the same, a resent delivery that is exhausted again has
// more attempts.
func exhaustedKey(loadID string, attempts int) string {
	return delivery.SequenceHash(loadID + "#" + strconv.Itoa(attempts))
}

// NoteHookExhausted counts the exhausted delivery of load loadID after
// attempts attempts, whose last attempt was at at, in the hook's health and
// returns the hook as now stored: the first one since the last success
// starts the failing streak. An exhausted delivery older than the last noted
// success, or one of the last countedKeys counted (a redelivered alert),
// changes nothing. One conditional UpdateItem, which also shifts the counted
// keys by one. It returns hook.ErrNotFound when the hook does not exist.
func (s *Store) NoteHookExhausted(ctx context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error) {
	names := healthNames()
	names["#pk"] = attrPK
	sets := []string{"#fs = if_not_exists(#fs, :at)", "#fn = if_not_exists(#fn, :zero) + :one", "#c0 = :key"}
	seen := []string{"#c0 = :key"}
	used := []string{"#pk", "#fs", "#fn", "#ok", "#c0"}
	for i := 1; i < countedKeys; i++ {
		c := countedName(i)
		sets = append(sets, fmt.Sprintf("%s = if_not_exists(%s, :none)", c, countedName(i-1)))
		seen = append(seen, c+" = :key")
		used = append(used, c)
	}
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              key(clientPK(clientID), hookSK(hookID)),
		UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression: aws.String("attribute_exists(#pk) AND (attribute_not_exists(#ok) OR #ok < :at) AND " +
			"NOT (" + strings.Join(seen, " OR ") + ")"),
		ExpressionAttributeNames: pick(names, used...),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": attrTime(at), ":zero": attrN(0), ":one": attrN(1), ":key": attrS(exhaustedKey(loadID, attempts)), ":none": attrS("-"),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		old := conditionFailedItem(err)
		if old == nil {
			return hook.Hook{}, fmt.Errorf("note exhausted delivery of hook %d: %w", hookID, hook.ErrNotFound)
		}
		return decodeHook(old)
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("note exhausted delivery of hook %d: %w", hookID, err)
	}
	return decodeHook(out.Attributes)
}

// NoteHookSuccess ends the hook's failing streak with a success at at: the
// streak and its count are removed and at is kept as the last success. It
// writes only when the hook is failing since at or before: a success older
// than the streak, or of a hook that is not failing, changes nothing. A
// missing hook is no error.
func (s *Store) NoteHookSuccess(ctx context.Context, clientID, hookID int64, at time.Time) error {
	names := healthNames()
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), hookSK(hookID)),
		UpdateExpression:          aws.String("SET #ok = :at REMOVE " + strings.Join(streakNames(), ", ")),
		ConditionExpression:       aws.String("attribute_exists(#fs) AND #fs <= :at"),
		ExpressionAttributeNames:  pick(names, append(streakNames(), "#ok")...),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": attrTime(at)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("note success of hook %d: %w", hookID, err)
	}
	return nil
}

// AutoDisableHook disables an enabled hook for failing, provided its
// failing streak is still the one that began at failingSince: it is audited
// as the service's, its probe state starts at step 1 (not yet queued) and
// the replay after a recovery will start at replaySince. It returns the
// hook as now stored and whether this call disabled it; a hook disabled
// meanwhile, or whose streak ended, is returned as it is with false.
func (s *Store) AutoDisableHook(ctx context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error) {
	now := s.now().UTC()
	names := hookChangeNames()
	names["#pk"], names["#fs"], names["#ps"], names["#pq"], names["#pf"] = attrPK, attrFailSince, attrProbeStep, attrProbeQueued, attrProbeFrom
	vals := hookChangeValues(hook.Change{At: now, By: hook.Service, Action: hook.ActionAutoDisabled})
	vals[":fs"], vals[":one"], vals[":no"], vals[":from"] = attrTime(failingSince), attrN(1), &types.AttributeValueMemberBOOL{Value: false}, attrTime(replaySince)
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       key(clientPK(clientID), hookSK(hookID)),
		UpdateExpression: aws.String("SET #disabled = :now, #modified = :now, #audit = list_append(#audit, :change), " +
			"#ps = :one, #pq = :no, #pf = :from"),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND attribute_not_exists(#disabled) AND #fs = :fs"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	return changedHook("auto-disable", hookID, out, err)
}

// SetProbeQueued records that the message of probe step of the hook's
// disable at disabledAt is on the queue. It reports false (no error) when
// the hook is no longer in that state: enabled, disabled again, deleted, or
// moved to another step.
func (s *Store) SetProbeQueued(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	return s.probeWrite(ctx, clientID, hookID, disabledAt, step, "SET #pq = :yes", map[string]types.AttributeValue{
		":yes": &types.AttributeValueMemberBOOL{Value: true}})
}

// AdvanceProbe moves the hook's probes from step to step+1, not yet queued.
// It reports false (no error) when the hook is not at step of its disable
// at disabledAt: another message advanced it, the state changed, or this
// call's write was applied and its answer lost (the SDK's retry finds the
// step moved). The caller tells them apart by the hook as it is.
func (s *Store) AdvanceProbe(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	return s.probeWrite(ctx, clientID, hookID, disabledAt, step, "SET #ps = :next, #pq = :no", map[string]types.AttributeValue{
		":next": attrN(int64(step + 1)), ":no": &types.AttributeValueMemberBOOL{Value: false}})
}

func (s *Store) probeWrite(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int, update string, vals map[string]types.AttributeValue) (bool, error) {
	vals[":da"], vals[":step"] = attrTime(disabledAt), attrN(int64(step))
	names := map[string]string{"#disabled": attrDisabledAt, "#ps": attrProbeStep, "#pq": attrProbeQueued}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), hookSK(hookID)),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#disabled = :da AND #ps = :step"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe state of hook %d: %w", hookID, err)
	}
	return true, nil
}

// ReenableHook enables a hook the service disabled for failing at
// disabledAt, after a probe was answered 2xx: the probe state and the
// failing streak are removed and the change is audited as the service's.
// It returns the hook as stored before the change and whether this call
// enabled it; a hook no longer disabled for failing at disabledAt (a member
// or a plan changed it, or another probe enabled it) is returned as it is
// with false; so is a hook this call enabled when its answer was lost (the
// SDK's retry finds it enabled, the audit ending with this disable's
// auto-enable).
func (s *Store) ReenableHook(ctx context.Context, clientID, hookID int64, disabledAt time.Time) (hook.Hook, bool, error) {
	now := s.now().UTC()
	names := hookChangeNames()
	for k, v := range healthNames() {
		names[k] = v
	}
	vals := hookChangeValues(hook.Change{At: now, By: hook.Service, Action: hook.ActionAutoEnabled})
	vals[":da"] = attrTime(disabledAt)
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       key(clientPK(clientID), hookSK(hookID)),
		UpdateExpression: aws.String("REMOVE #disabled, #ps, #pq, #pf, " + strings.Join(streakNames(), ", ") + " " +
			"SET #ok = :now, #modified = :now, #audit = list_append(#audit, :change)"),
		ConditionExpression:                 aws.String("#disabled = :da AND attribute_exists(#ps)"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	return changedHook("re-enable", hookID, out, err)
}

// pick returns the entries of m named by keys.
func pick(m map[string]string, keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// decodeHealth reads the health and probe attributes into h.
func decodeHealth(d *itemDecoder, h *hook.Hook) {
	if d.has(attrFailSince) {
		h.Health.FailingSince = d.time(attrFailSince)
		h.Health.Exhausted = int(d.optInt(attrFailN))
	}
	if d.has(attrLastOK) {
		h.Health.LastSuccessAt = d.time(attrLastOK)
	}
	if d.has(attrProbeStep) && h.DisabledAt != nil {
		h.Probe = &hook.Probe{Step: int(d.int(attrProbeStep)), Queued: d.flag(attrProbeQueued)}
		if d.has(attrProbeFrom) {
			h.Probe.ReplaySince = d.time(attrProbeFrom)
		}
	}
}

// SkipLoad keeps the load l in the history of each hook of hookIDs as a
// delivery with status skipped (nothing sent: the hook is disabled for
// failing), so that it is replayed when the hook recovers. A hook that
// already has an entry for the load keeps it. The record is created (with
// the body) when the load has none, in one PutItem; else one UpdateItem adds
// the entries. A record that keeps another body takes no entry.
func (s *Store) SkipLoad(ctx context.Context, l delivery.Load, hookIDs []int64) error {
	if len(hookIDs) == 0 {
		return nil
	}
	now := s.now().UTC()
	digest := delivery.BodyDigest(l.Body)
	skipped := func() types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			entStatus: statusAttr(delivery.StatusSkipped), entN: attrN(0), entAtt: &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		}}
	}
	entries := make(map[string]types.AttributeValue, len(hookIDs))
	for _, id := range hookIDs {
		entries[strconv.FormatInt(id, 10)] = skipped()
	}
	_, err := s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK: attrS(deliveryPK(l.ClientID, l.LoadID)), attrSK: attrS(skLoad),
			attrClientID: attrN(l.ClientID), lrLoadID: attrS(l.LoadID),
			lrIntegr: attrS(l.IntegrationName), lrTables: attrStrings(l.Tables),
			lrBody: bodyAttr(l.Body), lrDigest: digestAttr(digest),
			lrHooks: &types.AttributeValueMemberM{Value: entries},
			lrGSK:   attrS(CreatedKey(now, l.LoadID)), lrGPK: attrS(deliveriesGPK(l.ClientID)),
			attrExpiresAt: attrN(now.Add(DeliveryTTL).Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		ReturnConsumedCapacity:   types.ReturnConsumedCapacityTotal,
	})
	if !isConditionFailed(err) {
		if err != nil {
			return fmt.Errorf("skip load %s: %w", l.LoadID, err)
		}
		return nil
	}
	names := map[string]string{"#h": lrHooks, "#d": lrDigest, "#gpk": lrGPK, "#exp": attrExpiresAt}
	vals := map[string]types.AttributeValue{":d": digestAttr(digest), ":gpk": attrS(deliveriesGPK(l.ClientID)),
		":exp": attrN(now.Add(DeliveryTTL).Unix()), ":skip": skipped()}
	sets := []string{"#gpk = :gpk", "#exp = :exp"}
	for i, id := range hookIDs {
		n := "#e" + strconv.Itoa(i)
		names[n] = strconv.FormatInt(id, 10)
		sets = append(sets, fmt.Sprintf("#h.%s = if_not_exists(#h.%s, :skip)", n, n))
	}
	_, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(deliveryPK(l.ClientID, l.LoadID), skLoad),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String("#d = :d"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		return nil // another body: the first one stays, as for a claim
	}
	if err != nil {
		return fmt.Errorf("skip load %s: %w", l.LoadID, err)
	}
	return nil
}

// RecoverableDeliveries returns the deliveries of a hook created in
// [since, until) that ended exhausted or were skipped, oldest first, at
// most max, test deliveries excluded: what a recovered hook is sent again.
func (s *Store) RecoverableDeliveries(ctx context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error) {
	return s.finalDeliveries(ctx, clientID, hookID, since, until, max, delivery.StatusExhausted, delivery.StatusSkipped)
}

// changedHook is the answer of a conditional UpdateItem of a hook item that
// returns its attributes: the hook and true when it was applied; the hook as
// it was and false when the condition failed (hook.ErrNotFound when there
// is no such hook); else the error, named by what.
func changedHook(what string, hookID int64, out *dynamodb.UpdateItemOutput, err error) (hook.Hook, bool, error) {
	if isConditionFailed(err) {
		old := conditionFailedItem(err)
		if old == nil {
			return hook.Hook{}, false, fmt.Errorf("%s hook %d: %w", what, hookID, hook.ErrNotFound)
		}
		h, err := decodeHook(old)
		return h, false, err
	}
	if err != nil {
		return hook.Hook{}, false, fmt.Errorf("%s hook %d: %w", what, hookID, err)
	}
	h, err := decodeHook(out.Attributes)
	return h, err == nil, err
}
