package samtemplate

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readVars finds the environment variables the Go package in dir reads,
// and the packages of this module it imports (transitively) read: the
// string arguments (constants resolved) of calls to getenv-like functions
// (getenv, os.Getenv, os.LookupEnv, ...) in non-test files, and of calls to
// wrappers of them. A wrapper is a function, method or closure that passes
// one of its string parameters on to a getenv-like call or another wrapper,
// like required := func(name string) string {...} in the same package, or a
// function or method of an imported package of the module (the
// shared/coldstart.Env methods: env := coldstart.NewEnv(getenv);
// env.Required("HOOKS_TABLE")). A method of an imported package counts only
// when called on a variable or parameter of its type, so an unrelated
// x.String("name", ...) is not taken for an environment read.
func readVars(root, dir string) (map[string]bool, error) {
	module, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	s := &envScanner{root: root, module: module, fset: token.NewFileSet(), pkgs: map[string]*envPackage{}}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return nil, err
	}
	p, err := s.load(module + "/" + filepath.ToSlash(rel))
	if err != nil {
		return nil, err
	}
	read := map[string]bool{}
	s.collect(p, read, map[string]bool{})
	return read, nil
}

// modulePath reads the module path from root's go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read go.mod: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	return "", fmt.Errorf("go.mod of %s has no module line", root)
}

type envScanner struct {
	root, module string
	fset         *token.FileSet
	pkgs         map[string]*envPackage // by import path
}

// envPackage is what readVars knows of one package.
type envPackage struct {
	path    string
	files   []*ast.File
	imports []map[string]string       // per file: local name -> import path of this module's packages
	deps    []string                  // this module's packages it imports
	consts  map[string]string         // string constants and variables, by name
	funcs   map[string]int            // wrapper functions and closures -> index of the name parameter
	methods map[string]map[string]int // receiver type -> wrapper method -> index of the name parameter
	ctors   map[string]string         // function -> the type with wrapper methods it returns
	reads   map[string]bool           // variables its own files read
}

// typedVar is a variable of a type of another package with wrapper methods.
type typedVar struct{ pkg, typ string }

// collect adds p's reads and its dependencies' to read.
func (s *envScanner) collect(p *envPackage, read, seen map[string]bool) {
	if seen[p.path] {
		return
	}
	seen[p.path] = true
	for v := range p.reads {
		read[v] = true
	}
	for _, d := range p.deps {
		s.collect(s.pkgs[d], read, seen)
	}
}

// load parses the module's package at path (memoized), its dependencies
// first, and finds its wrappers and reads.
func (s *envScanner) load(path string) (*envPackage, error) {
	if p, ok := s.pkgs[path]; ok {
		return p, nil
	}
	dir := filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(path, s.module), "/")))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read code: %w", err)
	}
	p := &envPackage{path: path, consts: map[string]string{}, funcs: map[string]int{},
		methods: map[string]map[string]int{}, ctors: map[string]string{}, reads: map[string]bool{}}
	depSet := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(s.fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, fmt.Errorf("parse code: %w", err)
		}
		imports := map[string]string{}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			if !strings.HasPrefix(ip, s.module+"/") {
				continue
			}
			local := ip[strings.LastIndex(ip, "/")+1:]
			if im.Name != nil {
				local = im.Name.Name
			}
			imports[local] = ip
			depSet[ip] = true
		}
		p.files = append(p.files, f)
		p.imports = append(p.imports, imports)
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	for d := range depSet {
		if _, err := s.load(d); err != nil {
			return nil, err
		}
		p.deps = append(p.deps, d)
	}
	s.pkgs[path] = p

	for _, f := range p.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if v, ok := stringLit(vs.Values[i]); ok {
							p.consts[name.Name] = v
						}
					}
				}
			}
			return true
		})
	}
	// Wrappers of wrappers: repeat until no new one turns up.
	for s.findWrappers(p) {
	}
	for _, f := range p.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Type.Results == nil || len(fd.Type.Results.List) == 0 {
				continue
			}
			if t := typeName(fd.Type.Results.List[0].Type); p.methods[t] != nil {
				p.ctors[fd.Name.Name] = t
			}
		}
	}
	for i, f := range p.files {
		vars := s.typedVars(f, p.imports[i])
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			idx, ok := s.envCall(p, p.imports[i], vars, call)
			if !ok || idx >= len(call.Args) {
				return true
			}
			name, ok := stringLit(call.Args[idx])
			if !ok {
				if id, isID := call.Args[idx].(*ast.Ident); isID {
					name, ok = p.consts[id.Name]
				}
			}
			if ok && !lambdaReserved(name) {
				p.reads[name] = true
			}
			return true
		})
	}
	return p, nil
}

