package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
)

// Run items: one per integration run, keyed RUN#<client_id> /
// <len(integration)>#<integration>#<run id>, holding what the run's
// summary needs (see delivery.Run): the announced count (x), the distinct
// loads counted (n) and their delivery.SequenceHash (string set l), the
// first (f) and last (z) of them, the first and last arrival (sa, fa, Unix
// ms), the destination (d), the listed tables (t, each {d,s,r,j}) and the
// bytes they take of delivery.RunTablesBudget (b), and once claimed the
// claim (c: true complete, false not). The item expires DeliveryTTL after
// its first write, never refreshed.
//
// AddRunLoad is one UpdateItem: "count this load and list its tables,
// unless it is counted already, the run is claimed, full, or the tables
// would pass the budget". Only the last reason writes again (with the
// tables that still fit, or none). ClaimRun is one UpdateItem "claim as
// complete if all loads are in", or, when they are not, "claim as
// incomplete".

const (
	runExpected = "x"
	runCount    = "n"
	runLoads    = "l"
	runFirst    = "f"
	runLast     = "z"
	runStarted  = "sa"
	runFinished = "fa"
	runDest     = "d"
	runTables   = "t"
	runBudget   = "b"
	runClaim    = "c"
	runClaimer  = "ct" // the claiming call's token, so a retried claim knows its own
)

func runPK(clientID int64) string { return "RUN#" + strconv.FormatInt(clientID, 10) }

func runSK(k delivery.RunKey) string {
	return strconv.Itoa(len(k.IntegrationName)) + "#" + k.IntegrationName + "#" + k.RunID
}

// AddRunLoad counts load l in run k (creating the run at its first
// arrival) and returns the run as it stands. A load counted already (a
// duplicate, a re-sent load, the SDK's retry of this write), one arriving
// after the run was claimed or full, adds nothing and returns the run as
// it is. It does not say whether this call added l: after the SDK retried
// a write that was applied, it cannot tell, and the caller decides on the
// run (its last load, full or claimed) instead.
func (s *Store) AddRunLoad(ctx context.Context, k delivery.RunKey, l delivery.RunLoad) (delivery.Run, error) {
	h := delivery.SequenceHash(l.LoadID)
	tables, size := delivery.RunTablesWithin(l.Tables, delivery.RunTablesBudget, true)
	for try := 0; try < 4; try++ {
		item, added, err := s.addRunLoad(ctx, k, l, h, tables, size)
		if err != nil {
			return delivery.Run{}, fmt.Errorf("add load to run: %w", err)
		}
		run, err := decodeRun(k, item)
		if err != nil {
			return delivery.Run{}, fmt.Errorf("add load to run: %w", err)
		}
		if added || runHas(item, h) || run.Claimed || run.Full() {
			return run, nil
		}
		// Only the budget refused the tables: list what still fits.
		tables, size = delivery.RunTablesWithin(l.Tables, delivery.RunTablesBudget-budgetUsed(item), false)
	}
	return delivery.Run{}, fmt.Errorf("add load to run: the run changed under 4 tries")
}

