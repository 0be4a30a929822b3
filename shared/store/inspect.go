package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Reads and writes for support and tooling: what happened to a load, and
// members whose tokens were issued elsewhere. The functions' request and
// message paths do not use them; they exist so that nothing outside this
// package needs to know how items are keyed.

// LoadDeliveries returns the entry of every hook of one load that had an
// attempt claimed, in hook order; none is not an error.
func (s *Store) LoadDeliveries(ctx context.Context, clientID int64, loadID string) ([]delivery.Record, error) {
	rec, err := s.getLoadRecord(ctx, clientID, loadID)
	if errors.Is(err, hook.ErrNotFound) {
		return []delivery.Record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deliveries of load %s: %w", loadID, err)
	}
	ids := slices.Sorted(maps.Keys(rec.entries))
	recs := make([]delivery.Record, 0, len(ids))
	for _, id := range ids {
		recs = append(recs, *rec.entryRecord(id))
	}
	return recs, nil
}

// AlertStatus returns the state of the alert record of one (load, hook)
// pair: "sending", "sent" or "failed", or "" when there is none.
func (s *Store) AlertStatus(ctx context.Context, clientID int64, loadID string, hookID int64) (string, error) {
	item, err := s.getItem(ctx, alertPK(clientID, loadID), hookSK(hookID))
	if err != nil {
		return "", fmt.Errorf("alert status of load %s hook %d: %w", loadID, hookID, err)
	}
	if item == nil {
		return "", nil
	}
	v, _ := item[alStatus].(*types.AttributeValueMemberS)
	if v == nil {
		return "", fmt.Errorf("alert status of load %s hook %d: the record has no %s", loadID, hookID, alStatus)
	}
	return v.Value, nil
}

// ImportMember adds member m, whose API token was issued elsewhere (the
// original product, or a fixed token of a sample event), to its account;
// like CreateMember it stores only hook.HashToken of the token. It returns
// hook.ErrNotFound if the account does not exist and hook.ErrConflict if
// the member or the token is already there.
func (s *Store) ImportMember(ctx context.Context, m hook.Member, token string) error {
	hash := hook.HashToken(token)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now().UTC()
	}
	const itemAccount, itemMember, itemToken = 0, 1, 2
	items := []types.TransactWriteItem{
		itemAccount: {ConditionCheck: &types.ConditionCheck{
			TableName:           &s.table,
			Key:                 key(clientPK(m.ClientID), skAccount),
			ConditionExpression: aws.String(condExists),
		}},
		itemMember: s.putNew(encodeMember(m, hash)),
		itemToken:  s.putNew(encodeToken(hash, m.ClientID, m.ID)),
	}
	err := s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok {
		switch {
		case c.conditionFailed(itemAccount):
			err = hook.ErrNotFound
		case c.conditionFailed(itemMember) || c.conditionFailed(itemToken):
			err = hook.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("import member of account %d: %w", m.ClientID, err)
	}
	return nil
}
