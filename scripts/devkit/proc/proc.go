// Package proc is the dev kit's process helper: it starts the tools'
// children (functions under aws-lambda-rie or in a pool, the event source,
// the API, a floor server) each in a session of its own, with their output
// in a log file, records their pids for the script that runs the tool, and
// stops them by pid, a crash (SIGKILL) taking every process of the session
// with it. Nothing is ever looked up or signalled by name.
//
// It is a development tool; nothing here runs in Lambda.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one child process in its own session, and so in its own process
// group: the whole group (aws-lambda-rie and the bootstrap it runs, a pool
// of them) can be signalled at once.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
}

// Pid is the process id, which is also its group's and session's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Group starts and stops a tool's children. When PidFile is set every pid
// is also appended to it, so the script that runs the tool can end them even
// if the tool dies.
type Group struct {
	PidFile string
	mu      sync.Mutex
	live    []*Proc
}

// Cmd says what to start.
type Cmd struct {
	Name string   // for messages
	Argv []string // the program and its arguments
	Dir  string   // the working directory; "" is the caller's
	// Env is the whole environment; nil is the caller's.
	Env []string
	// Log is a file the output (stdout and stderr) is appended to; when it
	// is "", the output goes to Output (discarded when nil).
	Log    string
	Output io.Writer
	// Stderr, when set, takes the standard error apart from the output.
	Stderr io.Writer
}

// Start runs c in a session of its own.
func (g *Group) Start(c Cmd) (*Proc, error) {
	if len(c.Argv) == 0 {
		return nil, fmt.Errorf("start %s: no program", c.Name)
	}
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.Stdout, cmd.Stderr = c.Output, c.Output
	if c.Log != "" {
		log, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", c.Name, err)
		}
		defer log.Close()
		cmd.Stdout, cmd.Stderr = log, log
	}
	if c.Stderr != nil {
		cmd.Stderr = c.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	p := &Proc{Name: c.Name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if g.PidFile != "" {
		if f, err := os.OpenFile(g.PidFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintln(f, cmd.Process.Pid)
			f.Close()
		}
	}
	g.mu.Lock()
	g.live = append(g.live, p)
	g.mu.Unlock()
	return p, nil
}

// Kill sends sig to p's process group and waits (bounded) for p to exit.
// With SIGKILL it kills p's whole session: aws-lambda-rie runs each
// bootstrap in a process group of its own, and a bootstrap that outlived
// its emulator would go on delivering after the crash.
func (g *Group) Kill(p *Proc, sig syscall.Signal, wait time.Duration) error {
	if sig == syscall.SIGKILL {
		killSession(p.cmd.Process.Pid)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(wait):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("%s (pid %d) did not exit", p.Name, p.cmd.Process.Pid)
		}
	}
	// The group may outlive its leader for a moment (the bootstrap of a
	// killed RIE): make sure nothing of it is left.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	g.mu.Lock()
	for i, q := range g.live {
		if q == p {
			g.live = append(g.live[:i], g.live[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	return nil
}

// killSession SIGKILLs every process of session sid (a child started with
// Setsid leads the session of its id), found in /proc.
func killSession(sid int) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 3 && f[3] == strconv.Itoa(sid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Stop ends p: SIGTERM to its group, SIGKILL after wait.
func (g *Group) Stop(p *Proc, wait time.Duration) error { return g.Kill(p, syscall.SIGTERM, wait) }

// StopAll ends every live child, newest first (SIGTERM, SIGKILL after 5 s),
// and returns what went wrong.
func (g *Group) StopAll() error {
	g.mu.Lock()
	live := append([]*Proc(nil), g.live...)
	g.mu.Unlock()
	var errs []error
	for i := len(live) - 1; i >= 0; i-- {
		errs = append(errs, g.Stop(live[i], 5*time.Second))
	}
	return errors.Join(errs...)
}

// WaitPort waits until something accepts connections on addr, or p exits.
func WaitPort(p *Proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start", p.Name)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New(p.Name + " did not listen on " + addr)
}

// FreePort returns a loopback TCP port nothing listens on now.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts returns n distinct loopback TCP ports nothing listens on now.
// Each port's listener stays open until all n are taken: one closed before
// the next is asked for can be handed out again (an emulator given the same
// port for two of its servers fails to bind the second).
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
