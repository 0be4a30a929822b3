package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Attributes of the member and token items.
const (
	attrMemberID  = "member_id"
	attrEmail     = "email"
	attrTokenHash = "token_hash"
)

// CreateMember adds a team member to an account and returns it with its API
// token and a membership under its address, by which the web app's sign-in
// finds it. The token is returned this once: only hook.HashToken of it is
// stored. It returns hook.ErrNotFound if the account does not exist.
func (s *Store) CreateMember(ctx context.Context, clientID int64, email string) (hook.Member, string, error) {
	token := hook.NewToken()
	hash := hook.HashToken(token)
	m := hook.Member{ID: hook.NewMemberID(), ClientID: clientID, Email: email, CreatedAt: s.now().UTC()}
	const itemAccount = 0
	items := []types.TransactWriteItem{
		itemAccount: {ConditionCheck: &types.ConditionCheck{
			TableName:           &s.table,
			Key:                 key(clientPK(clientID), skAccount),
			ConditionExpression: aws.String(condExists),
		}},
		s.putNew(encodeMember(m, hash)),
		s.putNew(encodeToken(hash, clientID, m.ID)),
		s.putNew(encodeMembership(m)),
	}
	err := s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok && c.conditionFailed(itemAccount) {
		err = hook.ErrNotFound
	}
	if err != nil {
		return hook.Member{}, "", fmt.Errorf("create member of account %d: %w", clientID, err)
	}
	return m, token, nil
}

// DeleteMember removes a member, its token and its sign-in membership in
// one transaction, so the token and every web session of the member stop
// working at once. It returns hook.ErrNotFound if the account
// has no such member.
func (s *Store) DeleteMember(ctx context.Context, clientID int64, memberID string) error {
	item, err := s.getItem(ctx, clientPK(clientID), memberSK(memberID))
	if err != nil {
		return fmt.Errorf("delete member: %w", err)
	}
	if item == nil {
		return fmt.Errorf("delete member: %w", hook.ErrNotFound)
	}
	m, hash, err := decodeMember(item)
	if err != nil {
		return fmt.Errorf("delete member: %w", err)
	}
	membershipPK, membershipSK := membershipKey(m)
	const itemMember = 0
	items := []types.TransactWriteItem{
		itemMember: s.deleteExisting(clientPK(clientID), memberSK(memberID)),
		{Delete: &types.Delete{
			TableName: &s.table,
			Key:       key(tokenPK(hash), skToken),
		}},
		{Delete: &types.Delete{
			TableName: &s.table,
			Key:       key(membershipPK, membershipSK),
		}},
	}
	err = s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok && c.conditionFailed(itemMember) {
		err = hook.ErrNotFound // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("delete member: %w", err)
	}
	return nil
}

// ListMembers returns the members of an account by member id (an empty
// slice when it has none), or hook.ErrNotFound if the account does not
// exist. Token hashes stay in the store.
func (s *Store) ListMembers(ctx context.Context, clientID int64) ([]hook.Member, error) {
	if _, err := s.Account(ctx, clientID); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	items, err := s.queryClient(ctx, clientID, "begins_with(sk, :prefix)",
		map[string]types.AttributeValue{":prefix": attrS(prefixMem)})
	if err != nil {
		return nil, fmt.Errorf("list members of account %d: %w", clientID, err)
	}
	members := make([]hook.Member, 0, len(items))
	for _, it := range items {
		m, _, err := decodeMember(it)
		if err != nil {
			return nil, fmt.Errorf("list members of account %d: %w", clientID, err)
		}
		members = append(members, m)
	}
	return members, nil
}

// Authenticate returns who holds token, with one strongly consistent read
// (so a deleted member's token fails at once), or hook.ErrUnauthorized for
// an empty, unknown or revoked token.
func (s *Store) Authenticate(ctx context.Context, token string) (hook.Principal, error) {
	if token == "" {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", hook.ErrUnauthorized)
	}
	item, err := s.getItem(ctx, tokenPK(hook.HashToken(token)), skToken)
	if err != nil {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if item == nil {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", hook.ErrUnauthorized)
	}
	d := itemDecoder{item: item}
	p := hook.Principal{ClientID: d.int(attrClientID), MemberID: d.str(attrMemberID)}
	if err := d.result("token"); err != nil {
		return hook.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return p, nil
}

func encodeMember(m hook.Member, tokenHash string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:        attrS(clientPK(m.ClientID)),
		attrSK:        attrS(memberSK(m.ID)),
		attrClientID:  attrN(m.ClientID),
		attrMemberID:  attrS(m.ID),
		attrEmail:     attrS(m.Email),
		attrTokenHash: attrS(tokenHash),
		attrCreatedAt: attrTime(m.CreatedAt),
	}
}

// decodeMember returns the member and the hash of its token.
func decodeMember(item map[string]types.AttributeValue) (hook.Member, string, error) {
	d := itemDecoder{item: item}
	m := hook.Member{
		ID:        d.str(attrMemberID),
		ClientID:  d.int(attrClientID),
		Email:     d.str(attrEmail),
		CreatedAt: d.time(attrCreatedAt),
	}
	hash := d.str(attrTokenHash)
	if err := d.result("member"); err != nil {
		return hook.Member{}, "", err
	}
	return m, hash, nil
}

func encodeToken(tokenHash string, clientID int64, memberID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:       attrS(tokenPK(tokenHash)),
		attrSK:       attrS(skToken),
		attrClientID: attrN(clientID),
		attrMemberID: attrS(memberID),
	}
}
