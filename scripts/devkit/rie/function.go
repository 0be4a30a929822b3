package rie

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

// Options says which function to prepare and how.
type Options struct {
	// Root is the repository root (template.yaml, scripts/build).
	Root string
	// Function is a folder name under functions/ (api) or a logical id
	// (ApiFunction).
	Function string
	// EnvFile is a `sam local invoke --env-vars` file; "" for none.
	EnvFile string
	// Environ is the caller's environment; its AWS_* variables are passed.
	Environ []string
	// Overrides are set last (see Env).
	Overrides map[string]string
	// Logs receives build output, notes, and the emulator's and function's
	// output.
	Logs io.Writer
}

// Function is a function of template.yaml built for this machine, ready to
// be invoked any number of times.
type Function struct {
	// Template is the function as template.yaml declares it.
	Template  samtemplate.Function
	rie       string
	bootstrap string
	env       []string
	logs      io.Writer
}

// Prepare resolves o.Function in template.yaml, computes its environment,
// builds its bootstrap for this machine (scripts/build --arch host) and
// installs the emulator if needed.
func Prepare(ctx context.Context, o Options) (*Function, error) {
	tp, err := samtemplate.Load(filepath.Join(o.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	fn, err := tp.Function(o.Function)
	if err != nil {
		return nil, err
	}
	env, notes, err := Env(tp, fn, o.EnvFile, o.Environ, o.Overrides)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		fmt.Fprintln(o.Logs, "note:", n)
	}
	dir := filepath.Base(filepath.Clean(fn.CodeURI))
	build := exec.CommandContext(ctx, filepath.Join(o.Root, "scripts", "build"), "--arch", "host", dir)
	build.Dir, build.Stdout, build.Stderr = o.Root, o.Logs, o.Logs
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w", dir, err)
	}
	rie, err := Install(ctx, o.Root, o.Logs)
	if err != nil {
		return nil, err
	}
	return &Function{
		Template:  fn,
		rie:       rie,
		bootstrap: filepath.Join(o.Root, ".aws-sam-local", runtime.GOARCH, dir, "bootstrap"),
		env:       env,
		logs:      o.Logs,
	}, nil
}

// Result is one invocation's outcome.
type Result struct {
	Body   []byte // the function's response as the emulator returned it
	Report Report
}

// Invoke starts a fresh emulator for the function, posts event, waits for
// the REPORT line and stops the emulator. logs, when not nil, receives this
// invocation's output instead of the Options' Logs. The invocation may take
// the function's timeout plus 10 s.
func (f *Function) Invoke(ctx context.Context, event []byte, logs io.Writer) (Result, error) {
	if logs == nil {
		logs = f.logs
	}
	em, err := Start(ctx, f.rie, f.bootstrap, f.env, logs)
	if err != nil {
		return Result{}, err
	}
	defer em.Stop()
	body, err := em.Invoke(ctx, event, time.Duration(f.Template.Timeout)*time.Second+10*time.Second)
	if err != nil {
		return Result{Body: body}, err
	}
	rep, err := em.Report(2 * time.Second)
	if err != nil {
		return Result{Body: body}, err
	}
	return Result{Body: body, Report: rep}, nil
}

// RepoRoot is $HOOKS_REPO_ROOT (the wrapper scripts set it) or the folder
// holding go.mod above the working directory.
func RepoRoot(getenv func(string) string) (string, error) {
	if r := getenv("HOOKS_REPO_ROOT"); r != "" {
		return r, nil
	}
	return samtemplate.Root()
}