// addRunLoad is one try: the item as written (added) or as it was when the
// condition failed.
func (s *Store) addRunLoad(ctx context.Context, k delivery.RunKey, l delivery.RunLoad, h string, tables []notify.RunTable, size int64) (map[string]types.AttributeValue, bool, error) {
	at := attrN(l.At.UnixMilli())
	names := map[string]string{"#x": runExpected, "#n": runCount, "#l": runLoads, "#f": runFirst, "#z": runLast,
		"#sa": runStarted, "#fa": runFinished, "#d": runDest, "#c": runClaim, "#e": attrExpiresAt, "#pk": attrPK}
	values := map[string]types.AttributeValue{
		":x": attrN(l.Expected), ":d": attrN(l.DestinationID), ":at": at, ":h": attrS(h),
		":hs": &types.AttributeValueMemberSS{Value: []string{h}}, ":zero": attrN(0), ":one": attrN(1),
		":max": attrN(delivery.RunMaxLoads), ":exp": attrN(s.now().Add(DeliveryTTL).Unix()),
	}
	update := "SET #x = if_not_exists(#x, :x), #d = if_not_exists(#d, :d), #sa = if_not_exists(#sa, :at), " +
		"#f = if_not_exists(#f, :h), #e = if_not_exists(#e, :exp), #fa = :at, #z = :h, #n = if_not_exists(#n, :zero) + :one"
	cond := "attribute_not_exists(#pk) OR (NOT contains(#l, :h) AND attribute_not_exists(#c) AND #n < #x AND #n < :max"
	if len(tables) > 0 {
		names["#t"], names["#b"] = runTables, runBudget
		values[":t"], values[":b"], values[":empty"] = encodeRunTables(tables), attrN(size), &types.AttributeValueMemberL{}
		values[":room"] = attrN(delivery.RunTablesBudget - size)
		update += ", #t = list_append(if_not_exists(#t, :empty), :t), #b = if_not_exists(#b, :zero) + :b"
		cond += " AND (attribute_not_exists(#b) OR #b <= :room)"
	}
	update += " ADD #l :hs"
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(runPK(k.ClientID), runSK(k)),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(cond + ")"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	switch {
	case err == nil:
		return out.Attributes, true, nil
	case isConditionFailed(err):
		if item := conditionFailedItem(err); item != nil {
			return item, false, nil
		}
		return nil, false, fmt.Errorf("condition failed without the run")
	}
	return nil, false, err
}

// ClaimRun claims the summary of run k: complete when all its announced
// loads are in, else incomplete. It returns the run as it stands and
// whether this call claimed it; a run claimed already is returned as it
// is (claimed false). A run that does not exist is hook.ErrNotFound.
func (s *Store) ClaimRun(ctx context.Context, k delivery.RunKey) (delivery.Run, bool, error) {
	complete, token := true, rand.Text()
	for try := 0; try < 4; try++ {
		cond := "attribute_exists(#pk) AND attribute_not_exists(#c) AND #n >= #x"
		if !complete {
			cond = "attribute_exists(#pk) AND attribute_not_exists(#c) AND #n < #x"
		}
		out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 key(runPK(k.ClientID), runSK(k)),
			UpdateExpression:                    aws.String("SET #c = :c, #ct = :ct"),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#c": runClaim, "#ct": runClaimer, "#n": runCount, "#x": runExpected},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":c": &types.AttributeValueMemberBOOL{Value: complete}, ":ct": attrS(token)},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
		})
		if err == nil {
			run, err := decodeRun(k, out.Attributes)
			if err != nil {
				return delivery.Run{}, false, fmt.Errorf("claim run: %w", err)
			}
			return run, true, nil
		}
		if !isConditionFailed(err) {
			return delivery.Run{}, false, fmt.Errorf("claim run: %w", err)
		}
		item := conditionFailedItem(err)
		if item == nil {
			return delivery.Run{}, false, fmt.Errorf("claim run: %w", hook.ErrNotFound)
		}
		run, err := decodeRun(k, item)
		if err != nil {
			return delivery.Run{}, false, fmt.Errorf("claim run: %w", err)
		}
		if run.Claimed {
			// Claimed by this call when the SDK retried a claim whose
			// answer was lost.
			return run, (&itemDecoder{item: item}).optStr(runClaimer) == token, nil
		}
		complete = run.CompleteNow()
	}
	return delivery.Run{}, false, fmt.Errorf("claim run: the run changed under 4 tries")
}

func encodeRunTables(ts []notify.RunTable) types.AttributeValue {
	l := make([]types.AttributeValue, len(ts))
	for i, t := range ts {
		l[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"d": attrS(t.DestinationTableName), "s": attrS(t.Status), "r": attrN(t.NumRows), "j": attrN(t.NumRowsRejected),
		}}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// runHas reports whether the run item counts the load of hash h.
func runHas(item map[string]types.AttributeValue, h string) bool {
	ss, ok := item[runLoads].(*types.AttributeValueMemberSS)
	if !ok {
		return false
	}
	for _, v := range ss.Value {
		if v == h {
			return true
		}
	}
	return false
}

func budgetUsed(item map[string]types.AttributeValue) int64 {
	d := itemDecoder{item: item}
	return d.optInt(runBudget)
}

func decodeRun(k delivery.RunKey, item map[string]types.AttributeValue) (delivery.Run, error) {
	d := itemDecoder{item: item}
	r := delivery.Run{
		Key:           k,
		DestinationID: d.int(runDest),
		Expected:      d.int(runExpected),
		Loads:         d.int(runCount),
		StartedAt:     time.UnixMilli(d.int(runStarted)).UTC(),
		FinishedAt:    time.UnixMilli(d.int(runFinished)).UTC(),
		FirstLoad:     d.str(runFirst),
		LastLoad:      d.str(runLast),
		Claimed:       d.has(runClaim),
		Complete:      d.flag(runClaim),
	}
	for _, v := range d.list(runTables) {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			d.fail(runTables, "want M, got %T", v)
			break
		}
		td := itemDecoder{item: m.Value}
		r.Tables = append(r.Tables, notify.RunTable{DestinationTableName: td.str("d"), Status: td.str("s"),
			NumRows: td.int("r"), NumRowsRejected: td.int("j")})
		if err := td.result("run table"); err != nil {
			d.fail(runTables, "%v", err)
		}
	}
	return r, d.result("run")
}
