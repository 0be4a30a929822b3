// Command rieinvoke runs one function of template.yaml the way `sam local
// invoke` does, without Docker: it builds the function's bootstrap for this
// machine (scripts/build --arch host), starts AWS's Runtime Interface
// Emulator (aws-lambda-rie, the pinned version, installed on first use) on
// free loopback ports with the environment the template and an env-vars
// file give the function, posts the event, prints the response on stdout and
// the emulator's REPORT line on stderr, and stops the emulator.
//
//	scripts/invoke api events/api-list-hooks.json --env-vars events/env.json
//
// The environment follows SAM: the template's Environment.Variables (values
// that exist only once deployed, like !Ref HooksTable, become ""), then the
// env-vars file's "Parameters" and then its section for the function's
// logical id; plus the caller's AWS_* variables, and what Lambda sets itself
// (AWS_LAMBDA_FUNCTION_NAME, _TIMEOUT, _MEMORY_SIZE, AWS_LAMBDA_LOG_FORMAT).
// One difference, printed as a note: `sam local invoke` drops file variables
// the template does not declare; rieinvoke passes them, so the SDK's
// AWS_ENDPOINT_URL_* can point the function at the local emulators.
//
// It does not emulate API Gateway or event sources; scripts/sqspoll does the
// SQS one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postloadhooks/hooks/shared/samtemplate"
)

// RIEModule is the pinned emulator (SPEC section 8).
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: scripts/invoke FUNCTION EVENT_FILE [--env-vars FILE]  (FUNCTION: api, dispatcher, alerter or a logical id)")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var pos []string
	envFile := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--env-vars" || a == "-n":
			if i+1 >= len(args) {
				return usage()
			}
			envFile = args[i+1]
			i++
		case strings.HasPrefix(a, "--env-vars="):
			envFile = strings.TrimPrefix(a, "--env-vars=")
		case strings.HasPrefix(a, "-"):
			return usage()
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return usage()
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(pos[1])
	if err != nil {
		return err
	}
	res, err := invoke(ctx, root, pos[0], envFile, event, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(res.Body))
	fmt.Fprintln(stderr, res.Report)
	return nil
}

// result is one invocation's outcome.
type result struct {
	Body   []byte
	Report string // the emulator's REPORT line
}

// invoke builds, starts, invokes and stops one function.
func invoke(ctx context.Context, root, name, envFile string, event []byte, logs io.Writer) (result, error) {
	tp, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return result{}, err
	}
	fn, err := tp.Function(name)
	if err != nil {
		return result{}, err
	}
	dir := filepath.Base(filepath.Clean(fn.CodeURI))
	env, notes, err := functionEnv(tp, fn, envFile, os.Environ())
	if err != nil {
		return result{}, err
	}
	for _, n := range notes {
		fmt.Fprintln(logs, "note:", n)
	}
	build := exec.CommandContext(ctx, filepath.Join(root, "scripts", "build"), "--arch", "host", dir)
	build.Dir, build.Stdout, build.Stderr = root, logs, logs
	if err := build.Run(); err != nil {
		return result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	rie, err := ensureRIE(ctx, root, logs)
	if err != nil {
		return result{}, err
	}
	bootstrap := filepath.Join(root, ".aws-sam-local", runtime.GOARCH, dir, "bootstrap")
	em, err := start(ctx, rie, bootstrap, env, logs)
	if err != nil {
		return result{}, err
	}
	defer em.stop()
	body, err := em.invoke(ctx, event, time.Duration(fn.Timeout)*time.Second+10*time.Second)
	if err != nil {
		return result{}, err
	}
	return result{Body: body, Report: em.report(2 * time.Second)}, nil
}

