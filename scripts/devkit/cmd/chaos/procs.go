package main

import (
	"bytes"
	"errors"
	"fmt"
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

// proc is one child process in its own session (so its whole process group,
// aws-lambda-rie and the bootstrap it runs, can be signalled at once).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// procs starts and stops the tool's children. Every pid is also appended to
// pidFile, so scripts/chaos can end them even if this tool dies.
type procs struct {
	pidFile string
	mu      sync.Mutex
	live    []*proc
}

// start runs argv in dir with env added to the tool's environment, output
// appended to logPath.
func (ps *procs) start(name, dir, logPath string, env []string, argv ...string) (*proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if f, err := os.OpenFile(ps.pidFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintln(f, cmd.Process.Pid)
		f.Close()
	}
	ps.mu.Lock()
	ps.live = append(ps.live, p)
	ps.mu.Unlock()
	return p, nil
}

// kill sends sig to p's process group and waits (bounded) for p to exit.
// With SIGKILL it kills p's whole session: aws-lambda-rie runs each
// bootstrap in a process group of its own, and a bootstrap that outlived
// its emulator would go on delivering after the crash.
func (ps *procs) kill(p *proc, sig syscall.Signal, wait time.Duration) error {
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
			return fmt.Errorf("%s (pid %d) did not exit", p.name, p.cmd.Process.Pid)
		}
	}
	// The group may outlive its leader for a moment (the bootstrap of a
	// killed RIE): make sure nothing of it is left.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	ps.mu.Lock()
	for i, q := range ps.live {
		if q == p {
			ps.live = append(ps.live[:i], ps.live[i+1:]...)
			break
		}
	}
	ps.mu.Unlock()
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

// stopAll ends every live child, newest first.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	live := append([]*proc(nil), ps.live...)
	ps.mu.Unlock()
	for i := len(live) - 1; i >= 0; i-- {
		if err := ps.kill(live[i], syscall.SIGTERM, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
		}
	}
}

// waitPort waits until something accepts connections on addr, or p exits.
func waitPort(p *proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start", p.name)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New(p.name + " did not listen on " + addr)
}
