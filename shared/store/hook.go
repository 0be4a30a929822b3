package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Attributes of the hook, hook url and hook sequence items.
const (
	attrHookItemID  = "id"
	attrHookDestID  = "destination_id"
	attrMaxInFlight = "max_in_flight" // only when operators set it
	attrURL         = "url"
	attrSecret      = "secret"
	attrPrevSecret  = "previous_secret"
	attrPrevUntil   = "previous_secret_expires_at"
	attrDisabledAt  = "disabled_at"
	attrAudit       = "audit"
	attrAuditAt     = "at"
	attrAuditBy     = "by"
	attrAuditDo     = "action"
	attrURLHookID   = "hook_id"
	attrSeqNext     = "next"
)

// Actions of a hook's audit trail (hook.Change.Action).
const (
	actionCreated        = "created"
	actionEnabled        = "enabled"
	actionDisabled       = "disabled"
	actionPlanDowngraded = hook.ActionPlanDowngraded
)

// CreateHook adds an enabled hook of destination destinationID to the
// principal's account and returns it. The limit of hook.MaxHooks hooks, the
// plan, the destination and the uniqueness of the URL are checked atomically
// with the write, so concurrent creates never exceed the limit. It returns,
// in this order of precedence, hook.ErrNotFound (no account),
// hook.ErrNoAccess (the plan lacks the feature), hook.ErrNoDestination (the
// account has none), hook.ErrInvalidDestination (destinationID is not one of
// them), hook.ErrDuplicateURL or hook.ErrLimit. The URL must already be
// validated; it is stored as given.
func (s *Store) CreateHook(ctx context.Context, p hook.Principal, destinationID int64, url, secret string) (hook.Hook, error) {
	id, err := s.nextHookID(ctx, p.ClientID)
	if err != nil {
		return hook.Hook{}, fmt.Errorf("create hook: %w", err)
	}
	now := s.now().UTC()
	h := hook.Hook{
		ID:            id,
		ClientID:      p.ClientID,
		DestinationID: destinationID,
		URL:           url,
		Secret:        secret,
		CreatedAt:     now,
		ModifiedAt:    now,
		Audit:         []hook.Change{{At: now, By: auditBy(p), Action: actionCreated}},
	}
	names := map[string]string{"#count": attrHookCount, "#hv": attrHookVersion}
	vals := map[string]types.AttributeValue{":one": attrN(1), ":max": attrN(hook.MaxHooks)}
	accountCond := condExists + " AND #count < :max AND " + featurePlanCondition(names, vals) +
		" AND " + destinationCondition(destinationID, names, vals)
	const (
		itemAccount = iota
		itemHook
		itemURL
	)
	items := []types.TransactWriteItem{
		itemAccount: {Update: &types.Update{
			TableName:                           &s.table,
			Key:                                 key(clientPK(p.ClientID), skAccount),
			UpdateExpression:                    aws.String("ADD #count :one, #hv :one"),
			ConditionExpression:                 &accountCond,
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		itemHook: s.putNew(encodeHook(h)),
		itemURL:  s.putNew(encodeHookURL(p.ClientID, url, id)),
	}
	err = s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok {
		switch denied := accountDeniesHookOf(c.item(itemAccount), destinationID); {
		case c.conditionFailed(itemAccount) && denied != nil:
			err = denied
		case c.conditionFailed(itemURL):
			err = hook.ErrDuplicateURL
		case c.conditionFailed(itemAccount):
			err = hook.ErrLimit
		}
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("create hook %d: %w", id, err)
	}
	return h, nil
}

// nextHookID takes the next id from the account's hook sequence. Ids only
// grow; an id taken by a create that then fails is never used (gaps are
// allowed), so an id is never reused even after its hook is deleted.
func (s *Store) nextHookID(ctx context.Context, clientID int64) (int64, error) {
	out, err := s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), skHookSeq),
		UpdateExpression:          aws.String("ADD #next :one"),
		ExpressionAttributeNames:  map[string]string{"#next": attrSeqNext},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": attrN(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("next hook id: %w", err)
	}
	d := itemDecoder{item: out.Attributes}
	id := d.int(attrSeqNext)
	if err := d.result("hook sequence"); err != nil {
		return 0, fmt.Errorf("next hook id: %w", err)
	}
	return id, nil
}

