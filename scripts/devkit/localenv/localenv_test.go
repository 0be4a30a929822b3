package localenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	want := Env{
		"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4150",
		"HOOKS_ADMIN_TOKEN":    "adm_0123",
		"HOOKS_TABLE":          "post-load-hooks",
		"EMPTY":                "",
	}
	if err := Write(path, "written by a test\nsecond line", want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Read after Write (-got +want):\n%s", diff)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (the file holds tokens)", fi.Mode().Perm())
	}
}

func TestWriteRefusesWhatBashCouldMisread(t *testing.T) {
	for _, env := range []Env{{"A": "it's"}, {"A": "two\nlines"}, {"lower": "x"}, {"A B": "x"}} {
		if err := Write(filepath.Join(t.TempDir(), FileName), "h", env); err == nil {
			t.Errorf("Write(%q) succeeded, want an error", env)
		}
	}
}

func TestLoadWithoutFile(t *testing.T) {
	root := t.TempDir()
	env, path, ok, err := Load(root, func(string) string { return "" })
	if err != nil || ok || env != nil {
		t.Errorf("Load = %v, %v, %v; want no file, no error", env, ok, err)
	}
	if want := filepath.Join(root, ".local", FileName); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	other := filepath.Join(root, "other.env")
	if err := Write(other, "h", Env{"A": "1"}); err != nil {
		t.Fatal(err)
	}
	env, path, ok, err = Load(root, func(k string) string {
		if k == EnvVar {
			return other
		}
		return ""
	})
	if err != nil || !ok || path != other || env["A"] != "1" {
		t.Errorf("Load with %s = %v, %q, %v, %v; want the other file", EnvVar, env, path, ok, err)
	}
}

func TestReadRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte("A='1'\nnot a line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("Read = %v, want an error naming line 2", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want ErrNotExist", err)
	}
}

func TestApplyOverridesTheCaller(t *testing.T) {
	set := map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4100"}
	err := Env{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4150"}.Apply(func(k, v string) error { set[k] = v; return nil })
	if err != nil || set["AWS_ENDPOINT_URL_SQS"] != "http://127.0.0.1:4150" {
		t.Errorf("after Apply: %v, %v; want the file's endpoint", set, err)
	}
}

func TestRequireNamesWhatIsMissing(t *testing.T) {
	vals, err := Env{"A": "1", "B": ""}.Require("f", "A")
	if err != nil || vals[0] != "1" {
		t.Errorf("Require(A) = %v, %v", vals, err)
	}
	_, err = Env{"A": "1", "B": ""}.Require("f", "A", "B", "C")
	if err == nil || !strings.Contains(err.Error(), "B, C") {
		t.Errorf("Require(A, B, C) = %v, want an error naming B, C", err)
	}
}

// repoRoot is two folders up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cleanEnv is a shell environment with no HOOKS_* or AWS_* variable: a
// second terminal that sets nothing.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKS_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// A second terminal that sets nothing gets the moved ports and names of the
// file from scripts/stack env, and the bash reader sees what Write wrote.
func TestStackEnvReadsTheFile(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(t.TempDir(), FileName)
	file := Env{
		"HOOKS_DYNAMODB_PORT": "18123", "HOOKS_SQS_PORT": "14123", "HOOKS_SES_PORT": "18124",
		"HOOKS_TABLE":                   "post-load-hooks",
		"HOOKS_NOTIFICATIONS_QUEUE_URL": "http://127.0.0.1:14123/000000000000/post-load-notifications",
		"HOOKS_ADMIN_TOKEN":             "adm_test",
	}
	if err := Write(path, "test", file); err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts", "stack"), args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scripts/stack %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}

	out := run(cleanEnv(EnvVar+"="+path), "env")
	for _, want := range []string{
		"export AWS_ENDPOINT_URL_DYNAMODB='http://127.0.0.1:18123'\n",
		"export AWS_ENDPOINT_URL_SQS='http://127.0.0.1:14123'\n",
		"export AWS_ENDPOINT_URL_SESV2='http://127.0.0.1:18124'\n",
		"export HOOKS_NOTIFICATIONS_QUEUE_URL='http://127.0.0.1:14123/000000000000/post-load-notifications'\n",
		"export HOOKS_ADMIN_TOKEN='adm_test'\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scripts/stack env printed\n%s\nwant a line %q", out, want)
		}
	}

	// Ports the caller moves explicitly name another stack: the file's
	// names and tokens are not that stack's, so they are not printed.
	out = run(cleanEnv(EnvVar+"="+path, "HOOKS_SQS_PORT=14999"), "env")
	if !strings.Contains(out, "export AWS_ENDPOINT_URL_SQS='http://127.0.0.1:14999'\n") || strings.Contains(out, "adm_test") || strings.Contains(out, "HOOKS_TABLE") {
		t.Errorf("scripts/stack env with HOOKS_SQS_PORT=14999 printed\n%s\nwant port 14999 and nothing else from the file", out)
	}

	// --sdk (what the scripts themselves use) prints the SDK's variables only.
	out = run(cleanEnv(EnvVar+"="+path), "env", "--sdk")
	if !strings.Contains(out, "127.0.0.1:18123") || strings.Contains(out, "HOOKS_") {
		t.Errorf("scripts/stack env --sdk printed\n%s\nwant the file's ports and no HOOKS_ variables", out)
	}
}
