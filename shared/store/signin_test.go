package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/shared/signin"
)

// TestSignInSecretsStoredAsHashes: the store's items never hold a sign-in
// link's token or the address it was sent to (the contract's sign-in tests
// run on DynamoDB Local and memstore alike, in contract_signin_test.go).
func TestSignInSecretsStoredAsHashes(t *testing.T) {
	f := newFixture(t)
	token, err := f.store.CreateSignInLink(ctx, "hash@example.com", signin.LinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range f.scan(t) {
		for name, v := range it {
			if strings.Contains(strings.ToLower(fmtValue(v)), strings.ToLower(token)) || strings.Contains(fmtValue(v), "hash@example.com") {
				t.Errorf("attribute %s holds the token or the address", name)
			}
		}
	}
}

// fmtValue prints an attribute value with what it holds.
func fmtValue(v any) string { return fmt.Sprintf("%+v", v) }
