package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// The freshness state of a ruled table is one small item beside the
// account's rules item, so that one Query (sort keys beginning with
// freshnessSK) reads an account's rules and the states of its tables:
//
//	state   CLIENT#<client_id>   RULES#FRESHNESS#<hook.FreshnessKey String>
//
//	last_loaded_at  the table's last successful load (the dispatcher's
//	                RecordTableLoad; only ever moved forward)
//	episode         overdue episodes opened so far (N)
//	open            the last episode is open (BOOL)
//	opened_load     last_loaded_at when it opened ("" when there was none)
//	overdue_sent    its overdue notice is done (BOOL)
//
// Opening an episode is conditional on the state the check read (same
// episode, closed, same last load), so of concurrent checks exactly one
// opens it, and none opens it over a load that arrived after its read. The
// notices themselves are claimed and sent through the alert records
// (ClaimAlert), which make each one go out once.
const (
	prefixFreshState = freshnessSK + "#"

	attrLastLoaded  = "last_loaded_at"
	attrEpisode     = "episode"
	attrOpen        = "open"
	attrOpenedLoad  = "opened_load"
	attrOverdueSent = "overdue_sent"
	attrOpenedAt    = "opened_at"
	attrClosedAt    = "closed_at"
)

func freshStateSK(k hook.FreshnessKey) string { return prefixFreshState + k.String() }

// freshTables is the account item's list of ruled tables.
func freshTables(rules []hook.FreshnessRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Key().String()
	}
	return out
}

// RecordTableLoad records a successful load at of the table k of account
// clientID, which has a freshness rule for it (hook.Account's
// HasFreshnessRule): one conditional UpdateItem, which never moves the last
// load back (a late message of an older load changes nothing).
func (s *Store) RecordTableLoad(ctx context.Context, clientID int64, k hook.FreshnessKey, at time.Time) error {
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), freshStateSK(k)),
		ConditionExpression:       aws.String("attribute_not_exists(#ll) OR #ll < :at"),
		UpdateExpression:          aws.String("SET #ll = :at"),
		ExpressionAttributeNames:  map[string]string{"#ll": attrLastLoaded},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": attrTime(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("record load of %d/%s: %w", clientID, k, err)
	}
	return nil
}

