package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the repository, four folders above this package.
var repoRoot = filepath.Join("..", "..", "..", "..")

// TestRepositoryMarkdown is the check itself, on the repository: every
// relative link and anchor resolves, no ".." path, every proved-by name
// is defined where its row says.
func TestRepositoryMarkdown(t *testing.T) {
	root := repoRoot
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	problems, err := check(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err != nil {
		t.Errorf("the repository has no README.md: %v", err)
	}
}

func TestGoodFixturePasses(t *testing.T) {
	problems, err := check(filepath.Join("testdata", "good"))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("good fixture: %q, want no problem", problems)
	}
}

// TestBadFixtureFails: each kind of broken markdown is reported, on its line.
func TestBadFixtureFails(t *testing.T) {
	problems, err := check(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		file, rest, _ := strings.Cut(p, ":")
		line, what, _ := strings.Cut(rest, ": ")
		// keep the file, the line and the first words of each problem
		if i := strings.IndexAny(what, ":"); i > 0 {
			what = what[:i]
		}
		got = append(got, file+":"+line+": "+what)
	}
	want := []string{
		`README.md:3: link "pkg/GONE.md"`,
		`README.md:4: a ".." path`,
		`README.md:4: link "../CONTRACT.md"`,
		`README.md:5: a ".." path`,
		`README.md:6: link "#no-such-heading"`,
		`README.md:7: link "pkg/README.md#no-such-heading"`,
		`README.md:8: link "/scripts/README.md"`,
		`README.md:12: proved by`,
		`README.md:12: proved by`,
		`README.md:12: test TestGone`,
		`README.md:12: test TestX`,
		`README.md:14: test TestMissingInProse`,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("problems (-got +want):\n%s\nall: %q", diff, problems)
	}
	for _, w := range []string{"TestGone is not defined in pkg/thing_test.go", "pkg/missing_test.go: no such file"} {
		if !strings.Contains(strings.Join(problems, "\n"), w) {
			t.Errorf("problems %q: none says %q", problems, w)
		}
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"Queue messages: each from its own queue, bounded, no secrets": "queue-messages-each-from-its-own-queue-bounded-no-secrets",
		"The webhook body (version 1.0)":                               "the-webhook-body-version-10",
		"Running the service: details":                                 "running-the-service-details",
		"`scripts/dev` and [links](x.md)":                              "scriptsdev-and-links",
		"Snake_case stays":                                             "snake_case-stays",
	} {
		if got := anchor(in); got != want {
			t.Errorf("anchor(%q) = %q, want %q", in, got, want)
		}
	}
}
