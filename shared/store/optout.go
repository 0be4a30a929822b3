package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/optout"
)

// One-click unsubscribe. An unsubscribe link (package optout) names one
// account and one alert address by its RecipientKey; Unsubscribe removes the
// address of the account that has that key, in one transaction with a
// used-link item (pk OPTOUT#<nonce>, sk OPTOUT, expiring with the link), so
// each link works once: a replay changes nothing, even after a member added
// the address again. The removal is conditional on the list entry being the
// address that was read, so a concurrent change of the list is read again,
// never overwritten.

// ErrOptOutUsed: the unsubscribe link was used already.
var ErrOptOutUsed = errors.New("unsubscribe link already used")

const skOptOut = "OPTOUT"

// Unsubscribe removes the address t names from the alert addresses of t's
// account and reports whether it was there. It returns ErrOptOutUsed when
// the link was used before and hook.ErrNotFound when the account does not
// exist. Checking t's signature and expiry is the caller's job (optout).
func (s *Store) Unsubscribe(ctx context.Context, t optout.Token) (removed bool, err error) {
	for range placeAttempts {
		acct, err := s.Account(ctx, t.ClientID)
		if err != nil {
			return false, fmt.Errorf("unsubscribe: %w", err)
		}
		used := s.putNew(map[string]types.AttributeValue{
			attrPK: attrS("OPTOUT#" + t.Nonce), attrSK: attrS(skOptOut),
			attrExpiresAt: attrN(t.Expires.Unix()),
		})
		items := []types.TransactWriteItem{used}
		i := optout.Index(acct.AlertEmails, t.RecipientKey)
		if i >= 0 {
			path := attrAlertEmails + "[" + strconv.Itoa(i) + "]"
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName:                &s.table,
				Key:                      key(clientPK(t.ClientID), skAccount),
				ConditionExpression:      aws.String(path + " = :addr"),
				UpdateExpression:         aws.String("REMOVE " + path + " SET #modified = :now"),
				ExpressionAttributeNames: map[string]string{"#modified": attrModifiedAt},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":addr": attrS(acct.AlertEmails[i]), ":now": attrTime(s.now()),
				},
			}})
		}
		err = s.transactWrite(ctx, items)
		if c, ok := cancellationReasons(err); ok {
			if c.conditionFailed(0) {
				return false, fmt.Errorf("unsubscribe %d: %w", t.ClientID, ErrOptOutUsed)
			}
			continue // the list changed meanwhile: read it again
		}
		if err != nil {
			return false, fmt.Errorf("unsubscribe %d: %w", t.ClientID, err)
		}
		return i >= 0, nil
	}
	return false, fmt.Errorf("unsubscribe %d: %w", t.ClientID, errBusy)
}