// repoRoot is $HOOKS_REPO_ROOT (scripts/invoke sets it) or the folder
// holding go.mod above the working directory.
func repoRoot() (string, error) {
	if r := os.Getenv("HOOKS_REPO_ROOT"); r != "" {
		return r, nil
	}
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
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// functionEnv is the environment of fn's process, as KEY=VALUE.
func functionEnv(tp *samtemplate.Template, fn samtemplate.Function, envFile string, environ []string) ([]string, []string, error) {
	var file map[string]map[string]any
	if envFile != "" {
		raw, err := os.ReadFile(envFile)
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			return nil, nil, fmt.Errorf("env vars %s: want {\"LogicalId\": {\"NAME\": \"value\"}, \"Parameters\": {...}}: %w", envFile, err)
		}
	}
	params := tp.ParameterDefaults()
	vars := map[string]string{}
	var notes []string
	for k, v := range fn.Environment {
		s, ok := samtemplate.Resolve(v, params)
		if !ok {
			s = ""
		}
		vars[k] = s
	}
	for k, v := range file["Parameters"] {
		if _, declared := fn.Environment[k]; declared {
			vars[k] = fmt.Sprint(v)
		}
	}
	for _, k := range sortedKeys(file[fn.LogicalID]) {
		if _, declared := fn.Environment[k]; !declared && !strings.HasPrefix(k, "AWS_") {
			notes = append(notes, fmt.Sprintf("%s is not declared for %s in template.yaml; sam local invoke would ignore it", k, fn.LogicalID))
		}
		vars[k] = fmt.Sprint(file[fn.LogicalID][k])
	}
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, kv := range environ {
		if strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	lambda := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        fn.LogicalID,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(fn.Timeout),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
	}
	if f, ok := fn.LoggingConfig["LogFormat"].(string); ok {
		lambda["AWS_LAMBDA_LOG_FORMAT"] = f
		if l, ok := samtemplate.Resolve(fn.LoggingConfig["ApplicationLogLevel"], params); ok && l != "" {
			lambda["AWS_LAMBDA_LOG_LEVEL"] = l
		}
	}
	for _, k := range sortedKeys(lambda) {
		out = append(out, k+"="+lambda[k])
	}
	for _, k := range sortedKeys(vars) {
		out = append(out, k+"="+vars[k])
	}
	return out, notes, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ensureRIE installs the pinned emulator into .local/bin on first use.
func ensureRIE(ctx context.Context, root string, logs io.Writer) (string, error) {
	bin := filepath.Join(root, ".local", "bin")
	path := filepath.Join(bin, "aws-lambda-rie")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	fmt.Fprintln(logs, "installing", RIEModule)
	cmd := exec.CommandContext(ctx, "go", "install", RIEModule)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	return path, nil
}

// emulator is a running aws-lambda-rie.
type emulator struct {
	cmd     *exec.Cmd
	url     string
	mu      sync.Mutex
	reports []string
	done    chan struct{}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the emulator on two free loopback ports (its invoke API and the
// Runtime API the bootstrap talks to), in the bootstrap's folder as Lambda
// runs it in /var/task, in its own process group.
func start(ctx context.Context, rie, bootstrap string, env []string, logs io.Writer) (*emulator, error) {
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, err
	}
	invokePort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(invokePort)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	em := &emulator{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	go func() {
		defer close(em.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if strings.HasPrefix(line, "REPORT RequestId:") {
				em.mu.Lock()
				em.reports = append(em.reports, line)
				em.mu.Unlock()
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return em, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			em.stop()
			return nil, fmt.Errorf("aws-lambda-rie did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (em *emulator) invoke(ctx context.Context, event []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, em.url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke: emulator answered %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// report waits up to d for the REPORT line of the last invocation.
func (em *emulator) report(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		em.mu.Lock()
		n := len(em.reports)
		var last string
		if n > 0 {
			last = em.reports[n-1]
		}
		em.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			if last == "" {
				return "REPORT (none seen)"
			}
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the emulator and the bootstrap it started: SIGTERM to the
// process group this emulator leads, SIGKILL if it lingers.
func (em *emulator) stop() {
	pgid := em.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { em.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // any child left behind
	select {
	case <-em.done:
	case <-time.After(time.Second):
	}
}
