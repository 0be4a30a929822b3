package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Attributes of the account item. destinations is the list the operator
// gave (L of M {id, type}); destination_ids holds the same ids as a number
// set (absent when there are none) so that conditional writes can test
// membership; hook_version grows with every hook created, so a change of the
// destinations can be made conditional on no hook having been created since
// the hooks were counted. Accounts stored before destinations existed have
// none of the three and read as an account without destinations.
const (
	attrPlan           = "plan"
	attrAlertEmails    = "alert_emails"
	attrHookCount      = "hook_count"
	attrDestinations   = "destinations"
	attrDestinationIDs = "destination_ids"
	attrDestID         = "id"
	attrDestType       = "type"
	attrHookVersion    = "hook_version"
	// attrNoAPIAccess is stored (true) only when API access is off: an account without it
	// (created before it existed, or never switched off) has API access.
	attrNoAPIAccess = "no_api_access"
	// attrNoAutoDisable is stored (true) only when auto-disable is off.
	attrNoAutoDisable = "no_auto_disable"
)

// AccountUpdate is a partial change of an account: nil fields are left as
// they are.
type AccountUpdate struct {
	Plan         *string
	AlertEmails  *[]string
	Destinations *[]hook.Destination
	APIAccess    *bool
	AutoDisable  *bool
}

