package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/optout"
)

// Alert bookkeeping: exactly one alert email per recipient for each exhausted
// (client, load, hook) delivery, however often the alert message arrives.
// The alerter passes delivery.AlertLoadID as the load id, so each exhausted
// sequence of a resent delivery has an item of its own.
//
// One alert item per pair (pk ALERT#<client_id>#<load_id>, sk HOOK#<id>):
//
//	status       "sending" while a claim holds it, "failed" after a send
//	             failed and the claim was released, "sent" when every
//	             recipient has had the email
//	claim        random token of the invocation holding the claim
//	lease_until  Unix milliseconds: the claim is abandoned after this
//	ended_by     token of the claim that last marked the item sent or
//	             failed (so a retried FinishAlert or ReleaseAlert whose first
//	             try was applied knows it was its own)
//	sent_to      string set of RecipientKey of every recipient already sent
//	expires_at   TTL, Unix seconds, 30 days after the last write
//
// The sender claims the item with a conditional write before sending, records
// each recipient right after SES accepted its email, and marks the item sent
// at the end. A redelivered alert message then finds "sent" (nothing to do),
// a live claim (another invocation is on it: retry later), or an abandoned
// claim or a released one, which it takes over and finishes, skipping the
// recipients already in sent_to.
//
// The one duplicate window left: if the process dies (or the recipient write
// fails) after SES accepted an email and before AlertSentTo recorded it, the
// next claim sends that recipient's email again. Nothing can close it, since
// SES has no idempotency key; it is as small as one DynamoDB write.

// Alert statuses (the claim rule itself is delivery.CanClaimAlert, which
// the condition of ClaimAlert writes for DynamoDB).
const (
	alertSending = delivery.AlertSending
	alertFailed  = delivery.AlertFailed
	alertSent    = delivery.AlertSent
)

// Attributes of the alert item (besides expires_at, shared with other items).
const (
	alStatus = "status"
	alClaim  = "claim"
	alLease  = "lease_until"
	alSentTo = "sent_to"
	alSentAt = "sent_at"
	alEndBy  = "ended_by"
)

// alertTTL is how long an alert item is kept: well beyond SQS's longest
// retention (14 days), so every redelivery of the message finds it.
const alertTTL = 30 * 24 * time.Hour

// Errors of the alert bookkeeping.
var (
	// ErrAlertSent: every recipient has had the alert; nothing is left to do.
	ErrAlertSent = errors.New("alert already sent")
	// ErrAlertBusy: another invocation holds a live claim on the alert.
	ErrAlertBusy = errors.New("alert claimed by another sender")
	// ErrAlertClaimLost: the claim's lease ran out and another sender took
	// the alert over (or it was finished); this sender must stop.
	ErrAlertClaimLost = errors.New("alert claim lost")
)

// AlertClaim is a sender's hold on one alert. Its zero value is not a claim.
type AlertClaim struct {
	ClientID int64
	LoadID   string
	HookID   int64
	// SentTo holds the RecipientKey of every recipient that already had the
	// email, by this claim or an earlier one.
	SentTo map[string]bool
	// Token is random and unique to the claim; the item keeps it while the
	// claim holds, and every write under the claim must present it.
	Token string
}

// Sent reports whether recipient has already had the email.
func (c AlertClaim) Sent(recipient string) bool { return c.SentTo[RecipientKey(recipient)] }

// RecipientKey identifies an email address in the alert record without
// storing it: the hex SHA-256 of the address, trimmed and lower-cased.
// It is the key unsubscribe links carry (optout.RecipientKey).
func RecipientKey(address string) string { return optout.RecipientKey(address) }

