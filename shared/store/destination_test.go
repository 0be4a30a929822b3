package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// TestCreateHookDestinationChecks pins the destination refusals of
// CreateHook and their precedence: plan, then "no destination", then
// "not a destination of the account", then duplicate URL, then the limit.
func TestCreateHookDestinationChecks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const (
		withDest = 1
		noDest   = 2
		noPlan   = 3
	)
	f.createAccount(t, withDest, "advanced")
	f.createHook(t, hook.Principal{ClientID: withDest}, "https://dup.example.com/")
	if _, err := f.store.CreateAccount(ctx, hook.Account{ClientID: noDest, Plan: "advanced"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateAccount(ctx, hook.Account{ClientID: noPlan, Plan: "standard"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		clientID int64
		dest     int64
		url      string
		want     error
	}{
		{"no destination", noDest, testDest, "https://a.example.com/", hook.ErrNoDestination},
		{"plan beats no destination", noPlan, testDest, "https://a.example.com/", hook.ErrNoAccess},
		{"another destination", withDest, 999, "https://a.example.com/", hook.ErrInvalidDestination},
		{"invalid destination beats duplicate url", withDest, 999, "https://dup.example.com/", hook.ErrInvalidDestination},
		{"duplicate url on the right destination", withDest, testDest, "https://dup.example.com/", hook.ErrDuplicateURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.CreateHook(ctx, hook.Principal{ClientID: tt.clientID, MemberID: "m"}, tt.dest, tt.url, hook.NewSecret())
			wantErr(t, "CreateHook", err, tt.want)
			if got, want := len(f.hooks(t, tt.clientID)), f.account(t, tt.clientID).HookCount; got != want {
				t.Errorf("hook count %d but %d hooks after a refused create", want, got)
			}
		})
	}
}

// TestRemovingADestinationWithHooksIsRefused: a destination that still has
// hooks (enabled or not) cannot be removed; once its hooks are deleted it
// can.
func TestRemovingADestinationWithHooksIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 8
	p := hook.Principal{ClientID: cid, MemberID: "ana"}
	f.createAccount(t, cid, "advanced")
	h := f.createHook(t, p, "https://a.example.com/")
	if _, err := f.store.SetHookEnabled(ctx, p, h.ID, false); err != nil {
		t.Fatal(err)
	}
	before := f.account(t, cid)

	_, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: 77, Type: "snowflake"}}})
	var inUse *hook.DestinationInUseError
	if !errors.As(err, &inUse) || inUse.DestinationID != testDest || inUse.Hooks != 1 {
		t.Fatalf("UpdateAccount removing a destination with a hook: got %v, want DestinationInUseError{%d, 1}", err, testDest)
	}
	if diff := cmp.Diff(f.account(t, cid), before); diff != "" {
		t.Fatalf("account changed by a refused update (-got +want):\n%s", diff)
	}

	// Keeping it and adding another is fine.
	both := []hook.Destination{{ID: testDest, Type: "s3"}, {ID: 77, Type: "snowflake"}}
	a, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &both})
	if err != nil || !cmp.Equal(a.Destinations, both) {
		t.Fatalf("UpdateAccount adding a destination: %v, %v", a.Destinations, err)
	}
	if _, err := f.store.DeleteHook(ctx, p, h.ID); err != nil {
		t.Fatal(err)
	}
	only77 := []hook.Destination{{ID: 77, Type: "snowflake"}}
	if a, _, err = f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &only77}); err != nil || !cmp.Equal(a.Destinations, only77) {
		t.Fatalf("UpdateAccount removing a destination without hooks: %v, %v", a.Destinations, err)
	}
	_, err = f.store.CreateHook(ctx, p, testDest, "https://b.example.com/", hook.NewSecret())
	wantErr(t, "CreateHook on the removed destination", err, hook.ErrInvalidDestination)
}