// destinationUpdateAttempts bounds how often UpdateAccount re-counts the
// hooks when hooks are created while it changes the destinations.
const destinationUpdateAttempts = 5

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
	if a.Destinations == nil {
		a.Destinations = []hook.Destination{}
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

// UpdateAccount applies u to an account and returns the account as updated
// and how many hooks the change disabled, or hook.ErrNotFound. When u sets a
// plan without the feature, every enabled hook of the account is then
// disabled, with the audit entry {By: hook.Operator, Action:
// "plan_downgraded"}; hooks stay disabled on a later upgrade. A hook the
// service holds disabled for failing gets the same entry and its probes
// stop (so it shows as disabled by the plan), but only the hooks that were
// enabled count as disabled by the change. Setting such a
// plan again re-runs the disabling, so a downgrade interrupted half-way is
// finished by repeating it. When u sets destinations that leave out one that
// still has hooks, nothing changes and the error is a
// *hook.DestinationInUseError; the check is atomic with the write (a hook
// created meanwhile makes the write re-count). Validating the plan, the
// emails and the destinations is the caller's job.
func (s *Store) UpdateAccount(ctx context.Context, clientID int64, u AccountUpdate) (hook.Account, int, error) {
	a, err := s.updateAccountItem(ctx, clientID, u)
	if err != nil {
		return hook.Account{}, 0, fmt.Errorf("update account %d: %w", clientID, err)
	}
	disabled := 0
	if u.Plan != nil && !a.HasHooks() {
		if disabled, err = s.disableAllHooks(ctx, clientID, hook.Operator, actionPlanDowngraded); err != nil {
			return hook.Account{}, 0, fmt.Errorf("update account %d: downgrade: %w", clientID, err)
		}
	}
	return a, disabled, nil
}

// updateAccountItem writes u to the account item. A change of destinations
// first counts the hooks of the destinations it removes and is then written
// only if no hook was created since (hook_version unchanged), else counted
// again.
func (s *Store) updateAccountItem(ctx context.Context, clientID int64, u AccountUpdate) (hook.Account, error) {
	for attempt := 1; ; attempt++ {
		names := map[string]string{"#modified": attrModifiedAt}
		vals := map[string]types.AttributeValue{":now": attrTime(s.now())}
		set := []string{"#modified = :now"}
		var remove []string
		cond := condExists
		if u.Plan != nil {
			names["#plan"] = attrPlan
			vals[":plan"] = attrS(*u.Plan)
			set = append(set, "#plan = :plan")
		}
		if u.APIAccess != nil {
			names["#noapi"] = attrNoAPIAccess
			if *u.APIAccess {
				remove = append(remove, "#noapi")
			} else {
				vals[":noapi"] = &types.AttributeValueMemberBOOL{Value: true}
				set = append(set, "#noapi = :noapi")
			}
		}
		if u.AutoDisable != nil {
			names["#noauto"] = attrNoAutoDisable
			if *u.AutoDisable {
				remove = append(remove, "#noauto")
			} else {
				vals[":noauto"] = &types.AttributeValueMemberBOOL{Value: true}
				set = append(set, "#noauto = :noauto")
			}
		}
		if u.AlertEmails != nil {
			names["#emails"] = attrAlertEmails
			vals[":emails"] = attrStrings(*u.AlertEmails)
			set = append(set, "#emails = :emails")
		}
		if u.Destinations != nil {
			version, err := s.checkDestinationsRemovable(ctx, clientID, *u.Destinations)
			if err != nil {
				return hook.Account{}, err
			}
			names["#dests"], names["#destIDs"], names["#hv"] = attrDestinations, attrDestinationIDs, attrHookVersion
			vals[":dests"] = encodeDestinations(*u.Destinations)
			set = append(set, "#dests = :dests")
			if ids := destinationIDSet(*u.Destinations); ids != nil {
				vals[":destIDs"] = ids
				set = append(set, "#destIDs = :destIDs")
			} else {
				remove = append(remove, "#destIDs")
			}
			if version == 0 {
				cond += " AND attribute_not_exists(#hv)"
			} else {
				vals[":hv"] = attrN(version)
				cond += " AND #hv = :hv"
			}
		}
		expr := "SET " + strings.Join(set, ", ")
		if len(remove) > 0 {
			expr += " REMOVE " + strings.Join(remove, ", ")
		}
		out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           &s.table,
			Key:                                 key(clientPK(clientID), skAccount),
			UpdateExpression:                    aws.String(expr),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if isConditionFailed(err) {
			if conditionFailedItem(err) == nil {
				return hook.Account{}, hook.ErrNotFound
			}
			if attempt < destinationUpdateAttempts {
				continue // a hook was created meanwhile: count again
			}
			return hook.Account{}, fmt.Errorf("destinations: hooks kept being created: %w", errBusy)
		}
		if err != nil {
			return hook.Account{}, err
		}
		return decodeAccount(out.Attributes)
	}
}

// errBusy means a conditional write kept losing to concurrent writes.
var errBusy = errors.New("item busy")

// checkDestinationsRemovable reads the account and its hooks and returns the
// account's hook_version, a *hook.DestinationInUseError if updated leaves out
// a destination that still has hooks, or hook.ErrNotFound.
func (s *Store) checkDestinationsRemovable(ctx context.Context, clientID int64, updated []hook.Destination) (int64, error) {
	items, err := s.accountAndHookItems(ctx, clientID)
	if err != nil {
		return 0, err
	}
	a, err := decodeAccount(items[0])
	if err != nil {
		return 0, err
	}
	d := itemDecoder{item: items[0]}
	version := d.optInt(attrHookVersion)
	if err := d.result("account"); err != nil {
		return 0, err
	}
	for _, gone := range hook.RemovedDestinations(a.Destinations, updated) {
		n := 0
		for _, it := range items[1:] {
			h, err := decodeHook(it)
			if err != nil {
				return 0, err
			}
			if h.DestinationID == gone {
				n++
			}
		}
		if n > 0 {
			return 0, &hook.DestinationInUseError{DestinationID: gone, Hooks: n}
		}
	}
	return version, nil
}

// AccountWithHooks returns an account and all its hooks, by id ascending,
// with ONE strongly consistent Query (the account item sorts just before the
// hook items), or hook.ErrNotFound.
func (s *Store) AccountWithHooks(ctx context.Context, clientID int64) (hook.Account, []hook.Hook, error) {
	items, err := s.accountAndHookItems(ctx, clientID)
	if err != nil {
		return hook.Account{}, nil, fmt.Errorf("read account %d with hooks: %w", clientID, err)
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

// accountAndHookItems reads the account item and then its hook items with one
// strongly consistent Query, or returns hook.ErrNotFound. The account item is
// read first, so a hook created by a transaction that the account item
// already shows is among the hooks read.
func (s *Store) accountAndHookItems(ctx context.Context, clientID int64) ([]map[string]types.AttributeValue, error) {
	items, err := s.queryClient(ctx, clientID, "sk BETWEEN :first AND :last",
		map[string]types.AttributeValue{":first": attrS(skAccount), ":last": attrS(skHooksLast)})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 || !isSK(items[0], skAccount) {
		return nil, hook.ErrNotFound
	}
	return items, nil
}

// queryClient reads, with strongly consistent Queries to the last page, the
// items of clientID's partition whose sort key meets skCond (written with
// the values in vals).
func (s *Store) queryClient(ctx context.Context, clientID int64, skCond string, vals map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	vals[":pk"] = attrS(clientPK(clientID))
	return s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND " + skCond),
		ExpressionAttributeValues: vals,
		ConsistentRead:            aws.Bool(true),
	})
}

// queryAll runs a Query to its last page and returns every item.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(queryFunc(s.dynamo().Query), in)
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

// accountDenies reports, for an account item read when a condition on it
// failed, why a hook cannot be enabled on it, in this order: hook.ErrNotFound
// if it did not exist, hook.ErrNoAccess if its plan lacks the feature,
// hook.ErrNoDestination if it has no destination; nil otherwise.
func accountDenies(item map[string]types.AttributeValue) error {
	if item == nil {
		return hook.ErrNotFound
	}
	a, err := decodeAccount(item)
	switch {
	case err != nil:
		return err
	case !a.HasHooks():
		return hook.ErrNoAccess
	case len(a.Destinations) == 0:
		return hook.ErrNoDestination
	}
	return nil
}

// accountDeniesHookOf is accountDenies for the creation of a hook of
// destinationID, which must also be one of the account's destinations
// (hook.ErrInvalidDestination, checked last).
func accountDeniesHookOf(item map[string]types.AttributeValue, destinationID int64) error {
	if err := accountDenies(item); err != nil {
		return err
	}
	a, err := decodeAccount(item)
	if err != nil {
		return err
	}
	if !a.HasDestination(destinationID) {
		return hook.ErrInvalidDestination
	}
	return nil
}

// anyDestinationCondition is the condition "the account has at least one
// destination", destinationCondition "destinationID is one of the account's
// destinations"; each adds the names and values it uses to names and vals.
func anyDestinationCondition(names map[string]string) string {
	names["#destIDs"] = attrDestinationIDs
	return "attribute_exists(#destIDs)"
}

func destinationCondition(destinationID int64, names map[string]string, vals map[string]types.AttributeValue) string {
	names["#destIDs"] = attrDestinationIDs
	vals[":destID"] = attrN(destinationID)
	return "contains(#destIDs, :destID)"
}

func encodeDestinations(ds []hook.Destination) types.AttributeValue {
	l := make([]types.AttributeValue, len(ds))
	for i, d := range ds {
		l[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			attrDestID:   attrN(d.ID),
			attrDestType: attrS(d.Type),
		}}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// destinationIDSet is the number set of the ids of ds, nil when ds is empty
// (DynamoDB has no empty sets).
func destinationIDSet(ds []hook.Destination) types.AttributeValue {
	if len(ds) == 0 {
		return nil
	}
	ns := make([]string, len(ds))
	for i, d := range ds {
		ns[i] = strconv.FormatInt(d.ID, 10)
	}
	return &types.AttributeValueMemberNS{Value: ns}
}

func decodeDestinations(d *itemDecoder) []hook.Destination {
	l := d.list(attrDestinations)
	out := make([]hook.Destination, 0, len(l))
	for _, v := range l {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			d.fail(attrDestinations, "entry: want M, got %T", v)
			break
		}
		e := itemDecoder{item: m.Value}
		out = append(out, hook.Destination{ID: e.int(attrDestID), Type: e.str(attrDestType)})
		if e.err != nil {
			d.fail(attrDestinations, "entry: %v", e.err)
		}
	}
	return out
}

func encodeAccount(a hook.Account) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK:           attrS(clientPK(a.ClientID)),
		attrSK:           attrS(skAccount),
		attrClientID:     attrN(a.ClientID),
		attrPlan:         attrS(a.Plan),
		attrAlertEmails:  attrStrings(a.AlertEmails),
		attrDestinations: encodeDestinations(a.Destinations),
		attrHookCount:    attrN(int64(a.HookCount)),
		attrCreatedAt:    attrTime(a.CreatedAt),
		attrModifiedAt:   attrTime(a.ModifiedAt),
	}
	if ids := destinationIDSet(a.Destinations); ids != nil {
		item[attrDestinationIDs] = ids
	}
	if a.NoAPIAccess {
		item[attrNoAPIAccess] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if a.NoAutoDisable {
		item[attrNoAutoDisable] = &types.AttributeValueMemberBOOL{Value: true}
	}
	return item
}

func decodeAccount(item map[string]types.AttributeValue) (hook.Account, error) {
	d := itemDecoder{item: item}
	a := hook.Account{
		ClientID:      d.int(attrClientID),
		Plan:          d.str(attrPlan),
		AlertEmails:   d.strings(attrAlertEmails),
		Destinations:  decodeDestinations(&d),
		HookCount:     int(d.int(attrHookCount)),
		NoAPIAccess:   d.flag(attrNoAPIAccess),
		NoAutoDisable: d.flag(attrNoAutoDisable),
		CreatedAt:     d.time(attrCreatedAt),
		ModifiedAt:    d.time(attrModifiedAt),
	}
	if d.has(attrFreshTables) {
		a.FreshnessTables = d.strings(attrFreshTables)
	}
	if err := d.result("account"); err != nil {
		return hook.Account{}, err
	}
	return a, nil
}
