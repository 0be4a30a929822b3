package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// A hook's filter and events live on the hook item, and only when set: a
// hook that never chose them has neither attribute, so its item, its reads
// and its writes are what they were before filters existed.
const (
	attrFilter       = "filter"       // M of optional L of S: integrations, tables
	attrFilterInteg  = "integrations" // in attrFilter
	attrFilterTables = "tables"       // in attrFilter
	attrEvents       = "events"       // L of S, canonical order; absent: hook.DefaultEvents
)

// SetHookSubscription changes the filter and events of a hook of the
// principal's account (u as hook.NormalizeFilter and hook.NormalizeEvents
// return them: a nil filter or events are stored as absent) with one
// conditional write, records the change in its audit trail and returns
// the hook. It returns hook.ErrNotFound when the account has no such hook
// (another account's included). It works whatever the plan and whether the
// hook is enabled or not: it sends nothing.
func (s *Store) SetHookSubscription(ctx context.Context, p hook.Principal, id int64, u hook.SubscriptionUpdate) (hook.Hook, error) {
	now := s.now().UTC()
	names := hookChangeNames()
	delete(names, "#disabled")
	vals := hookChangeValues(hook.Change{At: now, By: auditBy(p), Action: hook.ActionSubscriptionChanged})
	set := "SET #modified = :now, #audit = list_append(#audit, :change)"
	remove := ""
	if u.SetFilter {
		names["#filter"] = attrFilter
		if m := encodeFilter(u.Filter); m != nil {
			set += ", #filter = :filter"
			vals[":filter"] = m
		} else {
			remove = " REMOVE #filter"
		}
	}
	if u.Events != nil {
		names["#events"] = attrEvents
		if ev, ok := hook.NormalizeEvents(u.Events); ok && ev != nil {
			set += ", #events = :events"
			vals[":events"] = attrStrings(ev)
		} else if ok {
			remove = joinRemove(remove, "#events")
		} else {
			return hook.Hook{}, fmt.Errorf("set subscription of hook %d: invalid events", id)
		}
	}
	var out *dynamodb.UpdateItemOutput
	err := retryConflicts(ctx, func() error {
		var err error
		out, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       key(clientPK(p.ClientID), hookSK(id)),
			UpdateExpression:          aws.String(set + remove),
			ConditionExpression:       aws.String(condExists),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: vals,
			ReturnValues:              types.ReturnValueAllNew,
		})
		return err
	})
	if isConditionFailed(err) {
		err = hook.ErrNotFound
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("set subscription of hook %d: %w", id, err)
	}
	return decodeHook(out.Attributes)
}

// joinRemove adds name to a REMOVE clause (" REMOVE a" or "").
func joinRemove(clause, name string) string {
	if clause == "" {
		return " REMOVE " + name
	}
	return clause + ", " + name
}

// encodeFilter is the filter attribute, nil for a filter that limits
// nothing.
func encodeFilter(f *hook.Filter) types.AttributeValue {
	if f == nil || (f.Integrations == nil && f.Tables == nil) {
		return nil
	}
	m := map[string]types.AttributeValue{}
	if f.Integrations != nil {
		m[attrFilterInteg] = attrStrings(f.Integrations)
	}
	if f.Tables != nil {
		m[attrFilterTables] = attrStrings(f.Tables)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// encodeSubscription adds the hook's filter and events to its item, when
// set.
func encodeSubscription(item map[string]types.AttributeValue, h hook.Hook) {
	if f := encodeFilter(h.Filter); f != nil {
		item[attrFilter] = f
	}
	if h.EventTypes != nil {
		item[attrEvents] = attrStrings(h.EventTypes)
	}
}

// decodeSubscription reads the hook's filter and events from its item.
func decodeSubscription(d *itemDecoder, h *hook.Hook) {
	if d.has(attrFilter) {
		m, ok := d.item[attrFilter].(*types.AttributeValueMemberM)
		if !ok {
			d.fail(attrFilter, "want M, got %T", d.item[attrFilter])
			return
		}
		f := itemDecoder{item: m.Value}
		h.Filter = &hook.Filter{}
		if f.has(attrFilterInteg) {
			h.Filter.Integrations = f.strings(attrFilterInteg)
		}
		if f.has(attrFilterTables) {
			h.Filter.Tables = f.strings(attrFilterTables)
		}
		if f.err != nil {
			d.fail(attrFilter, "%v", f.err)
		}
	}
	if d.has(attrEvents) {
		h.EventTypes = d.strings(attrEvents)
	}
}