// ListHooks returns the hooks of an account by id ascending (an empty slice
// when it has none), or hook.ErrNotFound if the account does not exist. It
// works whatever the plan, so people can clean up after a downgrade.
func (s *Store) ListHooks(ctx context.Context, clientID int64) ([]hook.Hook, error) {
	_, hooks, err := s.AccountWithHooks(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("list hooks: %w", err)
	}
	return hooks, nil
}

// SetHookEnabled enables or disables a hook of the principal's account and
// returns it. Enabling an enabled hook or disabling a disabled one changes
// nothing (disabled_at is kept) and returns the hook. It returns
// hook.ErrNotFound when the account has no such hook, and, when enabling,
// hook.ErrNoAccess if the plan lacks the feature or hook.ErrNoDestination if
// the account has no destination (both checked atomically with the write).
// Disabling is allowed on any plan.
func (s *Store) SetHookEnabled(ctx context.Context, p hook.Principal, id int64, enable bool) (hook.Hook, error) {
	if !enable {
		h, _, err := s.disableHook(ctx, p.ClientID, id, auditBy(p), actionDisabled)
		if err != nil {
			return hook.Hook{}, fmt.Errorf("disable hook %d: %w", id, err)
		}
		return h, nil
	}
	h, err := s.enableHook(ctx, p, id)
	if err != nil {
		return hook.Hook{}, fmt.Errorf("enable hook %d: %w", id, err)
	}
	return h, nil
}

