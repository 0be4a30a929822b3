// Package samtemplate reads the service's SAM template (template.yaml) into
// plain Go values, so tests can check what the template promises and dev
// tools can run a function with the settings the template gives it.
//
// CloudFormation's short-form intrinsic tags (!Ref, !GetAtt, !Sub, ...) are
// rewritten to their long JSON forms ({"Ref": x}, {"Fn::GetAtt": [r, a]},
// {"Fn::Sub": s}), so callers meet one form only. It does not validate the
// template against the SAM specification, expand the SAM transform or
// deploy anything; it resolves only the intrinsics a local run can resolve.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FunctionType is the SAM resource type of a Lambda function.
const FunctionType = "AWS::Serverless::Function"

// Template is a parsed SAM template.
type Template struct {
	FormatVersion string
	Transform     string
	Parameters    map[string]map[string]any
	Conditions    map[string]any
	Globals       map[string]any
	Resources     map[string]Resource
	// ResourceOrder is the logical ids of Resources in file order.
	ResourceOrder []string
	Outputs       map[string]map[string]any
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Condition  string // the name of the condition it is created under; "" for always
	Properties map[string]any
	Metadata   map[string]any
}

// Function is an AWS::Serverless::Function with Globals.Function applied
// (a property set on the function wins over the global one, as in SAM).
type Function struct {
	LogicalID     string
	CodeURI       string
	Runtime       string
	Handler       string
	Architectures []string
	Timeout       int // seconds; SAM's default is 3
	MemorySize    int // MB; SAM's default is 128
	BuildMethod   string
	// Environment is Environment.Variables, values in long intrinsic form.
	Environment map[string]any
	// LoggingConfig is the global one with the function's keys over it
	// (SAM merges maps of Globals).
	LoggingConfig map[string]any
	// Role is the logical id of the AWS::IAM::Role the function's Role
	// names with !GetAtt (empty when SAM makes the role).
	Role string
	// Policies are the function's own Policies and, with a Role of the
	// template, the policy documents of that role's Policies.
	Policies []any
	// ManagedPolicies are the ManagedPolicyArns of the function's Role.
	ManagedPolicies []any
	Events          map[string]Event
}

// Event is one entry of a function's Events.
type Event struct {
	Type       string
	Properties map[string]any
}

// ErrInvalid is wrapped by every error about the template's content.
var ErrInvalid = errors.New("invalid template")

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return Parse(raw)
}

// Parse parses a template. It fails on YAML errors, unknown "!" tags, a
// missing or empty Resources section and resources without a Type.
func Parse(raw []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%w: empty document", ErrInvalid)
	}
	v, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is not a mapping", ErrInvalid)
	}
	t := &Template{
		Parameters: map[string]map[string]any{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]map[string]any{},
	}
	t.FormatVersion, _ = top["AWSTemplateFormatVersion"].(string)
	t.Transform, _ = top["Transform"].(string)
	t.Globals, _ = top["Globals"].(map[string]any)
	t.Conditions, _ = top["Conditions"].(map[string]any)
	for name, p := range asMap(top["Parameters"]) {
		t.Parameters[name] = asMap(p)
	}
	for name, o := range asMap(top["Outputs"]) {
		t.Outputs[name] = asMap(o)
	}
	res, ok := top["Resources"].(map[string]any)
	if !ok || len(res) == 0 {
		return nil, fmt.Errorf("%w: no Resources", ErrInvalid)
	}
	for id, r := range res {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: resource %s is not a mapping", ErrInvalid, id)
		}
		typ, _ := m["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("%w: resource %s has no Type", ErrInvalid, id)
		}
		cond, _ := m["Condition"].(string)
		t.Resources[id] = Resource{Type: typ, Condition: cond, Properties: asMap(m["Properties"]), Metadata: asMap(m["Metadata"])}
	}
	t.ResourceOrder = keysInOrder(doc.Content[0], "Resources")
	return t, nil
}

// keysInOrder returns the keys of the mapping under key in mapping node m,
// in file order.
func keysInOrder(m *yaml.Node, key string) []string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		v := m.Content[i+1]
		for v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		var keys []string
		for j := 0; j+1 < len(v.Content); j += 2 {
			keys = append(keys, v.Content[j].Value)
		}
		return keys
	}
	return nil
}

// intrinsic maps short tags to their long forms.
var intrinsic = map[string]string{
	"!Ref": "Ref", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!FindInMap": "Fn::FindInMap",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Base64": "Fn::Base64",
	"!Cidr": "Fn::Cidr", "!Condition": "Condition", "!Transform": "Fn::Transform",
}

