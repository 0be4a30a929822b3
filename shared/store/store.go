// Package store keeps accounts, members, hooks, delivery records and alert
// records in one DynamoDB table (single-table design, keys below).
//
// It translates SDK errors into the errors of package hook at its edge and
// returns domain types. It does not log and it does not decide policy (plans,
// limits and retries are decided by its callers, and enforced here only where
// a conditional write must make them atomic).
//
// Key schema (pk, sk are strings; expires_at is the TTL attribute):
//
//	account            CLIENT#<client_id>              #ACCOUNT
//	hook               CLIENT#<client_id>              HOOK#<id, 10 digits>
//	hook id sequence   CLIENT#<client_id>              SEQ#HOOK
//	hook url (unique)  CLIENT#<client_id>              URL#<sha256 hex of url>
//	member             CLIENT#<client_id>              MEMBER#<member_id>
//	freshness rules    CLIENT#<client_id>              RULES#FRESHNESS
//	freshness registry FRESHNESS#<client_id mod 16>    CLIENT#<client_id>
//	token              TOKEN#<sha256 hex of token>     TOKEN
//	delivery           DELIVERY#<client_id>#<load_id>  HOOK#<id, 10 digits>
//	load record        DELIVERY#<client_id>#<load_id>  LOAD  (index by_created: gpk, gsk; see loadrecord.go)
//	alert              ALERT#<client_id>#<load_id>     HOOK#<id, 10 digits>
//	run                RUN#<client_id>                 <len(integration)>#<integration>#<run id>  (run.go)
//
// The account item sorts before the hook items and nothing sorts between
// them, so one Query reads an account and all its hooks.
//
// Every conditional write tells its own applied try from another caller's
// work: the SDK retries a request whose answer was lost even when DynamoDB
// had applied it, and the retry then meets the state it wrote itself. A
// failed condition is therefore judged on the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD) against the caller's own
// token: a delivery claim's token, an alert claim's token (ended_by once it
// is sent or released), a new account's write token. Transactions rely on
// the SDK reusing their ClientRequestToken on retries.
//
// What the store promises through its methods (results, errors and their
// wrapping, limits, claim and alert rules, what a repeated write under the
// same claim returns) is one conformance suite, contract_test.go, run
// against DynamoDB Local and against the in-memory store of package
// memstore that the functions' unit tests use. The claim rules themselves
// are the pure functions of package delivery (CanClaim, HeldBy,
// CanClaimAlert): the conditions below are those rules written for
// DynamoDB, and memstore calls them.
package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names shared by every item.
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrExpiresAt = "expires_at"
)

// Sort keys and prefixes.
const (
	skAccount   = "#ACCOUNT"
	skHookSeq   = "SEQ#HOOK"
	skToken     = "TOKEN"
	prefixHook  = "HOOK#"
	prefixURL   = "URL#"
	prefixMem   = "MEMBER#"
	skHooksLast = "HOOK#~" // upper bound of the account+hooks range
)

// Store is the DynamoDB-backed store. It is safe for concurrent use.
type Store struct {
	db    *client
	table string
	now   func() time.Time
	seqs  *sequenceHints // see AssignSequence
}

// client is the DynamoDB client's struct without its methods: the store
// calls the client through dynamo(), never holding *dynamodb.Client
// itself. A function that links text/template or html/template (their
// reflect MethodByName) keeps every exported method of every type that can
// reach an interface value, and a *Store reaches many; were the client's
// type among its fields, every DynamoDB operation, with its serializers
// and types, would stay in that function's bootstrap. As it is, each
// function links the operations its code calls.
type client dynamodb.Client

// New returns a Store on table. now is the clock (time.Now in production).
func New(db *dynamodb.Client, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: (*client)(db), table: table, now: now, seqs: &sequenceHints{}}
}

// dynamo is the DynamoDB client.
func (s *Store) dynamo() *dynamodb.Client { return (*dynamodb.Client)(s.db) }

// queryFunc is the client's Query as a dynamodb.QueryAPIClient (for the
// query paginator), so the client itself never becomes an interface value.
type queryFunc func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)

func (f queryFunc) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return f(ctx, in, opts...)
}

// Conditions on whether the item a write names exists.
const (
	condExists = "attribute_exists(pk)"
	condNew    = "attribute_not_exists(pk)"
)

// getItem reads one item with a strongly consistent read. The item is nil
// when there is none.
func (s *Store) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.dynamo().GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// attrWriteToken is a random token that putIfNew stores with an item.
const attrWriteToken = "write_token"

// putIfNew puts item unless an item with its key exists, and reports whether
// one did. The item is stored with a random write token: when the SDK
// retries a put whose first try was applied (its answer was lost), the
// retry finds the token it wrote and reports success, not an existing item.
func (s *Store) putIfNew(ctx context.Context, item map[string]types.AttributeValue) (exists bool, err error) {
	token := rand.Text()
	item = maps.Clone(item)
	item[attrWriteToken] = attrS(token)
	_, err = s.dynamo().PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String(condNew),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		d := itemDecoder{item: conditionFailedItem(err)}
		if d.has(attrWriteToken) && d.str(attrWriteToken) == token {
			return false, nil // put by an earlier try of this call
		}
		return true, nil
	}
	return false, err
}

// putNew is a transaction write putting item, unless an item with its key
// exists.
func (s *Store) putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: aws.String(condNew),
	}}
}

// deleteExisting is a transaction write deleting the item at pk, sk, which
// must exist.
func (s *Store) deleteExisting(pk, sk string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:           &s.table,
		Key:                 key(pk, sk),
		ConditionExpression: aws.String(condExists),
	}}
}

func clientPK(clientID int64) string { return "CLIENT#" + strconv.FormatInt(clientID, 10) }

func hookSK(id int64) string { return fmt.Sprintf("%s%010d", prefixHook, id) }

func memberSK(memberID string) string { return prefixMem + memberID }

func tokenPK(tokenHash string) string { return "TOKEN#" + tokenHash }

func deliveryPK(clientID int64, loadID string) string {
	return "DELIVERY#" + strconv.FormatInt(clientID, 10) + "#" + loadID
}

func alertPK(clientID int64, loadID string) string {
	return "ALERT#" + strconv.FormatInt(clientID, 10) + "#" + loadID
}

// timeFormat is how times are stored: RFC 3339 in UTC with a fixed nine
// fraction digits, so stored strings have one width and sort in time order.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
