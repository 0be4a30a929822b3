package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Attributes of the account item.
const (
	attrPlan        = "plan"
	attrAlertEmails = "alert_emails"
	attrHookCount   = "hook_count"
)

// AccountUpdate is a partial change of an account: nil fields are left as
// they are.
type AccountUpdate struct {
	Plan        *string
	AlertEmails *[]string
}

// CreateAccount stores a new account with no hooks and returns it as stored
// (creation and modification times set, HookCount 0). It returns
// hook.ErrConflict if the account exists. Validating the plan and the emails
// is the caller's job.
func (s *Store) CreateAccount(ctx context.Context, a hook.Account) (hook.Account, error) {
	now := s.now().UTC()
	a.HookCount = 0
	a.CreatedAt, a.ModifiedAt = now, now
	if a.AlertEmails == nil {
		a.AlertEmails = []string{}
	}
	exists, err := s.putIfNew(ctx, encodeAccount(a))
	if exists {
		return hook.Account{}, fmt.Errorf("create account %d: %w", a.ClientID, hook.ErrConflict)
	}
	if err != nil {
		return hook.Account{}, fmt.Errorf("create account %d: %w", a.ClientID, err)
	}
	return a, nil
}

// Account returns an account, or hook.ErrNotFound.
func (s *Store) Account(ctx context.Context, clientID int64) (hook.Account, error) {
	item, err := s.getItem(ctx, clientPK(clientID), skAccount)
	if err != nil {
		return hook.Account{}, fmt.Errorf("get account %d: %w", clientID, err)
	}
	if item == nil {
		return hook.Account{}, fmt.Errorf("get account %d: %w", clientID, hook.ErrNotFound)
	}
	a, err := decodeAccount(item)
	if err != nil {
		return hook.Account{}, fmt.Errorf("get account %d: %w", clientID, err)
	}
	return a, nil
}

// UpdateAccount applies u to an account and returns the account as updated,
// or hook.ErrNotFound. When u sets a plan without the feature, every enabled
// hook of the account is then disabled, with the audit entry
// {By: hook.Operator, Action: "plan_downgraded"}; hooks stay disabled on a
// later upgrade. Setting such a plan again re-runs the disabling, so a
// downgrade interrupted half-way is finished by repeating it.
func (s *Store) UpdateAccount(ctx context.Context, clientID int64, u AccountUpdate) (hook.Account, error) {
	names := map[string]string{"#modified": attrModifiedAt}
	vals := map[string]types.AttributeValue{":now": attrTime(s.now())}
	set := []string{"#modified = :now"}
	if u.Plan != nil {
		names["#plan"] = attrPlan
		vals[":plan"] = attrS(*u.Plan)
		set = append(set, "#plan = :plan")
	}
	if u.AlertEmails != nil {
		names["#emails"] = attrAlertEmails
		vals[":emails"] = attrStrings(*u.AlertEmails)
		set = append(set, "#emails = :emails")
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), skAccount),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String(condExists),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return hook.Account{}, fmt.Errorf("update account %d: %w", clientID, hook.ErrNotFound)
	}
	if err != nil {
		return hook.Account{}, fmt.Errorf("update account %d: %w", clientID, err)
	}
	a, err := decodeAccount(out.Attributes)
	if err != nil {
		return hook.Account{}, fmt.Errorf("update account %d: %w", clientID, err)
	}
	if u.Plan != nil && !a.HasHooks() {
		if err := s.disableAllHooks(ctx, clientID, hook.Operator, actionPlanDowngraded); err != nil {
			return hook.Account{}, fmt.Errorf("update account %d: downgrade: %w", clientID, err)
		}
	}
	return a, nil
}

// AccountWithHooks returns an account and all its hooks, by id ascending,
// with ONE strongly consistent Query (the account item sorts just before the
// hook items), or hook.ErrNotFound.
func (s *Store) AccountWithHooks(ctx context.Context, clientID int64) (hook.Account, []hook.Hook, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :first AND :last"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    attrS(clientPK(clientID)),
			":first": attrS(skAccount),
			":last":  attrS(skHooksLast),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return hook.Account{}, nil, fmt.Errorf("read account %d with hooks: %w", clientID, err)
	}
	if len(items) == 0 || !isSK(items[0], skAccount) {
		return hook.Account{}, nil, fmt.Errorf("read account %d with hooks: %w", clientID, hook.ErrNotFound)
	}
	a, err := decodeAccount(items[0])
	if err != nil {
		return hook.Account{}, nil, fmt.Errorf("read account %d with hooks: %w", clientID, err)
	}
	hooks := make([]hook.Hook, 0, len(items)-1)
	for _, it := range items[1:] {
		h, err := decodeHook(it)
		if err != nil {
			return hook.Account{}, nil, fmt.Errorf("read account %d with hooks: %w", clientID, err)
		}
		hooks = append(hooks, h)
	}
	return a, hooks, nil
}

// queryAll runs a Query to its last page and returns every item.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
	}
	return items, nil
}

// isSK reports whether item's sort key is sk.
func isSK(item map[string]types.AttributeValue, sk string) bool {
	v, ok := item[attrSK].(*types.AttributeValueMemberS)
	return ok && v.Value == sk
}

// featurePlanCondition returns the condition "the item's plan is one of
// hook.FeaturePlans()", adding the names and values it uses to names and
// vals.
func featurePlanCondition(names map[string]string, vals map[string]types.AttributeValue) string {
	names["#plan"] = attrPlan
	plans := hook.FeaturePlans()
	refs := make([]string, len(plans))
	for i, p := range plans {
		refs[i] = fmt.Sprintf(":featurePlan%d", i)
		vals[refs[i]] = attrS(p)
	}
	return "#plan IN (" + strings.Join(refs, ", ") + ")"
}

// accountPlanDenies reports, for an account item read when a condition on
// it failed, why: hook.ErrNotFound if it did not exist, hook.ErrNoAccess if
// its plan lacks the feature, nil otherwise.
func accountPlanDenies(item map[string]types.AttributeValue) error {
	if item == nil {
		return hook.ErrNotFound
	}
	d := itemDecoder{item: item}
	if !hook.PlanHasHooks(d.str(attrPlan)) {
		return hook.ErrNoAccess
	}
	return nil
}

func encodeAccount(a hook.Account) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:          attrS(clientPK(a.ClientID)),
		attrSK:          attrS(skAccount),
		attrClientID:    attrN(a.ClientID),
		attrPlan:        attrS(a.Plan),
		attrAlertEmails: attrStrings(a.AlertEmails),
		attrHookCount:   attrN(int64(a.HookCount)),
		attrCreatedAt:   attrTime(a.CreatedAt),
		attrModifiedAt:  attrTime(a.ModifiedAt),
	}
}

func decodeAccount(item map[string]types.AttributeValue) (hook.Account, error) {
	d := itemDecoder{item: item}
	a := hook.Account{
		ClientID:    d.int(attrClientID),
		Plan:        d.str(attrPlan),
		AlertEmails: d.strings(attrAlertEmails),
		HookCount:   int(d.int(attrHookCount)),
		CreatedAt:   d.time(attrCreatedAt),
		ModifiedAt:  d.time(attrModifiedAt),
	}
	if err := d.result("account"); err != nil {
		return hook.Account{}, err
	}
	return a, nil
}