// FreshnessAccounts returns the client id of every account that has
// freshness rules: one Query per registry partition, never a Scan.
func (s *Store) FreshnessAccounts(ctx context.Context) ([]int64, error) {
	var ids []int64
	for shard := range int64(freshnessShards) {
		items, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(freshnessRegistryPK(shard))},
		})
		if err != nil {
			return nil, fmt.Errorf("freshness registry %d: %w", shard, err)
		}
		for _, it := range items {
			d := itemDecoder{item: it}
			id := d.int(attrClientID)
			if err := d.result("freshness registry entry"); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// FreshnessCheck returns the rules of account clientID (as FreshnessRules
// does) and the state of each ruled table that has one, read together with
// one strongly consistent Query.
func (s *Store) FreshnessCheck(ctx context.Context, clientID int64) ([]hook.FreshnessRule, map[hook.FreshnessKey]hook.FreshnessState, error) {
	items, err := s.queryClient(ctx, clientID, "begins_with(sk, :prefix)",
		map[string]types.AttributeValue{":prefix": attrS(freshnessSK)})
	if err != nil {
		return nil, nil, fmt.Errorf("freshness check of %d: %w", clientID, err)
	}
	rules := []hook.FreshnessRule{}
	byKey := map[string]hook.FreshnessState{}
	for _, it := range items {
		sk := (&itemDecoder{item: it}).str(attrSK)
		if sk == freshnessSK {
			if rules, _, err = decodeFreshness(it); err != nil {
				return nil, nil, fmt.Errorf("freshness check of %d: %w", clientID, err)
			}
			continue
		}
		st, err := decodeFreshState(it)
		if err != nil {
			return nil, nil, fmt.Errorf("freshness check of %d: %w", clientID, err)
		}
		byKey[strings.TrimPrefix(sk, prefixFreshState)] = st
	}
	states := map[hook.FreshnessKey]hook.FreshnessState{}
	for _, r := range rules {
		if st, ok := byKey[r.Key().String()]; ok {
			states[r.Key()] = st
		}
	}
	return rules, states, nil
}

func decodeFreshState(item map[string]types.AttributeValue) (hook.FreshnessState, error) {
	d := itemDecoder{item: item}
	st := hook.FreshnessState{
		Episode:     d.optInt(attrEpisode),
		Open:        d.flag(attrOpen),
		OverdueSent: d.flag(attrOverdueSent),
	}
	if d.has(attrLastLoaded) {
		st.LastLoadedAt = d.time(attrLastLoaded)
	}
	if d.has(attrOpenedLoad) {
		st.OpenedLoad = d.time(attrOpenedLoad)
	}
	if err := d.result("freshness state"); err != nil {
		return hook.FreshnessState{}, err
	}
	return st, nil
}

// OpenFreshnessEpisode opens episode st.Episode+1 of table k of account
// clientID, where st is the state the caller read: only while the table's
// state is still st (same episode, closed, same last load). It reports
// whether this call opened it; false (no error) means another check did,
// or the table has loaded since st was read.
func (s *Store) OpenFreshnessEpisode(ctx context.Context, clientID int64, k hook.FreshnessKey, st hook.FreshnessState, now time.Time) (bool, error) {
	names := map[string]string{"#ep": attrEpisode, "#open": attrOpen, "#ll": attrLastLoaded,
		"#ol": attrOpenedLoad, "#sent": attrOverdueSent, "#at": attrOpenedAt}
	vals := map[string]types.AttributeValue{
		":next": attrN(st.Episode + 1), ":true": &types.AttributeValueMemberBOOL{Value: true},
		":false": &types.AttributeValueMemberBOOL{Value: false}, ":now": attrTime(now),
	}
	cond := "attribute_not_exists(#ep)"
	if st.Episode > 0 {
		cond = "#ep = :ep AND #open = :false"
		vals[":ep"] = attrN(st.Episode)
	}
	update := "SET #ep = :next, #open = :true, #sent = :false, #at = :now"
	if st.LastLoadedAt.IsZero() {
		cond += " AND attribute_not_exists(#ll)"
		update += " REMOVE #ol"
	} else {
		cond += " AND #ll = :ll"
		update += ", #ol = :ll"
		vals[":ll"] = attrTime(st.LastLoadedAt)
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(clientPK(clientID), freshStateSK(k)),
		ConditionExpression: &cond, UpdateExpression: &update,
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open freshness episode %d of %d/%s: %w", st.Episode+1, clientID, k, err)
	}
	return true, nil
}

// FinishFreshnessNotice records that a notice of episode of table k is
// done: the overdue notice (back false), or the back-on-time notice (back
// true), which closes the episode and so arms the rule again. A notice
// recorded already, or an episode no longer open, changes nothing and is
// no error (a retried check finishes what an earlier one did).
func (s *Store) FinishFreshnessNotice(ctx context.Context, clientID int64, k hook.FreshnessKey, episode int64, back bool) error {
	names := map[string]string{"#ep": attrEpisode, "#open": attrOpen, "#sent": attrOverdueSent}
	vals := map[string]types.AttributeValue{":ep": attrN(episode), ":true": &types.AttributeValueMemberBOOL{Value: true}}
	cond := "#ep = :ep AND #open = :true"
	update := "SET #sent = :true"
	if back {
		cond += " AND #sent = :true"
		update = "SET #open = :false, #closed = :now"
		names["#closed"] = attrClosedAt
		vals[":false"] = &types.AttributeValueMemberBOOL{Value: false}
		vals[":now"] = attrTime(s.now())
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(clientPK(clientID), freshStateSK(k)),
		ConditionExpression: &cond, UpdateExpression: &update,
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("finish freshness notice %d of %d/%s: %w", episode, clientID, k, err)
	}
	return nil
}
