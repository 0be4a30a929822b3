package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Sequence counters: one item per (client, integration, destination root
// table), keyed SEQUENCE#<client_id> / <len(integration)>#<integration>#<table>
// (the length makes the key unambiguous whatever the names hold), holding
// the latest number (n) and, as one attribute each, the newest bindings of
// a number to the load that took it: attribute "h" + delivery.SequenceHash
// of the load id, whose value is the number. The item never expires: a
// counter that restarted would repeat numbers.
//
// AssignSequences is one UpdateItem: "the next number, bound to this load,
// unless this load is bound already", so the SDK retrying a write whose
// answer was lost, a duplicate message and the takeover after a crash all
// get the number the load took first, and concurrent loads each get their
// own. The same write forgets bindings at least delivery.SequenceWindow
// numbers old that this store saw in its previous write of the counter (a
// per-process hint: a cold store forgets nothing, and the next warm writer
// catches up), so the item stays within one billed kilobyte.

const (
	seqLatest     = "n"
	seqBindPrefix = "h"
	// seqForgetMax bounds the bindings one write forgets (the expression
	// stays small; a warm writer forgets about one per write).
	seqForgetMax = 16
)

func sequencePK(clientID int64) string { return "SEQUENCE#" + strconv.FormatInt(clientID, 10) }

func sequenceSK(k delivery.SequenceKey) string {
	return strconv.Itoa(len(k.IntegrationName)) + "#" + k.IntegrationName + "#" + k.Table
}

// sequenceHints keeps, per counter, the bindings this store last saw.
type sequenceHints struct {
	mu   sync.Mutex
	seen map[string]sequenceSeen
}

type sequenceSeen struct {
	latest int64
	bound  map[string]int64
}

// forgettable returns the bindings a write of counter may forget, none of
// them a binding the write makes (mine).
func (h *sequenceHints) forgettable(counter string, mine map[string]bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.seen[counter]
	if !ok {
		return nil
	}
	var out []string
	for _, x := range delivery.SequenceForgettable(s.bound, s.latest, seqForgetMax+len(mine)) {
		if !mine[x] && len(out) < seqForgetMax {
			out = append(out, x)
		}
	}
	return out
}

func (h *sequenceHints) saw(counter string, s sequenceSeen) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]sequenceSeen{}
	}
	if old, ok := h.seen[counter]; !ok || s.latest >= old.latest {
		h.seen[counter] = s
	}
}

// AssignSequences returns the number of each load of loadIDs (distinct)
// in k's sequence: the number it took before, or the next one, taken now
// and bound to it; loads not bound yet take consecutive numbers in the
// order given. Usually one UpdateItem for all of them; when some were bound
// already, those are read from the failed condition and the others are
// written again. See package delivery for what the numbers promise.
func (s *Store) AssignSequences(ctx context.Context, k delivery.SequenceKey, loadIDs []string) (map[string]int64, error) {
	pk, sk := sequencePK(k.ClientID), sequenceSK(k)
	counter := pk + "\x00" + sk
	got := make(map[string]int64, len(loadIDs))
	todo := slices.Clone(loadIDs)
	for try := 0; len(todo) > 0; try++ {
		if try == 4 {
			return nil, fmt.Errorf("assign sequence of %d loads: the counter changed under %d tries", len(todo), try)
		}
		seen, err := s.assign(ctx, pk, sk, counter, todo)
		if err != nil {
			return nil, err
		}
		var left []string
		for _, id := range todo {
			if n, ok := seen.bound[delivery.SequenceHash(id)]; ok {
				got[id] = n
			} else {
				left = append(left, id)
			}
		}
		todo = left
	}
	return got, nil
}

// assign is one UpdateItem binding the next numbers to the loads ids, on
// the condition that none is bound yet. It returns the counter as written,
// or as it was when the condition failed.
func (s *Store) assign(ctx context.Context, pk, sk, counter string, ids []string) (sequenceSeen, error) {
	names := map[string]string{"#n": seqLatest}
	values := map[string]types.AttributeValue{":zero": attrN(0), ":k": attrN(int64(len(ids)))}
	sets := []string{"#n = if_not_exists(#n, :zero) + :k"}
	var conds []string
	mine := map[string]bool{}
	for i, id := range ids {
		h := delivery.SequenceHash(id)
		mine[h] = true
		name, v := fmt.Sprintf("#h%d", i), fmt.Sprintf(":i%d", i)
		names[name], values[v] = seqBindPrefix+h, attrN(int64(i+1))
		sets = append(sets, fmt.Sprintf("%s = if_not_exists(#n, :zero) + %s", name, v))
		conds = append(conds, "attribute_not_exists("+name+")")
	}
	update := "SET " + strings.Join(sets, ", ")
	var forget []string
	for i, x := range s.seqs.forgettable(counter, mine) {
		name := fmt.Sprintf("#f%d", i)
		names[name] = seqBindPrefix + x
		forget = append(forget, name)
	}
	if len(forget) > 0 {
		update += " REMOVE " + strings.Join(forget, ", ")
	}
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(pk, sk),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	var item map[string]types.AttributeValue
	switch {
	case err == nil:
		item = out.Attributes
	case isConditionFailed(err):
		// Some load is bound already: by an earlier try of this write, a
		// duplicate, or an invocation that died before the number reached
		// the load's record.
		item = conditionFailedItem(err)
		if item == nil {
			return sequenceSeen{}, fmt.Errorf("assign sequence: condition failed without the counter")
		}
	default:
		return sequenceSeen{}, fmt.Errorf("assign sequence: %w", err)
	}
	seen, err := decodeSequence(item)
	if err != nil {
		return sequenceSeen{}, fmt.Errorf("assign sequence: %w", err)
	}
	s.seqs.saw(counter, seen)
	return seen, nil
}

func decodeSequence(item map[string]types.AttributeValue) (sequenceSeen, error) {
	d := itemDecoder{item: item}
	seen := sequenceSeen{latest: d.int(seqLatest), bound: map[string]int64{}}
	for name := range item {
		if name == seqLatest || !strings.HasPrefix(name, seqBindPrefix) {
			continue
		}
		seen.bound[strings.TrimPrefix(name, seqBindPrefix)] = d.int(name)
	}
	return seen, d.result("sequence")
}
