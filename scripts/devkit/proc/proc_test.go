package proc

import (
	"errors"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
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
	g := &Group{PidFile: filepath.Join(dir, "pids")}
	log := filepath.Join(dir, "log")
	// set -m: the background job gets a process group of its own.
	p, err := g.Start(Cmd{Name: "group", Dir: dir, Log: log, Argv: []string{"bash", "-c", "set -m; sleep 300 & echo $!; wait"}})
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
	if pgid, _ := syscall.Getpgid(child); pgid == p.Pid() {
		t.Fatalf("child %d is in the leader's group; the test needs a group of its own", child)
	}
	if err := g.Kill(p, syscall.SIGKILL, 5*time.Second); err != nil {
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

// A child gets exactly the environment given, its output goes where it is
// told, its pid is recorded, and StopAll ends it.
func TestStartRecordsAndStopAllEnds(t *testing.T) {
	dir := t.TempDir()
	g := &Group{PidFile: filepath.Join(dir, "pids")}
	var out syncbuf.Buffer
	p, err := g.Start(Cmd{Name: "sleeper", Argv: []string{"/bin/sh", "-c", `echo "x=$X home=$HOME"; exec sleep 300`}, Env: []string{"X=1"}, Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); got != "x=1 home=\n" {
		t.Errorf("output %q, want the given environment only", got)
	}
	b, err := os.ReadFile(g.PidFile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(p.Pid()) {
		t.Errorf("pid file holds %q (%v), want %d", b, err, p.Pid())
	}
	if err := WaitPort(p, "127.0.0.1:1", 300*time.Millisecond); err == nil {
		t.Errorf("WaitPort on a port nothing listens on: no error")
	}
	if err := g.StopAll(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("StopAll returned, the child still runs")
	}
	if err := g.StopAll(); err != nil {
		t.Errorf("StopAll again (nothing live): %v", err)
	}
	exits, err := g.Start(Cmd{Name: "exits", Argv: []string{"/bin/true"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitPort(exits, "127.0.0.1:1", 5*time.Second); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitPort of a child that exits: %v, want it to say so", err)
	}
}

func TestFreePorts(t *testing.T) {
	if port, err := FreePort(); err != nil || port <= 0 {
		t.Errorf("FreePort = %d, %v", port, err)
	}
	// Ports taken one after another, each closed before the next, can
	// repeat (here about one pair in 20000); FreePorts' may not.
	ports, err := FreePorts(500)
	if err != nil || len(ports) != 500 {
		t.Fatalf("FreePorts(500) = %d ports, %v", len(ports), err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p <= 0 {
			t.Fatalf("FreePorts(500) repeats or lacks port %d: %v", p, ports)
		}
		seen[p] = true
	}
}
