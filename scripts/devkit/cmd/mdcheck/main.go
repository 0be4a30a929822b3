// Command mdcheck checks the markdown files of the repository: every
// relative link reaches a file of the repository (and, with a #fragment, a
// heading of that file), no file names a path with a ".." segment (so none
// refers outside the repository), and every name in a "proved by" table
// is defined in the Go file the row names (and every `TestName` named
// anywhere is a test of the repository). It prints one line per problem
// and exits 1 when there is any; go test ./scripts/devkit/cmd/mdcheck runs the same
// check on the repository, so scripts/test does.
//
// It does not check links to other sites, and reads only markdown.
package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	problems, err := check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mdcheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// skipDirs are folders whose markdown is not the repository's own: tools,
// build output, and test fixtures (which break the rules on purpose).
var skipDirs = []string{".git", ".local", "node_modules", "testdata", ".aws-sam", ".aws-sam-local"}

// check returns the problems of every markdown file under root, each as
// "file:line: what".
func check(root string) ([]string, error) {
	docs := map[string]*doc{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && slices.Contains(skipDirs, d.Name()) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			doc, err := readDoc(p)
			if err != nil {
				return err
			}
			docs[filepath.ToSlash(rel)] = doc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tests, err := testFuncs(root)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		for _, p := range docs[name].problems(root, name, docs) {
			problems = append(problems, name+":"+p)
		}
		for _, p := range docs[name].unknownTests(tests) {
			problems = append(problems, name+":"+p)
		}
	}
	return problems, nil
}

var (
	testRef  = regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Z0-9_][A-Za-z0-9_]*)`")
	testDecl = regexp.MustCompile(`(?m)^func\s+((?:Test|Fuzz|Benchmark)[A-Z0-9_][A-Za-z0-9_]*)\s*\(`)
)

// testFuncs is the set of test, fuzz and benchmark functions declared in
// the _test.go files under root (test fixtures included).
func testFuncs(root string) (map[string]bool, error) {
	funcs := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == ".git" || d.Name() == ".local" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range testDecl.FindAllStringSubmatch(string(data), -1) {
			funcs[m[1]] = true
		}
		return nil
	})
	return funcs, err
}

// unknownTests lists the `TestName`s (and Fuzz, Benchmark) that d names
// anywhere, prose included, and that no test file declares.
func (d *doc) unknownTests(tests map[string]bool) []string {
	var out []string
	for i, line := range d.lines {
		for _, m := range testRef.FindAllStringSubmatch(line, -1) {
			if !tests[m[1]] {
				out = append(out, fmt.Sprintf("%d: test %s: no test file of the repository declares it", i+1, m[1]))
			}
		}
	}
	return out
}

// doc is one markdown file: its lines and the anchors of its headings.
type doc struct {
	lines   []string
	code    []bool // the line is inside a fenced code block
	anchors map[string]bool
}

func readDoc(p string) (*doc, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	d := &doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	fenced := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fence := strings.HasPrefix(strings.TrimSpace(line), "```")
		if fence {
			fenced = !fenced
		}
		d.lines = append(d.lines, line)
		d.code = append(d.code, fenced || fence)
		if !fenced && !fence {
			if m := headingLine.FindStringSubmatch(line); m != nil {
				a := anchor(m[1])
				if n := seen[a]; n > 0 {
					d.anchors[fmt.Sprintf("%s-%d", a, n)] = true
				} else {
					d.anchors[a] = true
				}
				seen[a]++
			}
		}
	}
	return d, sc.Err()
}