func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		long, ok := intrinsic[n.Tag]
		if !ok {
			return nil, fmt.Errorf("%w: line %d: unknown tag %s", ErrInvalid, n.Line, n.Tag)
		}
		plain := *n
		plain.Tag = ""
		v, err := convert(&plain)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && long == "Fn::GetAtt" {
			// !GetAtt Res.Attr is [Res, Attr] in the long form.
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("%w: line %d: !GetAtt %q needs Resource.Attribute", ErrInvalid, n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{long: v}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%w: line %d: duplicate key %s", ErrInvalid, n.Content[i].Line, k)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalid, n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%w: line %d: unexpected node", ErrInvalid, n.Line)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Functions returns the template's functions, sorted by logical id.
func (t *Template) Functions() []Function {
	global := asMap(asMap(t.Globals)["Function"])
	var out []Function
	for id, r := range t.Resources {
		if r.Type != FunctionType {
			continue
		}
		p := func(k string) any {
			if v, ok := r.Properties[k]; ok {
				return v
			}
			return global[k]
		}
		f := Function{
			LogicalID:     id,
			CodeURI:       str(p("CodeUri")),
			Runtime:       str(p("Runtime")),
			Handler:       str(p("Handler")),
			Timeout:       intOr(p("Timeout"), 3),
			MemorySize:    intOr(p("MemorySize"), 128),
			BuildMethod:   str(r.Metadata["BuildMethod"]),
			Environment:   map[string]any{},
			LoggingConfig: map[string]any{},
			Events:        map[string]Event{},
		}
		for _, a := range asSlice(p("Architectures")) {
			f.Architectures = append(f.Architectures, str(a))
		}
		for k, v := range asMap(global["LoggingConfig"]) {
			f.LoggingConfig[k] = v
		}
		for k, v := range asMap(r.Properties["LoggingConfig"]) {
			f.LoggingConfig[k] = v
		}
		// SAM merges Globals' variables with the function's own.
		for k, v := range asMap(asMap(global["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		f.Policies = asSlice(r.Properties["Policies"])
		if f.Policies == nil && r.Properties["Policies"] != nil {
			f.Policies = []any{r.Properties["Policies"]}
		}
		if role, _, ok := GetAtt(r.Properties["Role"]); ok && t.Resources[role].Type == "AWS::IAM::Role" {
			f.Role = role
			rp := t.Resources[role].Properties
			for _, pol := range asSlice(rp["Policies"]) {
				f.Policies = append(f.Policies, asMap(pol)["PolicyDocument"])
			}
			f.ManagedPolicies = asSlice(rp["ManagedPolicyArns"])
		}
		for name, e := range asMap(r.Properties["Events"]) {
			em := asMap(e)
			f.Events[name] = Event{Type: str(em["Type"]), Properties: asMap(em["Properties"])}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Function returns the function with the given logical id or whose CodeUri
// folder's base name is name (so "api" finds CodeUri functions/api).
func (t *Template) Function(name string) (Function, error) {
	for _, f := range t.Functions() {
		if f.LogicalID == name || path.Base(path.Clean(f.CodeURI)) == name {
			return f, nil
		}
	}
	return Function{}, fmt.Errorf("function %s: not in template", name)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int, float64, bool:
		return fmt.Sprint(x)
	}
	return ""
}

func intOr(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	return def
}

// Ref returns the target of {"Ref": x}.
func Ref(v any) (string, bool) {
	m := asMap(v)
	if len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// GetAtt returns the resource and attribute of {"Fn::GetAtt": [r, a]}.
func GetAtt(v any) (resource, attribute string, ok bool) {
	m := asMap(v)
	if len(m) != 1 {
		return "", "", false
	}
	s := asSlice(m["Fn::GetAtt"])
	if len(s) != 2 {
		return "", "", false
	}
	r, ok1 := s[0].(string)
	a, ok2 := s[1].(string)
	return r, a, ok1 && ok2
}

// Sub returns the string of {"Fn::Sub": s} (the one-argument form).
func Sub(v any) (string, bool) {
	m := asMap(v)
	if len(m) != 1 {
		return "", false
	}
	s, ok := m["Fn::Sub"].(string)
	return s, ok
}

// ParameterDefaults returns every parameter's Default as a string.
func (t *Template) ParameterDefaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Parameters {
		if d, ok := p["Default"]; ok {
			out[name] = str(d)
		}
	}
	return out
}

// Resolve turns a value into the string a local run would see: scalars as
// they are, {"Ref": P} of a parameter in params, and {"Fn::Sub": s} whose
// variables are all in params. ok is false for anything else (a Ref to a
// resource, a GetAtt, other functions), which exists only once deployed.
func Resolve(v any, params map[string]string) (string, bool) {
	switch x := v.(type) {
	case string, int, float64, bool:
		return str(x), true
	case nil:
		return "", true
	}
	if r, ok := Ref(v); ok {
		p, found := params[r]
		return p, found
	}
	if s, ok := Sub(v); ok {
		var b strings.Builder
		for {
			i := strings.Index(s, "${")
			if i < 0 {
				b.WriteString(s)
				return b.String(), true
			}
			j := strings.Index(s[i:], "}")
			if j < 0 {
				return "", false
			}
			p, found := params[s[i+2:i+j]]
			if !found {
				return "", false
			}
			b.WriteString(s[:i])
			b.WriteString(p)
			s = s[i+j+1:]
		}
	}
	return "", false
}

// Root returns the repository root, where template.yaml lives: the folder
// holding go.mod at or above the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
