package memstore_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyTestsImportIt: the in-memory store never runs in Lambda. No
// function's build (its non-test dependencies) reaches this package.
func TestOnlyTestsImportIt(t *testing.T) {
	const self = "github.com/postloadhooks/hooks/shared/store/memstore"
	out, err := exec.Command("go", "list", "-deps", "github.com/postloadhooks/hooks/functions/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		if p == self {
			t.Errorf("a function's build imports %s", self)
		}
	}
}