// ClaimAlert takes the claim on the alert of (clientID, loadID, hookID) for
// lease, which must outlast the sending (a claim whose lease ran out can be
// taken over by another sender). It returns ErrAlertSent when the alert was
// sent already and ErrAlertBusy when another sender holds a live claim.
func (s *Store) ClaimAlert(ctx context.Context, clientID int64, loadID string, hookID int64, lease time.Duration) (AlertClaim, error) {
	now := s.now()
	c := AlertClaim{ClientID: clientID, LoadID: loadID, HookID: hookID, Token: rand.Text()}
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       key(alertPK(clientID, loadID), hookSK(hookID)),
		// An item without a status is new to the claim: it may hold only
		// the delivery's digest placement (NoteExhausted).
		ConditionExpression: aws.String("attribute_not_exists(#status) OR #status = :failed OR " +
			"(#status = :sending AND #lease < :now)"),
		UpdateExpression: aws.String("SET #status = :sending, #claim = :claim, #lease = :until, #exp = :exp"),
		ExpressionAttributeNames: map[string]string{
			"#status": alStatus, "#claim": alClaim, "#lease": alLease, "#exp": attrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed":  attrS(alertFailed),
			":sending": attrS(alertSending),
			":now":     attrN(now.UnixMilli()),
			":until":   attrN(now.Add(lease).UnixMilli()),
			":claim":   attrS(c.Token),
			":exp":     attrN(now.Add(alertTTL).Unix()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		d := itemDecoder{item: conditionFailedItem(err)}
		if d.has(alClaim) && d.str(alClaim) == c.Token && d.str(alStatus) == alertSending {
			// Our own claim, applied by an earlier try of this call.
			return c.withSentTo(d.item)
		}
		if d.str(alStatus) == alertSent {
			return AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: %w", clientID, loadID, hookID, ErrAlertSent)
		}
		return AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: %w", clientID, loadID, hookID, ErrAlertBusy)
	}
	if err != nil {
		return AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: %w", clientID, loadID, hookID, err)
	}
	return c.withSentTo(out.Attributes)
}

// withSentTo returns c with SentTo read from the claimed alert item.
func (c AlertClaim) withSentTo(item map[string]types.AttributeValue) (AlertClaim, error) {
	c.SentTo = map[string]bool{}
	switch v := item[alSentTo].(type) {
	case *types.AttributeValueMemberSS:
		for _, k := range v.Value {
			c.SentTo[k] = true
		}
	case nil:
	default:
		return AlertClaim{}, fmt.Errorf("claim alert %d/%s/%d: attribute %s: want SS, got %T", c.ClientID, c.LoadID, c.HookID, alSentTo, v)
	}
	return c, nil
}

// AlertSentTo records that recipient has had the email of the claimed alert.
// Call it as soon as SES accepted the email. It returns ErrAlertClaimLost if
// the claim is no longer held.
func (s *Store) AlertSentTo(ctx context.Context, c *AlertClaim, recipient string) error {
	k := RecipientKey(recipient)
	// A retry of an applied try passes the condition again: ADD is idempotent.
	err := s.updateClaimed(ctx, *c, "", "ADD #sent :key SET #exp = :exp", map[string]string{"#sent": alSentTo},
		map[string]types.AttributeValue{":key": &types.AttributeValueMemberSS{Value: []string{k}}})
	if err != nil {
		return fmt.Errorf("record alert recipient: %w", err)
	}
	c.SentTo[k] = true
	return nil
}

// FinishAlert marks the claimed alert sent: later claims get ErrAlertSent.
// It returns ErrAlertClaimLost if the claim is no longer held.
func (s *Store) FinishAlert(ctx context.Context, c AlertClaim) error {
	err := s.updateClaimed(ctx, c, alertSent, "SET #status = :sent, #sentAt = :now, #endBy = :claim, #exp = :exp REMOVE #claim, #lease",
		map[string]string{"#sentAt": alSentAt, "#lease": alLease, "#endBy": alEndBy},
		map[string]types.AttributeValue{":sent": attrS(alertSent), ":now": attrTime(s.now())})
	if err != nil {
		return fmt.Errorf("finish alert: %w", err)
	}
	return nil
}

// ReleaseAlert gives the claim up after a failed send, so that the next
// delivery of the alert message can take it over at once. The recipients
// already recorded stay recorded. It returns ErrAlertClaimLost if the claim
// is no longer held.
func (s *Store) ReleaseAlert(ctx context.Context, c AlertClaim) error {
	err := s.updateClaimed(ctx, c, alertFailed, "SET #status = :failed, #endBy = :claim, #exp = :exp REMOVE #claim, #lease",
		map[string]string{"#lease": alLease, "#endBy": alEndBy},
		map[string]types.AttributeValue{":failed": attrS(alertFailed)})
	if err != nil {
		return fmt.Errorf("release alert: %w", err)
	}
	return nil
}

// updateClaimed applies update to the alert item of c on condition that c
// still holds the claim. names and vals add to the ones every such update
// uses (#status, #claim, #exp, :sending, :claim, :exp). ends is the status
// the update leaves when it ends the claim (sent or failed, recording c's
// token in ended_by), "" when it does not: when the condition fails on an
// item that c itself ended with that status (the SDK retried a try that was
// applied), the update counts as done.
func (s *Store) updateClaimed(ctx context.Context, c AlertClaim, ends, update string, names map[string]string, vals map[string]types.AttributeValue) error {
	if c.Token == "" {
		return fmt.Errorf("alert %d/%s/%d: %w", c.ClientID, c.LoadID, c.HookID, ErrAlertClaimLost)
	}
	n := map[string]string{"#status": alStatus, "#claim": alClaim, "#exp": attrExpiresAt}
	for k, v := range names {
		n[k] = v
	}
	v := map[string]types.AttributeValue{
		":sending": attrS(alertSending),
		":claim":   attrS(c.Token),
		":exp":     attrN(s.now().Add(alertTTL).Unix()),
	}
	for k, val := range vals {
		v[k] = val
	}
	_, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key(alertPK(c.ClientID, c.LoadID), hookSK(c.HookID)),
		ConditionExpression:                 aws.String("#status = :sending AND #claim = :claim"),
		UpdateExpression:                    aws.String(update),
		ExpressionAttributeNames:            n,
		ExpressionAttributeValues:           v,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		d := itemDecoder{item: conditionFailedItem(err)}
		if ends != "" && d.has(alEndBy) && d.str(alEndBy) == c.Token && d.str(alStatus) == ends {
			return nil // ended by an earlier try of this call
		}
		return fmt.Errorf("alert %d/%s/%d: %w", c.ClientID, c.LoadID, c.HookID, ErrAlertClaimLost)
	}
	if err != nil {
		return fmt.Errorf("alert %d/%s/%d: %w", c.ClientID, c.LoadID, c.HookID, err)
	}
	return nil
}
