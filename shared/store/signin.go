package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
)

// Items of the web app's sign-in (package signin). Secrets are kept only as
// signin.Hash of them; addresses only as signin.EmailKey:
//
//	membership   EMAIL#<email key>        MEMBER#<client_id>#<member_id>
//	link         SIGNIN#<hash of token>   LINK            (TTL: the link's; used_by once used)
//	rate         RATE#<email key>         SENT            (TTL: a window after the last link)
//	session      SESSION#<hash of id>     SESSION         (TTL: idle/max age)
//
// DynamoDB's TTL deletes lazily, so every read also checks the time itself.
const (
	attrEmailKey = "email_key"
	attrSeenAt   = "seen_at"
	attrSent     = "sent"    // on a rate item: the send times of the window, Unix ms, oldest first
	attrUsedBy   = "used_by" // on a link: the token of the call that used it
	skLink       = "LINK"
	skSent       = "SENT"
	skSession    = "SESSION"
)

func emailPK(emailKey string) string { return "EMAIL#" + emailKey }

func membershipSK(clientID int64, memberID string) string {
	return "MEMBER#" + strconv.FormatInt(clientID, 10) + "#" + memberID
}

// membershipKey is the key of a member's membership item.
func membershipKey(m hook.Member) (pk, sk string) {
	return emailPK(signin.EmailKey(m.Email)), membershipSK(m.ClientID, m.ID)
}

func encodeMembership(m hook.Member) map[string]types.AttributeValue {
	pk, sk := membershipKey(m)
	return map[string]types.AttributeValue{
		attrPK:       attrS(pk),
		attrSK:       attrS(sk),
		attrClientID: attrN(m.ClientID),
		attrMemberID: attrS(m.ID),
	}
}

func epoch(t time.Time) types.AttributeValue { return attrN(t.Unix()) }

// Memberships returns every member whose address has the key emailKey
// (signin.EmailKey: any case of one address), one per account, by client
// id; none for an unknown address.
func (s *Store) Memberships(ctx context.Context, emailKey string) ([]hook.Principal, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(emailPK(emailKey))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	out := make([]hook.Principal, 0, len(items))
	for _, it := range items {
		d := itemDecoder{item: it}
		p := hook.Principal{ClientID: d.int(attrClientID), MemberID: d.str(attrMemberID)}
		if err := d.result("membership"); err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// CreateSignInLink counts one link for email in its rate window and stores
// a new link for it, valid for ttl, returning its token (the only copy). It
// returns signin.ErrRateLimited, writing nothing, when the address was sent
// signin.LinksPerHour links in the signin.RateWindow before now.
func (s *Store) CreateSignInLink(ctx context.Context, email string, ttl time.Duration) (string, error) {
	now := s.now()
	ek := signin.EmailKey(email)
	if err := s.countSignInLink(ctx, ek, now); err != nil {
		return "", fmt.Errorf("create sign-in link: %w", err)
	}
	token := signin.NewLinkToken()
	_, err := s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK:        attrS("SIGNIN#" + signin.Hash(token)),
			attrSK:        attrS(skLink),
			attrEmailKey:  attrS(ek),
			attrExpiresAt: epoch(now.Add(ttl)),
		},
	})
	if err != nil {
		return "", fmt.Errorf("create sign-in link: %w", err)
	}
	return token, nil
}

// countSignInLink adds now to the address's send times when
// signin.RecentLinks allows one more link. The rate item keeps the times of
// the window (at most signin.LinksPerHour), so the limit slides with each
// request. The write is conditional on the times as read: of two requests
// at once, one is counted and the other reads again. Each lost race means
// another link was counted, so within signin.LinksPerHour+1 reads the
// request is counted or refused. A write whose answer was lost and that
// the SDK retried reads its own time back and counts it twice, which only
// refuses a link sooner.
func (s *Store) countSignInLink(ctx context.Context, emailKey string, now time.Time) error {
	k := key("RATE#"+emailKey, skSent)
	for range signin.LinksPerHour + 1 {
		out, err := s.dynamo().GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true),
			ProjectionExpression:     aws.String("#sent"),
			ExpressionAttributeNames: map[string]string{"#sent": attrSent},
		})
		if err != nil {
			return fmt.Errorf("count: %w", err)
		}
		old, sent := out.Item[attrSent], sendTimes(out.Item[attrSent])
		kept, ok := signin.RecentLinks(sent, now)
		if !ok {
			return signin.ErrRateLimited
		}
		times := make([]types.AttributeValue, len(kept))
		for i, t := range kept {
			times[i] = attrN(t)
		}
		in := &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: k,
			UpdateExpression:          aws.String("SET #sent = :sent, #exp = :exp"),
			ConditionExpression:       aws.String("attribute_not_exists(#sent)"),
			ExpressionAttributeNames:  map[string]string{"#sent": attrSent, "#exp": attrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":sent": &types.AttributeValueMemberL{Value: times}, ":exp": epoch(now.Add(signin.RateWindow))},
		}
		if old != nil {
			in.ConditionExpression, in.ExpressionAttributeValues[":old"] = aws.String("#sent = :old"), old
		}
		_, err = s.dynamo().UpdateItem(ctx, in)
		if !isConditionFailed(err) {
			if err != nil {
				return fmt.Errorf("count: %w", err)
			}
			return nil
		}
	}
	return errors.New("count: the send times kept changing")
}

