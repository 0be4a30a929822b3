package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Freshness rules are kept in two kinds of item:
//
//	rules      CLIENT#<client_id>                  FRESHNESS
//	registry   FRESHNESS#<client_id mod 16>        CLIENT#<client_id>
//
// The rules item holds every rule of the account in one list (at most
// hook.MaxFreshnessRules small maps, well under DynamoDB's item size), so
// reading or replacing them is one item. Its sort key sorts after every
// HOOK# key, outside the range that AccountWithHooks reads: loads do not
// pay for the rules.
//
// The registry item exists while the account has at least one rule: a
// scheduled checker finds every account with rules with one Query per
// registry partition (freshnessShards of them), never a Scan.
const (
	freshnessSK     = "RULES#FRESHNESS" // after HOOK#~: not in the account+hooks range
	prefixFreshReg  = "FRESHNESS#"
	freshnessShards = 16

	attrRules         = "rules"
	attrRuleIntegr    = "integration_name"
	attrRuleTable     = "table"
	attrRuleInterval  = "max_interval"
	attrRulesVersion  = "version"
	attrRegistryCount = "rule_count"
	// attrFreshTables, on the account item: the hook.FreshnessKey String of
	// every ruled table (L of S, absent when there is no rule).
	attrFreshTables = "freshness_tables"

	freshnessAttempts = 5
)

func freshnessRegistryPK(clientID int64) string {
	return prefixFreshReg + strconv.FormatInt(clientID%freshnessShards, 10)
}

// FreshnessRules returns the freshness rules of account clientID in the
// order they were put (an empty slice when it has none, or when the
// account does not exist), each with its max_interval as given and its
// creation time.
func (s *Store) FreshnessRules(ctx context.Context, clientID int64) ([]hook.FreshnessRule, error) {
	rules, _, err := s.freshnessRules(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("freshness rules of %d: %w", clientID, err)
	}
	return rules, nil
}

func (s *Store) freshnessRules(ctx context.Context, clientID int64) ([]hook.FreshnessRule, int64, error) {
	item, err := s.getItem(ctx, clientPK(clientID), freshnessSK)
	if err != nil || item == nil {
		return []hook.FreshnessRule{}, 0, err
	}
	rules, version, err := decodeFreshness(item)
	return rules, version, err
}

// PutFreshnessRules replaces the freshness rules of the principal's
// account with rules (checked by hook.CheckFreshnessRules, Interval set)
// and returns them as stored: a rule for an (integration, table) the
// account already had keeps its creation time, a new one is created now.
// The account must exist (hook.ErrNotFound) and, unless rules is empty
// (which removes them all, allowed on any plan), its plan must include the
// feature (hook.ErrNoAccess), both checked atomically with the write. A
// concurrent replacement is not lost: the write is conditional on the
// rules it read, and is tried again from a new read when they changed.
func (s *Store) PutFreshnessRules(ctx context.Context, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error) {
	for attempt := 1; ; attempt++ {
		out, retry, err := s.putFreshnessOnce(ctx, p.ClientID, rules)
		if !retry || attempt == freshnessAttempts {
			if err != nil {
				return nil, fmt.Errorf("put freshness rules of %d: %w", p.ClientID, err)
			}
			return out, nil
		}
	}
}