// findWrappers records p's functions, methods and closures that pass one
// of their parameters to an environment read, and reports whether it found
// a new one.
func (s *envScanner) findWrappers(p *envPackage) bool {
	found := false
	for i, f := range p.files {
		vars := s.typedVars(f, p.imports[i])
		check := func(ft *ast.FuncType, body *ast.BlockStmt) (int, bool) {
			params := map[string]int{}
			n := 0
			for _, field := range ft.Params.List {
				for _, name := range field.Names {
					params[name.Name] = n
					n++
				}
				if len(field.Names) == 0 {
					n++
				}
			}
			idx, ok := -1, false
			ast.Inspect(body, func(node ast.Node) bool {
				call, isCall := node.(*ast.CallExpr)
				if !isCall || ok {
					return !ok
				}
				if a, is := s.envCall(p, p.imports[i], vars, call); is && a < len(call.Args) {
					if id, isID := call.Args[a].(*ast.Ident); isID {
						if pi, isParam := params[id.Name]; isParam {
							idx, ok = pi, true
						}
					}
				}
				return true
			})
			return idx, ok
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch d := n.(type) {
			case *ast.FuncDecl:
				if d.Body == nil {
					return true
				}
				idx, ok := check(d.Type, d.Body)
				if !ok {
					return true
				}
				if d.Recv != nil && len(d.Recv.List) == 1 {
					t := typeName(d.Recv.List[0].Type)
					if p.methods[t] == nil {
						p.methods[t] = map[string]int{}
					}
					if _, had := p.methods[t][d.Name.Name]; !had {
						p.methods[t][d.Name.Name] = idx
						found = true
					}
					return true
				}
				if _, had := p.funcs[d.Name.Name]; !had {
					p.funcs[d.Name.Name] = idx
					found = true
				}
			case *ast.AssignStmt:
				for j, rhs := range d.Rhs {
					lit, ok := rhs.(*ast.FuncLit)
					if !ok || j >= len(d.Lhs) {
						continue
					}
					id, ok := d.Lhs[j].(*ast.Ident)
					if !ok {
						continue
					}
					if idx, ok := check(lit.Type, lit.Body); ok {
						if _, had := p.funcs[id.Name]; !had {
							p.funcs[id.Name] = idx
							found = true
						}
					}
				}
			}
			return true
		})
	}
	return found
}

// typedVars finds f's variables and parameters whose type is a type of an
// imported package of the module with wrapper methods: declared with that
// type (or a pointer to it), or assigned the result of its constructor.
func (s *envScanner) typedVars(f *ast.File, imports map[string]string) map[string]typedVar {
	vars := map[string]typedVar{}
	// dep resolves alias.Name to the imported package of the module and Name.
	dep := func(e ast.Expr) (*envPackage, string, bool) {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return nil, "", false
		}
		alias, ok := sel.X.(*ast.Ident)
		if !ok || imports[alias.Name] == "" {
			return nil, "", false
		}
		p := s.pkgs[imports[alias.Name]]
		return p, sel.Sel.Name, p != nil
	}
	ofType := func(e ast.Expr) (typedVar, bool) {
		if st, ok := e.(*ast.StarExpr); ok {
			e = st.X
		}
		p, name, ok := dep(e)
		if !ok || p.methods[name] == nil {
			return typedVar{}, false
		}
		return typedVar{p.path, name}, true
	}
	fromCtor := func(e ast.Expr) (typedVar, bool) {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return typedVar{}, false
		}
		p, name, ok := dep(call.Fun)
		if !ok || p.ctors[name] == "" {
			return typedVar{}, false
		}
		return typedVar{p.path, p.ctors[name]}, true
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch d := n.(type) {
		case *ast.Field:
			if tv, ok := ofType(d.Type); ok {
				for _, name := range d.Names {
					vars[name.Name] = tv
				}
			}
		case *ast.ValueSpec:
			for i, name := range d.Names {
				if tv, ok := ofType(d.Type); d.Type != nil && ok {
					vars[name.Name] = tv
				} else if i < len(d.Values) {
					if tv, ok := fromCtor(d.Values[i]); ok {
						vars[name.Name] = tv
					}
				}
			}
		case *ast.AssignStmt:
			for i, rhs := range d.Rhs {
				if id, ok := d.Lhs[min(i, len(d.Lhs)-1)].(*ast.Ident); ok {
					if tv, ok := fromCtor(rhs); ok {
						vars[id.Name] = tv
					}
				}
			}
		}
		return true
	})
	return vars
}

