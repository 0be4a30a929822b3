package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// In-flight leases: one item per account, INFLIGHT#<client_id> / INFLIGHT,
// holding for each hook the number of slots its live leases hold
// (attribute c<hook id>) and each lease (attribute L<lease id>: a map of
// its expiry, x in Unix milliseconds, and of its slots per hook, h). Each
// write changes a lease and the counts it holds in one UpdateItem, so a
// hook's count is always the sum of its leases' slots.
//
// One item per account rather than per hook: a batch takes the slots of
// every hook of the account it needs in one write and gives them back in
// one, which keeps the cost per delivery down for accounts with many
// hooks (two writes per account and batch, not per hook and batch).
//
// Acquiring is a blind UpdateItem first (no read): add the lease and its
// counts, under the condition that each count stays within its cap. Only
// when that fails (a cap would be passed) does the item as it was
// (ALL_OLD) decide a smaller grant, and leases found expired are removed in
// the same write, their counts with them.

// Attributes of the in-flight item.
const (
	skInFlight       = "INFLIGHT"
	ifCountPrefix    = "c"
	ifLeasePrefix    = "L"
	ifLeaseExpiresAt = "x"
	ifLeaseSlots     = "h"
)

// inFlightTTL keeps an account's in-flight item a day after its last write
// (it holds nothing but live leases, so it may go once the account is idle).
const inFlightTTL = 24 * time.Hour

func inFlightPK(clientID int64) string { return "INFLIGHT#" + strconv.FormatInt(clientID, 10) }

// AcquireInFlight takes, under the lease id, up to Want slots of each
// request's hook for lease (from now), never more than the hook's cap less
// what the account's live leases hold. It returns the lease with what it
// was granted (possibly nothing: then no lease is written). A repeated call
// with the same lease id (the SDK retried a write that was applied) returns
// the grants of the first and takes nothing more. When other writers keep
// changing the item, it grants nothing after four tries (the caller defers,
// which is always safe).
func (s *Store) AcquireInFlight(ctx context.Context, clientID int64, leaseID string, reqs []delivery.SlotRequest, lease time.Duration) (delivery.Lease, error) {
	now := s.now().UTC()
	out := delivery.Lease{ID: leaseID, ClientID: clientID, ExpiresAt: time.UnixMilli(now.Add(lease).UnixMilli()).UTC()}
	grants := map[int64]int{}
	caps := map[int64]int{}
	for _, r := range reqs {
		caps[r.HookID] = delivery.CapOf(r.Cap)
		if g := min(r.Want, caps[r.HookID]); g > 0 {
			grants[r.HookID] = g
		}
	}
	var reaped map[string]delivery.LeaseSlots
	for try := 0; try < 4; try++ {
		if len(grants) == 0 && len(reaped) == 0 {
			out.Granted = map[int64]int{}
			return out, nil
		}
		err := s.writeLease(ctx, clientID, leaseID, out.ExpiresAt, grants, caps, reaped, now)
		if err == nil {
			out.Granted = grants
			return out, nil
		}
		if !isConditionFailed(err) {
			return delivery.Lease{}, fmt.Errorf("acquire in-flight slots of client %d: %w", clientID, err)
		}
		held, derr := decodeLeases(conditionFailedItem(err))
		if derr != nil {
			return delivery.Lease{}, fmt.Errorf("acquire in-flight slots of client %d: %w", clientID, derr)
		}
		if mine, ok := held[leaseID]; ok {
			out.Granted, out.ExpiresAt = mine.Granted, mine.ExpiresAt
			return out, nil // our own write, applied by an earlier try
		}
		var expired []string
		grants, expired = delivery.Grants(reqs, held, now)
		reaped = map[string]delivery.LeaseSlots{}
		for _, id := range expired {
			reaped[id] = held[id]
		}
	}
	out.Granted = map[int64]int{}
	return out, nil
}

// writeLease is one UpdateItem: the new lease with its grants (when there
// are any), the expired leases removed, and each hook's count moved by the
// difference, under the condition that no count passes its cap and that
// each reaped lease is still there.
func (s *Store) writeLease(ctx context.Context, clientID int64, leaseID string, expires time.Time, grants, caps map[int64]int, reaped map[string]delivery.LeaseSlots, now time.Time) error {
	names := map[string]string{"#exp": attrExpiresAt}
	values := map[string]types.AttributeValue{":exp": attrN(now.Add(inFlightTTL).Unix())}
	sets := []string{"#exp = :exp"}
	var adds, removes, conds []string

	delta := maps.Clone(grants)
	for _, l := range reaped {
		for h, n := range l.Granted {
			delta[h] -= n
		}
	}
	for i, id := range slices.Sorted(maps.Keys(reaped)) {
		n := fmt.Sprintf("#r%d", i)
		names[n] = ifLeasePrefix + id
		removes = append(removes, n)
		conds = append(conds, "attribute_exists("+n+")")
	}
	if len(grants) > 0 {
		names["#l"] = ifLeasePrefix + leaseID
		values[":l"] = encodeLease(expires, grants)
		sets = append(sets, "#l = :l")
		conds = append(conds, "attribute_not_exists(#l)")
	}
	for i, h := range slices.Sorted(maps.Keys(delta)) {
		n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":d%d", i)
		names[n] = ifCountPrefix + strconv.FormatInt(h, 10)
		if delta[h] != 0 {
			values[v] = attrN(int64(delta[h]))
			adds = append(adds, n+" "+v)
		}
		if g := grants[h]; g > 0 {
			// new = old + delta <= cap
			m := fmt.Sprintf(":m%d", i)
			values[m] = attrN(int64(caps[h] - delta[h]))
			conds = append(conds, fmt.Sprintf("(attribute_not_exists(%[1]s) OR %[1]s <= %[2]s)", n, m))
		}
	}
	update := "SET " + strings.Join(sets, ", ")
	if len(adds) > 0 {
		update += " ADD " + strings.Join(adds, ", ")
	}
	if len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(inFlightPK(clientID), skInFlight),
		UpdateExpression:                    aws.String(update),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	}
	if len(conds) > 0 {
		in.ConditionExpression = aws.String(strings.Join(conds, " AND "))
	}
	_, err := s.dynamo().UpdateItem(ctx, in)
	return err
}

