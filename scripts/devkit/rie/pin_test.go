package rie

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The bash scripts (scripts/lib/common.sh) and this package install the
// emulator into the same versioned folder; they must pin the same version.
func TestPinMatchesScripts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "lib", "common.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RIE_MODULE=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("scripts/lib/common.sh sets no RIE_MODULE")
	}
	if got := string(m[1]); got != Module {
		t.Errorf("scripts/lib/common.sh RIE_MODULE = %s, want rie.Module %s", got, Module)
	}
}