var (
	headingLine = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	// parentDir is a ".." path segment: "../" not preceded by a dot, so
	// the ellipsis in ".../hooks" is not one.
	parentDir  = regexp.MustCompile(`(^|[^.])\.\./|(^|[^.])\.\.\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink    = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	linkInText = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// anchor is the fragment GitHub gives a heading: lower case, punctuation
// dropped (letters, digits, spaces, "-" and "_" kept), spaces as "-".
func anchor(heading string) string {
	heading = linkInText.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// problems lists what is wrong with the doc named name (its path from
// root, slash-separated).
func (d *doc) problems(root, name string, docs map[string]*doc) []string {
	var out []string
	add := func(i int, format string, args ...any) {
		out = append(out, fmt.Sprintf("%d: %s", i+1, fmt.Sprintf(format, args...)))
	}
	for i, line := range d.lines {
		if parentDir.MatchString(line) {
			add(i, `a ".." path: nothing may refer outside the repository, and links inside it are written from the root ("/scripts/README.md") or downwards`)
		}
		if d.code[i] {
			continue
		}
		text := codeSpan.ReplaceAllString(line, "``")
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
		if m := refLink.FindStringSubmatch(text); m != nil {
			targets = append(targets, m[1])
		}
		for _, t := range targets {
			if msg := checkLink(root, name, t, d, docs); msg != "" {
				add(i, "link %q: %s", t, msg)
			}
		}
		if row, ok := provedByRow(d, i); ok {
			for _, msg := range checkProvedBy(root, row) {
				add(i, "proved by: %s", msg)
			}
		}
	}
	return out
}

// checkLink says what is wrong with link target t of doc name, or "".
func checkLink(root, name, t string, d *doc, docs map[string]*doc) string {
	if scheme.MatchString(t) {
		return "" // another site: not checked
	}
	target, frag, _ := strings.Cut(t, "#")
	if target == "" {
		if !d.anchors[frag] {
			return "no heading of this file has that anchor"
		}
		return ""
	}
	var rel string
	if strings.HasPrefix(target, "/") {
		rel = path.Clean(strings.TrimPrefix(target, "/"))
	} else {
		rel = path.Join(path.Dir(name), target)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "outside the repository"
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
		return "no such file in the repository"
	}
	if frag != "" {
		other, ok := docs[rel]
		if !ok {
			return "a #fragment on a file that is not markdown"
		}
		if !other.anchors[frag] {
			return "no heading of " + rel + " has that anchor"
		}
	}
	return ""
}

// provedByRow returns the last cell of line i when it is a row of a table
// whose header is "| guarantee | proved by |".
func provedByRow(d *doc, i int) (string, bool) {
	line := strings.TrimSpace(d.lines[i])
	if d.code[i] || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "| ---") {
		return "", false
	}
	for j := i - 1; j >= 0; j-- {
		h := strings.TrimSpace(d.lines[j])
		if !strings.HasPrefix(h, "|") {
			return "", false
		}
		if strings.HasPrefix(h, "| guarantee | proved by |") {
			if j == i {
				return "", false
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			return cells[len(cells)-1], true
		}
	}
	return "", false
}

var (
	goName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	fileName = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
)

// checkProvedBy checks one "proved by" cell: each `path` it names exists,
// and each `Name` after a `file.go` (in the same ";"-separated part) is
// defined in that file.
func checkProvedBy(root, cell string) []string {
	var out []string
	for _, part := range strings.Split(cell, ";") {
		out = append(out, checkProvedByPart(root, part)...)
	}
	return out
}

// checkProvedByPart checks one ";"-separated part of a "proved by" cell.
func checkProvedByPart(root, part string) []string {
	var out []string
	file, src := "", ""
	for _, m := range codeSpan.FindAllString(part, -1) {
		tok := strings.Trim(m, "`")
		switch {
		case strings.Contains(tok, "/") && fileName.MatchString(tok):
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tok)))
			if err != nil && !isDir(filepath.Join(root, filepath.FromSlash(tok))) {
				out = append(out, tok+": no such file or folder")
			}
			file, src = "", ""
			if strings.HasSuffix(tok, ".go") && err == nil {
				file, src = tok, string(data)
			}
		case file != "" && goName.MatchString(tok):
			if !defines(src, tok) {
				out = append(out, fmt.Sprintf("%s is not defined in %s", tok, file))
			}
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// defines reports whether Go source src declares name at its top level
// (a function, method, variable, constant or type).
func defines(src, name string) bool {
	q := regexp.QuoteMeta(name)
	re := regexp.MustCompile(`(?m)^(func\s+(\([^)]*\)\s*)?` + q + `\s*[\[(]|(var|const|type)\s+` + q + `\b)`)
	return re.MatchString(src)
}