// ReleaseInFlight gives a lease's slots back: the lease and its counts go
// in one UpdateItem, provided the lease is still there (a lease that ran
// out may already have been removed by another acquirer, with its counts).
// Releasing a lease twice, or one that holds nothing, is a no-op.
func (s *Store) ReleaseInFlight(ctx context.Context, l delivery.Lease) error {
	if !l.Holds() {
		return nil
	}
	names := map[string]string{"#l": ifLeasePrefix + l.ID}
	values := map[string]types.AttributeValue{}
	var adds []string
	for i, h := range slices.Sorted(maps.Keys(l.Granted)) {
		if l.Granted[h] <= 0 {
			continue
		}
		n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":d%d", i)
		names[n], values[v] = ifCountPrefix+strconv.FormatInt(h, 10), attrN(int64(-l.Granted[h]))
		adds = append(adds, n+" "+v)
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(inFlightPK(l.ClientID), skInFlight),
		UpdateExpression:          aws.String("REMOVE #l ADD " + strings.Join(adds, ", ")),
		ConditionExpression:       aws.String("attribute_exists(#l)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if isConditionFailed(err) {
		return nil // already released, or removed once it ran out
	}
	if err != nil {
		return fmt.Errorf("release in-flight slots of client %d: %w", l.ClientID, err)
	}
	return nil
}

// InFlight returns how many slots of each hook of the account the leases in
// the store hold, live or not (for tests and operators).
func (s *Store) InFlight(ctx context.Context, clientID int64) (map[int64]int, error) {
	item, err := s.getItem(ctx, inFlightPK(clientID), skInFlight)
	if err != nil {
		return nil, fmt.Errorf("read in-flight slots of client %d: %w", clientID, err)
	}
	out := map[int64]int{}
	d := itemDecoder{item: item}
	for name := range item {
		if rest, ok := strings.CutPrefix(name, ifCountPrefix); ok {
			if h, err := strconv.ParseInt(rest, 10, 64); err == nil {
				if n := d.int(name); n != 0 {
					out[h] = int(n)
				}
			}
		}
	}
	return out, d.result("in-flight")
}

func encodeLease(expires time.Time, grants map[int64]int) types.AttributeValue {
	slots := make(map[string]types.AttributeValue, len(grants))
	for h, n := range grants {
		slots[strconv.FormatInt(h, 10)] = attrN(int64(n))
	}
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		ifLeaseExpiresAt: attrN(expires.UnixMilli()),
		ifLeaseSlots:     &types.AttributeValueMemberM{Value: slots},
	}}
}

// decodeLeases reads the leases of an in-flight item (none for nil).
func decodeLeases(item map[string]types.AttributeValue) (map[string]delivery.LeaseSlots, error) {
	out := map[string]delivery.LeaseSlots{}
	for name, v := range item {
		id, ok := strings.CutPrefix(name, ifLeasePrefix)
		if !ok {
			continue
		}
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("decode in-flight item: lease %s: want M, got %T", id, v)
		}
		d := itemDecoder{item: m.Value}
		l := delivery.LeaseSlots{ExpiresAt: time.UnixMilli(d.int(ifLeaseExpiresAt)).UTC(), Granted: map[int64]int{}}
		if sm, ok := m.Value[ifLeaseSlots].(*types.AttributeValueMemberM); ok {
			sd := itemDecoder{item: sm.Value}
			for hs := range sm.Value {
				h, err := strconv.ParseInt(hs, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("decode in-flight item: lease %s: hook %q", id, hs)
				}
				l.Granted[h] = int(sd.int(hs))
			}
			if sd.err != nil {
				return nil, fmt.Errorf("decode in-flight item: lease %s: %w", id, sd.err)
			}
		} else {
			d.fail(ifLeaseSlots, "missing")
		}
		if err := d.result("in-flight lease"); err != nil {
			return nil, err
		}
		out[id] = l
	}
	return out, nil
}
