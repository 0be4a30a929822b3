package lambdadeps

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

// module is the module path of go.mod.
const module = "github.com/postloadhooks/hooks"

// buildEnv and buildTags are how scripts/build builds a function for
// deployment (provided.al2023 on arm64).
var (
	buildEnv  = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}
	buildTags = "lambda.norpc,nethttpomithttp2"
)

// repoRoot is the repository root.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := samtemplate.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// deps lists the import paths pkg (relative to root, like ./functions/api)
// is built from, test files excluded, as the deployment builds it.
func deps(t *testing.T, root, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", buildTags, "-f", "{{.ImportPath}}", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// devOnly returns the paths of deps that must never be in a Lambda binary:
// the module's scripts/ tree and the testing packages.
func devOnly(deps []string) []string {
	var bad []string
	for _, d := range deps {
		if strings.HasPrefix(d, module+"/scripts/") || d == "testing" || strings.HasPrefix(d, "testing/") {
			bad = append(bad, d)
		}
	}
	return bad
}

// http2Packages returns the deps that are HTTP/2 (net/http's bundled copy
// brings in its header compression, vendor/golang.org/x/net/http2/hpack;
// golang.org/x/net/http2 imported directly brings itself). No function speaks
// HTTP/2 (shared/webhook delivers over HTTP/1.1 only, the AWS SDK's calls
// work over HTTP/1.1) and scripts/build leaves it out with nethttpomithttp2,
// 0.3-0.5 MiB a bootstrap; this keeps an import from bringing it back.
func http2Packages(deps []string) []string {
	var bad []string
	for _, d := range deps {
		p := strings.TrimPrefix(d, "vendor/")
		if p == "golang.org/x/net/http2" || strings.HasPrefix(p, "golang.org/x/net/http2/") {
			bad = append(bad, d)
		}
	}
	return bad
}

// functions lists ./functions/<name> for every folder with a main.go.
func functions(t *testing.T, root string) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, m := range mains {
		pkgs = append(pkgs, "./functions/"+filepath.Base(filepath.Dir(m)))
	}
	return pkgs
}

func TestFunctionsReachNoDevCode(t *testing.T) {
	root := repoRoot(t)
	pkgs := functions(t, root)
	for _, want := range []string{"./functions/alerter", "./functions/api", "./functions/dispatcher"} {
		if !slices.Contains(pkgs, want) {
			t.Fatalf("functions found: %q; want %s among them", pkgs, want)
		}
	}
	for _, pkg := range pkgs {
		t.Run(pkg, func(t *testing.T) {
			d := deps(t, root, pkg)
			if !slices.Contains(d, module+"/shared/store") && !slices.Contains(d, module+"/shared/delivery") {
				t.Fatalf("go list -deps %s lists %d packages without shared/store or shared/delivery: not the function's real dependencies", pkg, len(d))
			}
			if bad := devOnly(d); len(bad) > 0 {
				t.Errorf("%s is built from development code: %q (shared/ is only for code that runs in Lambda; dev and test helpers live under scripts/)", pkg, bad)
			}
			if h2 := http2Packages(d); len(h2) > 0 {
				t.Errorf("%s links HTTP/2 (%q), which no function speaks: build with -tags %s as scripts/build does, and import no HTTP/2 package", pkg, h2, buildTags)
			}
		})
	}
}

// The check finds what it is there to find: packages that import dev code
// or testing, listed the same way.
func TestDevOnlyFindsDevCode(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		pkg  string
		want []string // among what devOnly reports
	}{
		// Test helpers for the emulators: imports testing in a non-test file.
		{"./scripts/devkit/devstack", []string{module + "/scripts/devkit/devstack", "testing"}},
		// A dev command built on the kit.
		{"./scripts/devkit/cmd/resources", []string{module + "/scripts/devkit/cmd/resources", module + "/scripts/devkit/localenv"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			bad := devOnly(deps(t, root, tc.pkg))
			for _, w := range tc.want {
				if !slices.Contains(bad, w) {
					t.Errorf("devOnly(deps of %s) = %q; want it to report %s", tc.pkg, bad, w)
				}
			}
		})
	}
	for _, tc := range []struct {
		deps []string
		want []string
	}{
		{[]string{"fmt", "testing/iotest", module + "/shared/store"}, []string{"testing/iotest"}},
		{[]string{"net/http/httptest", "testingx", module + "/shared/scripts"}, nil},
		{[]string{module + "/scripts/devkit/rie", "testing"}, []string{module + "/scripts/devkit/rie", "testing"}},
	} {
		if got := devOnly(tc.deps); !slices.Equal(got, tc.want) {
			t.Errorf("devOnly(%q) = %q, want %q", tc.deps, got, tc.want)
		}
	}
}

// The HTTP/2 check finds HTTP/2: a function built without nethttpomithttp2
// links net/http's bundled copy, and a direct import is caught too.
func TestHTTP2PackagesFindsHTTP2(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}", "./functions/dispatcher")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps without nethttpomithttp2: %v", err)
	}
	if got := http2Packages(strings.Fields(string(out))); !slices.Contains(got, "vendor/golang.org/x/net/http2/hpack") {
		t.Errorf("http2Packages(dispatcher built without nethttpomithttp2) = %q; want vendor/golang.org/x/net/http2/hpack among them", got)
	}
	for _, tc := range []struct {
		deps []string
		want []string
	}{
		{[]string{"net/http", "vendor/golang.org/x/net/http/httpguts"}, nil},
		{[]string{"golang.org/x/net/http2", "golang.org/x/net/http2/hpack", "golang.org/x/net/http2x"}, []string{"golang.org/x/net/http2", "golang.org/x/net/http2/hpack"}},
		{[]string{"fmt", "vendor/golang.org/x/net/http2/hpack"}, []string{"vendor/golang.org/x/net/http2/hpack"}},
	} {
		if got := http2Packages(tc.deps); !slices.Equal(got, tc.want) {
			t.Errorf("http2Packages(%q) = %q, want %q", tc.deps, got, tc.want)
		}
	}
}