// TestDestinationRemovalRacesHookCreation: a create on a destination and the
// removal of that destination, run at the same time, never leave a hook on
// a destination the account no longer has.
func TestDestinationRemovalRacesHookCreation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 15 {
		cid := int64(1000 + i)
		p := hook.Principal{ClientID: cid, MemberID: "ana"}
		f.createAccount(t, cid, "advanced")
		if _, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: testDest, Type: "s3"}, {ID: 2, Type: "s3"}}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var createErr, removeErr error
		wg.Go(func() {
			_, createErr = f.store.CreateHook(ctx, p, testDest, "https://r.example.com/", hook.NewSecret())
		})
		wg.Go(func() {
			_, _, removeErr = f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: 2, Type: "s3"}}})
		})
		wg.Wait()
		a, hooks, err := f.store.AccountWithHooks(ctx, cid)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hooks {
			if !a.HasDestination(h.DestinationID) {
				t.Fatalf("round %d: hook %d on destination %d, account has %v (create: %v, remove: %v)", i, h.ID, h.DestinationID, a.Destinations, createErr, removeErr)
			}
		}
		if (createErr == nil) == (removeErr == nil) {
			t.Fatalf("round %d: create %v and remove %v: exactly one must win", i, createErr, removeErr)
		}
	}
}

// TestStoredBeforeDestinations: an account and a hook stored without the
// destination attributes (as items written before destinations existed)
// read as an account without destinations and a hook without one; the hook
// can be disabled, but re-enabled only once the account has a destination.
func TestStoredBeforeDestinations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 31
	f.createAccount(t, cid, "advanced")
	p := hook.Principal{ClientID: cid, MemberID: "ana"}
	h := f.createHook(t, p, "https://old.example.com/")
	// Strip what this version adds, leaving the items as they were stored.
	for _, strip := range []struct{ sk, expr string }{
		{"#ACCOUNT", "REMOVE destinations, destination_ids, hook_version"},
		{"HOOK#" + leftPad(h.ID), "REMOVE destination_id"},
	} {
		if _, err := f.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(f.table),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "CLIENT#31"},
				"sk": &types.AttributeValueMemberS{Value: strip.sk},
			},
			UpdateExpression: aws.String(strip.expr),
		}); err != nil {
			t.Fatal(err)
		}
	}
	a, hooks, err := f.store.AccountWithHooks(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Destinations) != 0 || len(hooks) != 1 || hooks[0].DestinationID != 0 {
		t.Fatalf("read back: destinations %v, hooks %+v; want none and one hook without destination", a.Destinations, hooks)
	}
	if !hooks[0].SendsLoadsOf(0) || !hooks[0].SendsLoadsOf(555) {
		t.Errorf("a hook without destination must be sent every load of its account")
	}
	if _, err := f.store.SetHookEnabled(ctx, p, h.ID, false); err != nil {
		t.Fatalf("disable: %v", err)
	}
	_, err = f.store.SetHookEnabled(ctx, p, h.ID, true)
	wantErr(t, "enable without a destination", err, hook.ErrNoDestination)
	if _, _, err := f.store.UpdateAccount(ctx, cid, store.AccountUpdate{Destinations: &[]hook.Destination{{ID: 4, Type: "redshift"}}}); err != nil {
		t.Fatalf("add a destination: %v", err)
	}
	if got, err := f.store.SetHookEnabled(ctx, p, h.ID, true); err != nil || !got.Enabled() {
		t.Fatalf("enable with a destination: %+v, %v", got, err)
	}
}

func TestListMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createAccount(t, 3, "advanced")
	f.createAccount(t, 4, "advanced")
	got, err := f.store.ListMembers(ctx, 3)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListMembers of an account without members: %v, %v", got, err)
	}
	var want []hook.Member
	for _, e := range []string{"ana@example.com", "bob@example.com"} {
		m, _, err := f.store.CreateMember(ctx, 3, e)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	if _, _, err := f.store.CreateMember(ctx, 4, "other@example.com"); err != nil {
		t.Fatal(err)
	}
	got, err = f.store.ListMembers(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	byID := func(x, y hook.Member) int { return strings.Compare(x.ID, y.ID) }
	slices.SortFunc(want, byID)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ListMembers, by member id (-got +want):\n%s", diff)
	}
	_, err = f.store.ListMembers(ctx, 999)
	wantErr(t, "ListMembers(999)", err, hook.ErrNotFound)
}