// putFreshnessOnce is one read and conditional transaction of
// PutFreshnessRules; retry is true when another writer changed the rules
// in between.
func (s *Store) putFreshnessOnce(ctx context.Context, clientID int64, rules []hook.FreshnessRule) ([]hook.FreshnessRule, bool, error) {
	old, version, err := s.freshnessRules(ctx, clientID)
	if err != nil {
		return nil, false, err
	}
	out := append([]hook.FreshnessRule{}, rules...)
	hook.KeepCreation(old, out, s.now().UTC().Truncate(time.Second))

	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	accountCond := condExists
	if len(out) > 0 {
		accountCond += " AND " + featurePlanCondition(names, vals)
	}
	var check types.ConditionCheck
	check.TableName, check.Key = &s.table, key(clientPK(clientID), skAccount)
	check.ConditionExpression = &accountCond
	if len(names) > 0 {
		check.ExpressionAttributeNames, check.ExpressionAttributeValues = names, vals
	}
	check.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	// The account item carries the ruled tables (attrFreshTables), so that
	// the dispatcher learns from the account read it makes for every load
	// whether a load's table has a rule.
	names["#ft"] = attrFreshTables
	update := &types.Update{TableName: check.TableName, Key: check.Key, ConditionExpression: check.ConditionExpression,
		UpdateExpression: aws.String("REMOVE #ft"), ExpressionAttributeNames: names,
		ReturnValuesOnConditionCheckFailure: check.ReturnValuesOnConditionCheckFailure}
	if len(out) > 0 {
		vals[":ft"] = attrStrings(freshTables(out))
		update.UpdateExpression = aws.String("SET #ft = :ft")
	}
	if len(vals) > 0 {
		update.ExpressionAttributeValues = vals
	}

	rulesCond := aws.String(condNew)
	var rulesNames map[string]string
	var rulesVals map[string]types.AttributeValue
	if version > 0 {
		rulesCond = aws.String("#version = :version")
		rulesNames = map[string]string{"#version": attrRulesVersion}
		rulesVals = map[string]types.AttributeValue{":version": attrN(version)}
	}
	const (
		itemAccount = iota
		itemRules
		itemRegistry
	)
	items := []types.TransactWriteItem{itemAccount: {ConditionCheck: &check}}
	if len(out) > 0 || version > 0 {
		items[itemAccount] = types.TransactWriteItem{Update: update}
	}
	regKey := key(freshnessRegistryPK(clientID), clientPK(clientID))
	if len(out) == 0 {
		if version == 0 {
			// Nothing stored, nothing to remove: only the account must exist.
			err := s.transactWrite(ctx, items)
			if c, ok := cancellationReasons(err); ok && c.conditionFailed(itemAccount) {
				err = accountDenies(c.item(itemAccount))
			}
			return out, false, err
		}
		items = append(items,
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(clientPK(clientID), freshnessSK),
				ConditionExpression: rulesCond, ExpressionAttributeNames: rulesNames, ExpressionAttributeValues: rulesVals}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: regKey}})
	} else {
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: encodeFreshness(clientID, out, version+1),
				ConditionExpression: rulesCond, ExpressionAttributeNames: rulesNames, ExpressionAttributeValues: rulesVals}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
				attrPK: regKey[attrPK], attrSK: regKey[attrSK],
				attrClientID: attrN(clientID), attrRegistryCount: attrN(int64(len(out))),
			}}})
	}
	err = s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok {
		switch {
		case c.conditionFailed(itemAccount):
			if denied := accountDenies(c.item(itemAccount)); denied != nil {
				return nil, false, denied
			}
		case c.conditionFailed(itemRules):
			return nil, true, err
		}
	}
	if err != nil {
		return nil, false, err
	}
	return out, false, nil
}

func encodeFreshness(clientID int64, rules []hook.FreshnessRule, version int64) map[string]types.AttributeValue {
	l := make([]types.AttributeValue, len(rules))
	for i, r := range rules {
		l[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			attrRuleIntegr:   attrS(r.IntegrationName),
			attrRuleTable:    attrS(r.Table),
			attrRuleInterval: attrS(r.MaxInterval),
			attrCreatedAt:    attrTime(r.CreatedAt),
		}}
	}
	return map[string]types.AttributeValue{
		attrPK:           attrS(clientPK(clientID)),
		attrSK:           attrS(freshnessSK),
		attrClientID:     attrN(clientID),
		attrRules:        &types.AttributeValueMemberL{Value: l},
		attrRulesVersion: attrN(version),
	}
}

func decodeFreshness(item map[string]types.AttributeValue) ([]hook.FreshnessRule, int64, error) {
	d := itemDecoder{item: item}
	version := d.int(attrRulesVersion)
	rules := []hook.FreshnessRule{}
	for _, v := range d.list(attrRules) {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			d.fail(attrRules, "entry: want M, got %T", v)
			break
		}
		e := itemDecoder{item: m.Value}
		r := hook.FreshnessRule{
			IntegrationName: e.str(attrRuleIntegr),
			Table:           e.str(attrRuleTable),
			MaxInterval:     e.str(attrRuleInterval),
			CreatedAt:       e.time(attrCreatedAt),
		}
		iv, err := time.ParseDuration(r.MaxInterval)
		if err != nil && e.err == nil {
			e.fail(attrRuleInterval, "%v", err)
		}
		r.Interval = iv
		if e.err != nil {
			d.fail(attrRules, "entry: %v", e.err)
		}
		rules = append(rules, r)
	}
	if err := d.result("freshness rules"); err != nil {
		return nil, 0, err
	}
	return rules, version, nil
}
