package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKillReachesOtherGroupsOfTheSession: a crash (SIGKILL) ends every
// process of the child's session, also one in a process group of its own
// (as aws-lambda-rie runs each bootstrap), so nothing delivers after it.
func TestKillReachesOtherGroupsOfTheSession(t *testing.T) {
	dir := t.TempDir()
	ps := &procs{pidFile: filepath.Join(dir, "pids")}
	log := filepath.Join(dir, "log")
	// set -m: the background job gets a process group of its own.
	p, err := ps.start("group", dir, log, nil, "bash", "-c", "set -m; sleep 300 & echo $!; wait")
	if err != nil {
		t.Fatal(err)
	}
	var child int
	deadline := time.Now().Add(5 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		b, _ := os.ReadFile(log)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("no child pid")
	}
	if pgid, _ := syscall.Getpgid(child); pgid == p.cmd.Process.Pid {
		t.Fatalf("child %d is in the leader's group; the test needs a group of its own", child)
	}
	if err := ps.kill(p, syscall.SIGKILL, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(child, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if stat, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "stat")); strings.Contains(string(stat), ") Z ") {
			return // killed, waiting to be reaped by init
		}
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("child %d in another group of the session survived the kill", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
