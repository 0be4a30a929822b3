// Package rie runs a function's bootstrap under AWS's Runtime Interface
// Emulator (aws-lambda-rie) the way `sam local invoke` runs it inside its
// container: one emulator per invocation (so every invocation is a cold
// start with an Init Duration), the environment the template and an
// env-vars file give the function, the event posted to the emulator's invoke
// API, and the emulator's REPORT line kept.
//
// It is the dev kit's one runner of the emulator: scripts/invoke,
// scripts/check-events, the cold starts of scripts/bench, and (through Pool
// and the riepool command) scripts/dev and scripts/chaos use it. It does
// not emulate API Gateway or event sources (package eventsource does the
// SQS one) and it never talks to AWS.
package rie

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/proc"
)

// Module is the pinned emulator (scripts/README.md lists every pin).
const Module = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// ErrNoReport is returned by Emulator.Report when no REPORT line came.
var ErrNoReport = errors.New("no REPORT line from aws-lambda-rie")

// Install returns the path of the pinned emulator, installing it with `go
// install` on first use into <root>/.local/tools/aws-lambda-rie-<version>/,
// the folder scripts/lib/common.sh's rie_install uses: a new pin installs
// anew.
func Install(ctx context.Context, root string, logs io.Writer) (string, error) {
	bin := filepath.Join(root, ".local", "tools", "aws-lambda-rie-"+Module[strings.LastIndexByte(Module, '@')+1:])
	path := filepath.Join(bin, "aws-lambda-rie")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	fmt.Fprintln(logs, "installing", Module)
	cmd := exec.CommandContext(ctx, "go", "install", Module)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0", "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	return path, nil
}

// Report is the emulator's REPORT line for one invocation.
type Report struct {
	Line         string // the whole line
	InitDuration string // e.g. "0.12 ms"; empty on a warm invocation
	Duration     string // e.g. "72.21 ms"
}

// ParseReport reads a REPORT line such as
// "REPORT RequestId: x\tInit Duration: 0.12 ms\tDuration: 72.21 ms\t...".
func ParseReport(line string) (Report, bool) {
	line = strings.TrimRight(line, " \t\r\n")
	if !strings.HasPrefix(line, "REPORT RequestId:") {
		return Report{}, false
	}
	r := Report{Line: line}
	for _, f := range strings.Split(line, "\t") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), ": ")
		if !ok {
			continue
		}
		switch k {
		case "Init Duration":
			r.InitDuration = v
		case "Duration":
			r.Duration = v
		}
	}
	return r, r.Duration != ""
}

// Emulator is one running aws-lambda-rie with its bootstrap.
type Emulator struct {
	cmd     *exec.Cmd
	url     string
	leader  bool // it leads its own process group
	mu      sync.Mutex
	reports int    // REPORT lines seen
	last    Report // the latest of them
	done    chan struct{}
	stopped sync.Once
}

// Start runs the emulator rie on two free loopback ports (its invoke API and
// the Runtime API the bootstrap talks to) in the bootstrap's folder, as
// Lambda runs it in /var/task, in its own process group, with exactly env as
// its environment. Its output and the function's go to logs. The caller must
// call Stop.
func Start(ctx context.Context, rie, bootstrap string, env []string, logs io.Writer) (*Emulator, error) {
	return start(ctx, rie, bootstrap, env, logs, true)
}

// start is Start; with ownGroup false the emulator stays in the caller's
// process group, so that signalling the caller's group (a pool's) reaches it.
func start(ctx context.Context, rie, bootstrap string, env []string, logs io.Writer, ownGroup bool) (*Emulator, error) {
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(2) // the invoke API's and the Runtime API's
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: ownGroup}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	em := &Emulator{cmd: cmd, url: "http://" + addr + InvokePath, leader: ownGroup, done: make(chan struct{})}
	go func() {
		defer close(em.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if r, ok := ParseReport(line); ok {
				em.mu.Lock()
				em.reports++
				em.last = r
				em.mu.Unlock()
			}
		}
		io.Copy(io.Discard, out) // a line too long for the scanner: keep the pipe drained
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return em, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			em.Stop()
			return nil, fmt.Errorf("aws-lambda-rie did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// InvokePath is the path of the emulator's invoke API.
const InvokePath = "/2015-03-31/functions/function/invocations"

// maxResponse bounds a function's response as Lambda does (6 MB).
const maxResponse = 6 << 20

// URL is the emulator's invoke URL.
func (em *Emulator) URL() string { return em.url }

// Invoke posts event and returns the function's response as the emulator
// gives it. The emulator answers 200 for a function that returned an error
// (body {"errorMessage":..,"errorType":..}) or timed out; any other status is
// an error here.
func (em *Emulator) Invoke(ctx context.Context, event []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, body, err := em.post(ctx, event)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return body, fmt.Errorf("invoke: emulator answered %d: %s", status, body)
	}
	return body, nil
}

// post posts event to the invoke API and returns the emulator's status and
// body, whatever the status.
func (em *Emulator) post(ctx context.Context, event []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, em.url, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: %w", err)
	}
	return resp.StatusCode, body, nil
}

// Report waits up to d for the REPORT line of the latest invocation.
func (em *Emulator) Report(d time.Duration) (Report, error) {
	deadline := time.Now().Add(d)
	for {
		em.mu.Lock()
		n, last := em.reports, em.last
		em.mu.Unlock()
		if n > 0 {
			return last, nil
		}
		if time.Now().After(deadline) {
			return Report{}, ErrNoReport
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the emulator and the bootstrap it started: SIGTERM to the
// process group this emulator leads (to the emulator alone when it has no
// group of its own; it stops its bootstrap on SIGTERM), SIGKILL if it
// lingers. It is safe to call more than once.
func (em *Emulator) Stop() {
	em.stopped.Do(func() {
		target := em.cmd.Process.Pid
		if em.leader {
			target = -target
		}
		syscall.Kill(target, syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { em.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(target, syscall.SIGKILL)
			<-exited
		}
		if em.leader {
			syscall.Kill(target, syscall.SIGKILL) // any child left behind
		}
		select {
		case <-em.done:
		case <-time.After(time.Second):
		}
	})
}