// sendTimes reads a rate item's send times; anything that is not a list
// of numbers counts as none.
func sendTimes(v types.AttributeValue) []int64 {
	l, _ := v.(*types.AttributeValueMemberL)
	if l == nil {
		return nil
	}
	out := make([]int64, 0, len(l.Value))
	for _, e := range l.Value {
		if n, ok := e.(*types.AttributeValueMemberN); ok {
			if t, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// UseSignInLink uses up a link and returns the email key it was sent to. A
// link works once: the check and the use are one conditional write, so two
// concurrent uses cannot both succeed. The write marks the link used by a
// token of this call (its TTL deletes it later), so that a write whose answer
// was lost and that the SDK retried is recognised as this call's own instead
// of as a link used before. It returns signin.ErrLinkInvalid for an unknown,
// used or expired link.
func (s *Store) UseSignInLink(ctx context.Context, token string) (string, error) {
	use := rand.Text()
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key("SIGNIN#"+signin.Hash(token), skLink),
		UpdateExpression:                    aws.String("SET #used = :use"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND #exp > :now AND attribute_not_exists(#used)"),
		ExpressionAttributeNames:            map[string]string{"#exp": attrExpiresAt, "#used": attrUsedBy},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": epoch(s.now()), ":use": attrS(use)},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var item map[string]types.AttributeValue
	switch {
	case isConditionFailed(err):
		item = conditionFailedItem(err)
		if d := (itemDecoder{item: item}); !d.has(attrUsedBy) || d.str(attrUsedBy) != use {
			return "", fmt.Errorf("use sign-in link: %w", signin.ErrLinkInvalid)
		}
		// Used by an earlier try of this call.
	case err != nil:
		return "", fmt.Errorf("use sign-in link: %w", err)
	default:
		item = out.Attributes
	}
	d := itemDecoder{item: item}
	ek := d.str(attrEmailKey)
	if err := d.result("sign-in link"); err != nil {
		return "", fmt.Errorf("use sign-in link: %w", err)
	}
	return ek, nil
}

// CreateSession stores a new session for emailKey, bound to p when p names
// an account (ClientID 0 leaves it to be picked), and returns its id (the
// only copy) and the session.
func (s *Store) CreateSession(ctx context.Context, emailKey string, p hook.Principal) (string, signin.Session, error) {
	id := signin.NewSessionID()
	now := s.now().UTC()
	sess := signin.Session{IDHash: signin.Hash(id), EmailKey: emailKey, ClientID: p.ClientID, MemberID: p.MemberID, CreatedAt: now, SeenAt: now}
	if err := s.putSession(ctx, sess, false); err != nil {
		return "", signin.Session{}, fmt.Errorf("create session: %w", err)
	}
	return id, sess, nil
}

// putSession writes a session item; existing makes it a rewrite of a
// session that must still be there (one signed out meanwhile stays out).
func (s *Store) putSession(ctx context.Context, sess signin.Session, existing bool) error {
	in := &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			attrPK:        attrS("SESSION#" + sess.IDHash),
			attrSK:        attrS(skSession),
			attrEmailKey:  attrS(sess.EmailKey),
			attrClientID:  attrN(sess.ClientID),
			attrMemberID:  attrS(sess.MemberID),
			attrCreatedAt: attrTime(sess.CreatedAt),
			attrSeenAt:    attrTime(sess.SeenAt),
			attrExpiresAt: epoch(sess.ExpiresAt()),
		},
	}
	if existing {
		in.ConditionExpression = aws.String(condExists)
	}
	_, err := s.dynamo().PutItem(ctx, in)
	if isConditionFailed(err) {
		return signin.ErrNoSession
	}
	return err
}

// Session returns the live session with id, recording its use when it was
// last recorded signin.TouchEvery ago. A session bound to a member ends the
// moment that member is deleted: the member is read (strongly consistent)
// with every request. It returns signin.ErrNoSession for an unknown,
// expired or orphaned session.
func (s *Store) Session(ctx context.Context, id string) (signin.Session, error) {
	hash := signin.Hash(id)
	item, err := s.getItem(ctx, "SESSION#"+hash, skSession)
	if err != nil {
		return signin.Session{}, fmt.Errorf("session: %w", err)
	}
	if item == nil {
		return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
	}
	d := itemDecoder{item: item}
	sess := signin.Session{
		IDHash: hash, EmailKey: d.str(attrEmailKey), ClientID: d.int(attrClientID), MemberID: d.str(attrMemberID),
		CreatedAt: d.time(attrCreatedAt), SeenAt: d.time(attrSeenAt),
	}
	if err := d.result("session"); err != nil {
		return signin.Session{}, fmt.Errorf("session: %w", err)
	}
	now := s.now()
	if !sess.Live(now) {
		return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
	}
	if sess.ClientID != 0 {
		m, err := s.getItem(ctx, clientPK(sess.ClientID), memberSK(sess.MemberID))
		if err != nil {
			return signin.Session{}, fmt.Errorf("session: member: %w", err)
		}
		if m == nil {
			return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
		}
	}
	if sess.NeedsTouch(now) {
		sess.SeenAt = now.UTC()
		if err := s.putSession(ctx, sess, true); err != nil {
			return signin.Session{}, fmt.Errorf("session: touch: %w", err)
		}
	}
	return sess, nil
}

// BindSession binds a session to the account and member p (the account a
// member of several picked) and returns it.
func (s *Store) BindSession(ctx context.Context, sess signin.Session, p hook.Principal) (signin.Session, error) {
	sess.ClientID, sess.MemberID = p.ClientID, p.MemberID
	if err := s.putSession(ctx, sess, true); err != nil {
		return signin.Session{}, fmt.Errorf("bind session: %w", err)
	}
	return sess, nil
}

// DeleteSession ends a session (sign-out). Ending one that is gone already
// is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.dynamo().DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table,
		Key:       key("SESSION#"+signin.Hash(id), skSession),
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
