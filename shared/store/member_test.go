package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

func TestMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const cid = 116078
	f.createAccount(t, cid, "advanced")
	f.createAccount(t, cid+1, "advanced")

	ana, anaToken, err := f.store.CreateMember(ctx, cid, "ana@example.com")
	if err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	if diff := cmp.Diff(ana, hook.Member{ID: ana.ID, ClientID: cid, Email: "ana@example.com", CreatedAt: f.clock.Now()}); diff != "" {
		t.Errorf("member (-got +want):\n%s", diff)
	}
	if len(ana.ID) != 32 || !strings.HasPrefix(anaToken, hook.TokenPrefix) {
		t.Errorf("member id %q, token %q: want 32 hex characters and a %q token", ana.ID, anaToken, hook.TokenPrefix)
	}
	bob, bobToken, err := f.store.CreateMember(ctx, cid, "bob@example.com")
	if err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	if bob.ID == ana.ID || bobToken == anaToken {
		t.Fatalf("two members share id or token: %q %q", bob.ID, ana.ID)
	}

	t.Run("authenticate", func(t *testing.T) {
		tests := []struct {
			name  string
			token string
			want  hook.Principal
			err   error
		}{
			{"ana", anaToken, hook.Principal{ClientID: cid, MemberID: ana.ID}, nil},
			{"bob", bobToken, hook.Principal{ClientID: cid, MemberID: bob.ID}, nil},
			{"empty", "", hook.Principal{}, hook.ErrUnauthorized},
			{"unknown", hook.NewToken(), hook.Principal{}, hook.ErrUnauthorized},
			{"hash of a token is not a token", hook.HashToken(anaToken), hook.Principal{}, hook.ErrUnauthorized},
			{"changed case", strings.ToUpper(anaToken), hook.Principal{}, hook.ErrUnauthorized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got hook.Principal
				var err error
				ops := f.calls.during(func() { got, err = f.store.Authenticate(ctx, tt.token) })
				if tt.err != nil {
					wantErr(t, "Authenticate", err, tt.err)
				} else if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if got != tt.want {
					t.Errorf("Authenticate: got %+v, want %+v", got, tt.want)
				}
				if tt.token != "" && len(ops) != 1 {
					t.Errorf("Authenticate made DynamoDB calls %v, want one GetItem", ops)
				}
			})
		}
	})

	t.Run("only token hashes are stored", func(t *testing.T) {
		var tokenItems, hashSeen int
		for _, item := range f.scan(t) {
			for _, s := range itemStrings(item) {
				for _, tok := range []string{anaToken, bobToken} {
					secret := strings.TrimPrefix(tok, hook.TokenPrefix)
					if strings.Contains(s, secret) {
						t.Errorf("item %v holds a plain token", item["pk"])
					}
				}
				if strings.Contains(s, hook.HashToken(anaToken)) {
					hashSeen++
				}
			}
			if strings.HasPrefix(pkOf(item), "TOKEN#") {
				tokenItems++
			}
		}
		if tokenItems != 2 {
			t.Errorf("token items: got %d, want 2", tokenItems)
		}
		if hashSeen != 2 { // the token item's key and the member's token_hash
			t.Errorf("values holding ana's token hash: got %d, want 2", hashSeen)
		}
	})

	t.Run("delete revokes at once", func(t *testing.T) {
		if err := f.store.DeleteMember(ctx, cid, ana.ID); err != nil {
			t.Fatalf("DeleteMember: %v", err)
		}
		_, err := f.store.Authenticate(ctx, anaToken)
		wantErr(t, "Authenticate with deleted member's token", err, hook.ErrUnauthorized)
		if p, err := f.store.Authenticate(ctx, bobToken); err != nil || p.MemberID != bob.ID {
			t.Errorf("Authenticate(bob) after ana's delete: %+v, %v", p, err)
		}
		for _, item := range f.scan(t) {
			if pk := pkOf(item); pk == "TOKEN#"+hook.HashToken(anaToken) || strings.Contains(strings.Join(itemStrings(item), " "), ana.ID) {
				t.Errorf("item %s %v left after member delete", pk, item["sk"])
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name     string
			clientID int64
			memberID string
		}{
			{"deleted", cid, ana.ID},
			{"unknown", cid, hook.NewMemberID()},
			{"another account's member", cid + 1, bob.ID},
			{"unknown account", 999, bob.ID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := f.store.DeleteMember(ctx, tt.clientID, tt.memberID)
				wantErr(t, "DeleteMember", err, hook.ErrNotFound)
			})
		}
		if _, err := f.store.Authenticate(ctx, bobToken); err != nil {
			t.Errorf("Authenticate(bob) after refused deletes: %v", err)
		}
		_, tok, err := f.store.CreateMember(ctx, 999, "x@example.com")
		wantErr(t, "CreateMember on unknown account", err, hook.ErrNotFound)
		if tok != "" {
			t.Errorf("CreateMember on unknown account returned token %q", tok)
		}
		for _, item := range f.scan(t) {
			if pk := pkOf(item); pk == "CLIENT#999" {
				t.Errorf("item %s %v written for an unknown account", pk, item["sk"])
			}
		}
	})
}
