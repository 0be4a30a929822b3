package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// buildEcho builds testdata/echo as a Lambda bootstrap for this machine and
// returns its path and the emulator (installed into the repository's
// .local/bin on first use, as scripts/invoke does).
func buildEcho(t *testing.T) (rie, bootstrap string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a function and runs aws-lambda-rie")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := RepoRoot(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	rie, err = Install(ctx, root, &logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	bootstrap = filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/echo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build echo: %v\n%s", err, out)
	}
	return rie, bootstrap
}

func TestEmulatorInvoke(t *testing.T) {
	rie, bootstrap := buildEcho(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=EchoFunction", "GREETING=hello"}
	em, err := Start(context.Background(), rie, bootstrap, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Stop()

	body, err := em.Invoke(context.Background(), []byte(`{"echo":"ping","env":["GREETING","NOT_SET"]}`), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Echo string            `json:"echo"`
		Env  map[string]string `json:"env"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	if diff := cmp.Diff(got.Env, map[string]string{"GREETING": "hello", "NOT_SET": ""}); diff != "" || got.Echo != "ping" {
		t.Errorf("echo %q, env (-got +want):\n%s", got.Echo, diff)
	}
	rep, err := em.Report(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duration == "" || rep.InitDuration == "" {
		t.Errorf("report %q: want Duration and Init Duration (first invocation is a cold start)", rep.Line)
	}

	pid := em.cmd.Process.Pid
	em.Stop()
	em.Stop() // twice is fine
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after Stop (kill 0: %v)", pid, err)
	}
}

func TestEmulatorFunctionError(t *testing.T) {
	rie, bootstrap := buildEcho(t)
	em, err := Start(context.Background(), rie, bootstrap, []string{"PATH=" + os.Getenv("PATH")}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Stop()
	// A body the handler cannot decode: the function returns an error, which
	// the emulator answers with 200 and an error document, as Lambda does.
	body, err := em.Invoke(context.Background(), []byte(`{"echo":1}`), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.ErrorType == "" {
		t.Errorf("response %s: want an error document (%v)", body, err)
	}
}

func TestStartMissingBootstrap(t *testing.T) {
	if _, err := Start(context.Background(), "/bin/true", filepath.Join(t.TempDir(), "bootstrap"), nil, &bytes.Buffer{}); err == nil {
		t.Error("Start accepted a missing bootstrap")
	}
}