// enableHook is SetHookEnabled(true): one transaction checking the plan and
// clearing disabled_at, then a consistent read of the hook.
func (s *Store) enableHook(ctx context.Context, p hook.Principal, id int64) (hook.Hook, error) {
	now := s.now().UTC()
	accountNames := map[string]string{}
	accountVals := map[string]types.AttributeValue{}
	accountCond := condExists + " AND " + featurePlanCondition(accountNames, accountVals) +
		" AND " + anyDestinationCondition(accountNames)
	const (
		itemAccount = iota
		itemHook
	)
	items := []types.TransactWriteItem{
		itemAccount: {ConditionCheck: &types.ConditionCheck{
			TableName:                           &s.table,
			Key:                                 key(clientPK(p.ClientID), skAccount),
			ConditionExpression:                 &accountCond,
			ExpressionAttributeNames:            accountNames,
			ExpressionAttributeValues:           accountVals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		itemHook: {Update: &types.Update{
			TableName:                           &s.table,
			Key:                                 key(clientPK(p.ClientID), hookSK(id)),
			UpdateExpression:                    aws.String("REMOVE #disabled, #ps, #pq, #pf, " + strings.Join(streakNames(), ", ") + " SET #modified = :now, #audit = list_append(#audit, :change)"),
			ConditionExpression:                 aws.String(condExists + " AND attribute_exists(#disabled)"),
			ExpressionAttributeNames:            withProbeNames(hookChangeNames(), streakNames()...),
			ExpressionAttributeValues:           hookChangeValues(hook.Change{At: now, By: auditBy(p), Action: actionEnabled}),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}
	err := s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok {
		old := c.item(itemHook)
		if c.conditionFailed(itemHook) && old == nil {
			return hook.Hook{}, hook.ErrNotFound
		}
		if c.conditionFailed(itemAccount) {
			if denied := accountDenies(c.item(itemAccount)); denied != nil {
				return hook.Hook{}, denied
			}
		}
		if c.conditionFailed(itemHook) {
			return decodeHook(old) // already enabled: nothing to do
		}
	}
	if err != nil {
		return hook.Hook{}, err
	}
	return s.getHook(ctx, p.ClientID, id)
}

// disableHook disables a hook, appending {by, action} to its audit trail,
// and returns the hook as stored and whether this call disabled it, that is
// whether the hook was enabled. A hook already disabled by a member or a plan
// is returned as it is. One the service holds disabled for failing takes the
// new reason and its probes stop, but it was disabled already: false. It
// returns hook.ErrNotFound if the hook does not exist.
func (s *Store) disableHook(ctx context.Context, clientID, id int64, by, action string) (hook.Hook, bool, error) {
	for {
		h, ok, err := s.writeDisabled(ctx, clientID, id, by, action, "attribute_not_exists(#disabled)")
		if err != nil || ok || h.Probe == nil {
			return h, ok, err
		}
		// Disabled for failing: take the new reason, stop the probes.
		h, ok, err = s.writeDisabled(ctx, clientID, id, by, action, "attribute_exists(#ps)")
		if err != nil || ok || !h.Enabled() {
			return h, false, err
		}
		// A probe enabled it meanwhile: disable it as an enabled hook.
	}
}

// writeDisabled is one conditional write of disableHook: it sets
// disabled_at and removes the probe state if the hook exists and cond holds,
// and returns the hook as written and true, or as it is and false.
func (s *Store) writeDisabled(ctx context.Context, clientID, id int64, by, action, cond string) (hook.Hook, bool, error) {
	now := s.now().UTC()
	vals := hookChangeValues(hook.Change{At: now, By: by, Action: action})
	var out *dynamodb.UpdateItemOutput
	err := retryConflicts(ctx, func() error {
		var err error
		out, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           &s.table,
			Key:                                 key(clientPK(clientID), hookSK(id)),
			UpdateExpression:                    aws.String("SET #disabled = :now, #modified = :now, #audit = list_append(#audit, :change) REMOVE #ps, #pq, #pf"),
			ConditionExpression:                 aws.String(condExists + " AND " + cond),
			ExpressionAttributeNames:            withProbeNames(hookChangeNames()),
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	})
	if isConditionFailed(err) {
		old := conditionFailedItem(err)
		if old == nil {
			return hook.Hook{}, false, hook.ErrNotFound
		}
		h, err := decodeHook(old)
		return h, false, err
	}
	if err != nil {
		return hook.Hook{}, false, err
	}
	h, err := decodeHook(out.Attributes)
	return h, err == nil, err
}

// disableAllHooks disables every enabled hook of an account, recording
// {by, action} in each one's audit trail, and returns how many it disabled.
// A hook disabled for failing takes the new reason (its probes stop) but is
// not counted: it was disabled already. Hooks disabled by a member or a
// plan are left as they are; hooks deleted or disabled meanwhile are
// skipped. None of these is counted.
func (s *Store) disableAllHooks(ctx context.Context, clientID int64, by, action string) (int, error) {
	_, hooks, err := s.AccountWithHooks(ctx, clientID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hooks {
		if !h.Enabled() && h.Probe == nil {
			continue
		}
		_, changed, err := s.disableHook(ctx, clientID, h.ID, by, action)
		if errors.Is(err, hook.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("disable hook %d: %w", h.ID, err)
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// DeleteHook deletes a hook of the principal's account, frees its URL and
// its place in the limit in the same transaction, and returns the deleted
// hook. It returns hook.ErrNotFound when the account has no such hook. It
// works whatever the plan.
func (s *Store) DeleteHook(ctx context.Context, p hook.Principal, id int64) (hook.Hook, error) {
	h, err := s.getHook(ctx, p.ClientID, id)
	if err != nil {
		return hook.Hook{}, fmt.Errorf("delete hook %d: %w", id, err)
	}
	const (
		itemHook = iota
		itemURL
		itemAccount
	)
	items := []types.TransactWriteItem{
		itemHook: s.deleteExisting(clientPK(p.ClientID), hookSK(id)),
		itemURL: {Delete: &types.Delete{
			TableName: &s.table,
			Key:       key(clientPK(p.ClientID), hookURLSK(h.URL)),
			// Never free a URL another hook holds (it cannot, but say so).
			ConditionExpression:       aws.String(condNew + " OR #hookID = :id"),
			ExpressionAttributeNames:  map[string]string{"#hookID": attrURLHookID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": attrN(id)},
		}},
		itemAccount: {Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(clientPK(p.ClientID), skAccount),
			UpdateExpression:          aws.String("ADD #count :minusOne"),
			ConditionExpression:       aws.String(condExists),
			ExpressionAttributeNames:  map[string]string{"#count": attrHookCount},
			ExpressionAttributeValues: map[string]types.AttributeValue{":minusOne": attrN(-1)},
		}},
	}
	err = s.transactWrite(ctx, items)
	if c, ok := cancellationReasons(err); ok && c.conditionFailed(itemHook) {
		err = hook.ErrNotFound // deleted meanwhile
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("delete hook %d: %w", id, err)
	}
	return h, nil
}

// GetHook returns hook id of account clientID, or hook.ErrNotFound when the
// account has no such hook (another account's hook included). It works
// whatever the plan.
func (s *Store) GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error) {
	return s.getHook(ctx, clientID, id)
}

// RotateHookSecret makes secret the signing secret of a hook of the
// principal's account and keeps the secret it replaces as the hook's
// previous secret until overlap from now, with one conditional write. A
// previous secret from an earlier rotation is dropped: at most two secrets
// sign a request. It returns the hook, or hook.ErrNotFound when the account
// has no such hook. It works whatever the plan and whether the hook is
// enabled or not, so a leaked secret can always be replaced. A retry of a
// rotation already applied (its answer lost) returns the hook as that
// rotation left it.
func (s *Store) RotateHookSecret(ctx context.Context, p hook.Principal, id int64, secret string, overlap time.Duration) (hook.Hook, error) {
	now := s.now().UTC()
	names := hookChangeNames()
	delete(names, "#disabled")
	names["#secret"], names["#prev"], names["#prevUntil"] = attrSecret, attrPrevSecret, attrPrevUntil
	vals := hookChangeValues(hook.Change{At: now, By: auditBy(p), Action: hook.ActionSecretRotated})
	vals[":secret"], vals[":until"] = attrS(secret), attrTime(now.Add(overlap))
	var out *dynamodb.UpdateItemOutput
	err := retryConflicts(ctx, func() error {
		var err error
		out, err = s.dynamo().UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table,
			Key:       key(clientPK(p.ClientID), hookSK(id)),
			// Every operand is read from the item as it was before the
			// update, so #prev takes the secret being replaced.
			UpdateExpression: aws.String("SET #prev = #secret, #secret = :secret, #prevUntil = :until, #modified = :now, #audit = list_append(#audit, :change)"),
			// A new secret is 256 random bits: a hook already holding it
			// is this rotation applied by a try whose answer was lost, and
			// must not rotate again (that would make the new secret the
			// previous one too and drop the old secret at once).
			ConditionExpression:                 aws.String(condExists + " AND #secret <> :secret"),
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	})
	if isConditionFailed(err) {
		if old := conditionFailedItem(err); old != nil {
			return decodeHook(old) // our own rotation, already applied
		}
		err = hook.ErrNotFound
	}
	if err != nil {
		return hook.Hook{}, fmt.Errorf("rotate secret of hook %d: %w", id, err)
	}
	return decodeHook(out.Attributes)
}

// getHook reads one hook with a consistent read, or returns hook.ErrNotFound.
func (s *Store) getHook(ctx context.Context, clientID, id int64) (hook.Hook, error) {
	item, err := s.getItem(ctx, clientPK(clientID), hookSK(id))
	if err != nil {
		return hook.Hook{}, fmt.Errorf("get hook %d: %w", id, err)
	}
	if item == nil {
		return hook.Hook{}, hook.ErrNotFound
	}
	return decodeHook(item)
}

// auditBy is the audit name of a principal: its member id, or hook.Operator
// for changes made without a member.
func auditBy(p hook.Principal) string {
	if p.MemberID == "" {
		return hook.Operator
	}
	return p.MemberID
}

// hookURLSK is the sort key of the item that reserves url in its account.
func hookURLSK(url string) string {
	sum := sha256.Sum256([]byte(url))
	return prefixURL + hex.EncodeToString(sum[:])
}

// hookChangeNames and hookChangeValues are the expression names and values
// of the updates that change a hook: "#disabled", "#modified", "#audit",
// ":now" (the change's time) and ":change" (a list holding the audit entry).
func hookChangeNames() map[string]string {
	return map[string]string{"#disabled": attrDisabledAt, "#modified": attrModifiedAt, "#audit": attrAudit}
}

// withProbeNames adds to names the probe attributes' names (#ps, #pq, #pf)
// and those of extra health names: a member's or a plan's change of the
// hook's state removes them.
func withProbeNames(names map[string]string, extra ...string) map[string]string {
	hn := healthNames()
	for _, k := range append([]string{"#ps", "#pq", "#pf"}, extra...) {
		names[k] = hn[k]
	}
	return names
}

func hookChangeValues(c hook.Change) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now":    attrTime(c.At),
		":change": &types.AttributeValueMemberL{Value: []types.AttributeValue{encodeChange(c)}},
	}
}

func encodeHook(h hook.Hook) map[string]types.AttributeValue {
	audit := make([]types.AttributeValue, len(h.Audit))
	for i, c := range h.Audit {
		audit[i] = encodeChange(c)
	}
	item := map[string]types.AttributeValue{
		attrPK:         attrS(clientPK(h.ClientID)),
		attrSK:         attrS(hookSK(h.ID)),
		attrHookItemID: attrN(h.ID),
		attrClientID:   attrN(h.ClientID),
		attrURL:        attrS(h.URL),
		attrSecret:     attrS(h.Secret),
		attrCreatedAt:  attrTime(h.CreatedAt),
		attrModifiedAt: attrTime(h.ModifiedAt),
		attrAudit:      &types.AttributeValueMemberL{Value: audit},
	}
	if h.DisabledAt != nil {
		item[attrDisabledAt] = attrTime(*h.DisabledAt)
	}
	if h.DestinationID != 0 {
		item[attrHookDestID] = attrN(h.DestinationID)
	}
	if h.PreviousSecret != "" {
		item[attrPrevSecret] = attrS(h.PreviousSecret)
		item[attrPrevUntil] = attrTime(h.PreviousSecretExpiresAt)
	}
	if h.MaxInFlight != 0 {
		item[attrMaxInFlight] = attrN(int64(h.MaxInFlight))
	}
	encodeSubscription(item, h)
	return item
}

func decodeHook(item map[string]types.AttributeValue) (hook.Hook, error) {
	d := itemDecoder{item: item}
	h := hook.Hook{
		ID:            d.int(attrHookItemID),
		ClientID:      d.int(attrClientID),
		DestinationID: d.optInt(attrHookDestID),
		URL:           d.str(attrURL),
		Secret:        d.str(attrSecret),
		CreatedAt:     d.time(attrCreatedAt),
		ModifiedAt:    d.time(attrModifiedAt),
		DisabledAt:    d.optTime(attrDisabledAt),
		MaxInFlight:   int(d.optInt(attrMaxInFlight)),
	}
	decodeHealth(&d, &h)
	if d.has(attrPrevSecret) {
		h.PreviousSecret = d.str(attrPrevSecret)
		h.PreviousSecretExpiresAt = d.time(attrPrevUntil)
	}
	decodeSubscription(&d, &h)
	for _, v := range d.list(attrAudit) {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			d.fail(attrAudit, "entry: want M, got %T", v)
			break
		}
		e := itemDecoder{item: m.Value}
		h.Audit = append(h.Audit, hook.Change{
			At:     e.time(attrAuditAt),
			By:     e.str(attrAuditBy),
			Action: e.str(attrAuditDo),
		})
		if e.err != nil {
			d.fail(attrAudit, "entry: %v", e.err)
		}
	}
	if err := d.result("hook"); err != nil {
		return hook.Hook{}, err
	}
	return h, nil
}

func encodeChange(c hook.Change) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		attrAuditAt: attrTime(c.At),
		attrAuditBy: attrS(c.By),
		attrAuditDo: attrS(c.Action),
	}}
}

func encodeHookURL(clientID int64, url string, hookID int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:        attrS(clientPK(clientID)),
		attrSK:        attrS(hookURLSK(url)),
		attrURLHookID: attrN(hookID),
	}
}