// envCall reports whether call reads the environment, and which argument
// names the variable.
func (s *envScanner) envCall(p *envPackage, imports map[string]string, vars map[string]typedVar, call *ast.CallExpr) (int, bool) {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		if getenvLike(fn.Name) {
			return 0, true
		}
		idx, ok := p.funcs[fn.Name]
		return idx, ok
	case *ast.SelectorExpr:
		if getenvLike(fn.Sel.Name) {
			return 0, true
		}
		if x, ok := fn.X.(*ast.Ident); ok {
			if dep := s.pkgs[imports[x.Name]]; dep != nil {
				idx, ok := dep.funcs[fn.Sel.Name]
				return idx, ok
			}
			if tv, ok := vars[x.Name]; ok {
				idx, ok := s.pkgs[tv.pkg].methods[tv.typ][fn.Sel.Name]
				return idx, ok
			}
		}
		// A method of this package's own wrapper (receiver not resolved).
		for _, ms := range p.methods {
			if idx, ok := ms[fn.Sel.Name]; ok {
				return idx, true
			}
		}
		idx, ok := p.funcs[fn.Sel.Name]
		return idx, ok
	}
	return 0, false
}

// getenvLike is getenv, os.Getenv, os.LookupEnv and their kin.
func getenvLike(name string) bool {
	lower := strings.ToLower(name)
	return strings.Contains(lower, "getenv") || lower == "lookupenv"
}

// typeName is T of T or *T.
func typeName(e ast.Expr) string {
	if st, ok := e.(*ast.StarExpr); ok {
		e = st.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// lambdaReserved reports whether Lambda itself sets the variable
// (AWS_REGION, AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_LOG_FORMAT, _HANDLER, ...):
// the template cannot and need not set those.
func lambdaReserved(name string) bool {
	return strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "LAMBDA_") || strings.HasPrefix(name, "_")
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestReadVars runs readVars on a small module: a function package reading
// directly, through a closure, through a package-level wrapper of another
// package and through the methods of another package's type, next to calls
// that only look alike.
func TestReadVars(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"shared/envkit/envkit.go": `package envkit

type Env struct{ getenv func(string) string }

func New(getenv func(string) string) *Env { return &Env{getenv: getenv} }

func (e *Env) lookup(name string) string { return e.getenv(name) }

// Need wraps a wrapper of getenv.
func (e *Env) Need(name string) string { return e.lookup(name) }

func (e *Env) Default(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func (e *Env) Note(msg string) {}

// Flag takes the name second.
func Flag(getenv func(string) string, name string) bool { return getenv(name) != "" }

// Level is read by the package itself.
func Level(getenv func(string) string) string { return getenv("KIT_LEVEL") }
`,
		"functions/fn/main.go": `package main

import (
	"log/slog"
	"os"

	kit "example.com/m/shared/envkit"
)

const queueVar = "FN_QUEUE"

type other struct{}

func (other) Need(string) string { return "" }

func load(getenv func(string) string) {
	env := kit.New(getenv)
	_ = env.Need("FN_TABLE")
	_ = env.Default(queueVar, "q")
	_ = kit.Flag(getenv, "FN_FLAG")
	_ = kit.Level(getenv)
	optional := func(name string) string { return getenv(name) }
	_ = optional("FN_OPTIONAL")
	_ = os.Getenv("FN_DIRECT")
	_ = getenv("AWS_REGION")
	env.Note("NOT_A_VAR")
	slog.String("NOT_A_VAR_EITHER", "x")
	var o other
	_ = o.Need("NOR_THIS")
}

func more(e *kit.Env) { _ = e.Need("FN_PARAM") }

func main() {}
`,
		"functions/fn/main_test.go": `package main

import "os"

var _ = os.Getenv("FN_TEST_ONLY")
`,
	}
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readVars(root, filepath.Join(root, "functions", "fn"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"FN_TABLE": true, "FN_QUEUE": true, "FN_FLAG": true, "KIT_LEVEL": true,
		"FN_OPTIONAL": true, "FN_DIRECT": true, "FN_PARAM": true}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("readVars (-got +want):\n%s", diff)
	}
}
