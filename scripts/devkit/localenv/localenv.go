// Package localenv reads and writes the local environment file: the one
// file (.local/dev.env) in which scripts/dev records the stack it runs
// (ports, endpoints, table and queue names, the admin and demo tokens, the
// built-in receiver), so that every other tool (scripts/stack env, sendload,
// scripts/invoke, scripts/admin, scripts/listen) talks to that stack and no
// other, without the caller exporting anything.
//
// The format is one KEY='value' line per variable (comments start with #),
// which bash can source and scripts/lib/common.sh's local_env reads. Values
// never hold a single quote or a newline, so no escaping is needed. It is a
// development tool; nothing that runs in Lambda reads it.
package localenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// FileName is the file's name in the repository's .local folder.
const FileName = "dev.env"

// EnvVar names another file to use instead (tests, a second checkout).
const EnvVar = "HOOKS_ENV_FILE"

// Env is the file's variables by name.
type Env map[string]string

var namePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// Path is $HOOKS_ENV_FILE, or .local/dev.env under root.
func Path(root string, getenv func(string) string) string {
	if p := getenv(EnvVar); p != "" {
		return p
	}
	return filepath.Join(root, ".local", FileName)
}

// Write replaces the file at path with env (mode 0600: it holds tokens),
// atomically, keys sorted, after a comment line header.
func Write(path, header string, env Env) error {
	var b bytes.Buffer
	for _, line := range strings.Split(header, "\n") {
		fmt.Fprintf(&b, "# %s\n", line)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if !namePattern.MatchString(k) {
			return fmt.Errorf("local env: bad name %q", k)
		}
		if strings.ContainsAny(v, "'\n\r") {
			return fmt.Errorf("local env: %s holds a quote or a newline", k)
		}
		fmt.Fprintf(&b, "%s='%s'\n", k, v)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Read parses the file at path. A missing file is an error satisfying
// errors.Is(err, os.ErrNotExist).
func Read(path string) (Env, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := Env{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !namePattern.MatchString(k) {
			return nil, fmt.Errorf("%s:%d: want KEY='value'", path, n)
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		env[k] = v
	}
	return env, sc.Err()
}

// Load reads the file Path names. ok is false (and err nil) when there is
// no such file: scripts/dev has not run in this checkout.
func Load(root string, getenv func(string) string) (env Env, path string, ok bool, err error) {
	path = Path(root, getenv)
	env, err = Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, path, false, nil
	}
	if err != nil {
		return nil, path, false, err
	}
	return env, path, true, nil
}

// Apply sets every variable of env with setenv (os.Setenv): the file wins
// over what the caller's shell says, so a tool reaches the stack scripts/dev
// runs even from a terminal holding another stack's exports.
func (e Env) Apply(setenv func(k, v string) error) error {
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if err := setenv(k, e[k]); err != nil {
			return err
		}
	}
	return nil
}

// Require returns the values of names, or an error naming every missing one
// and the file.
func (e Env) Require(path string, names ...string) ([]string, error) {
	var missing []string
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = e[n]
		if vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s lacks %s (start scripts/dev)", path, strings.Join(missing, ", "))
	}
	return vals, nil
}

// QueueURL returns the queue URL u on the SQS endpoint's scheme and
// host: goaws answers http://us-east-1.127.0.0.1:4100/..., a host that does
// not resolve (the SDK only uses the path), so printed as is it looks
// broken and cannot be pasted into curl.
func QueueURL(endpoint, u string) string {
	e, err1 := url.Parse(endpoint)
	q, err2 := url.Parse(u)
	if err1 != nil || err2 != nil || e.Host == "" || q.Host == "" {
		return u
	}
	q.Scheme, q.Host = e.Scheme, e.Host
	return q.String()
}
