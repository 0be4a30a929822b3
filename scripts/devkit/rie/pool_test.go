package rie

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoReply is what testdata/echo answers.
type echoReply struct {
	Echo string `json:"echo"`
	Pid  int    `json:"pid"`
	// The function's own start and end (Unix nanoseconds).
	StartedNs int64 `json:"started_ns"`
	EndedNs   int64 `json:"ended_ns"`
}

func newEchoPool(t *testing.T, size int) *Pool {
	t.Helper()
	rie, bootstrap := buildEcho(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=EchoFunction", "AWS_LAMBDA_FUNCTION_TIMEOUT=30"}
	var logs bytes.Buffer
	p, err := NewPool(rie, bootstrap, env, size, 40*time.Second, &logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("emulators' output:\n%s", logs.String())
		}
	})
	return p
}

// invokeHTTP posts an event to the pool's invoke API as scripts/devkit/cmd/eventsource does.
func invokeHTTP(t *testing.T, url, event string) (int, echoReply) {
	t.Helper()
	resp, err := http.Post(url+InvokePath, "application/json", bytes.NewBufferString(event))
	if err != nil {
		t.Error(err)
		return 0, echoReply{}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	var r echoReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Errorf("response %d %q: %v", resp.StatusCode, body, err)
	}
	return resp.StatusCode, r
}

// span is when one invocation ran, as the function measured it.
type span struct{ from, till time.Time }

// maxOverlap is the most spans open at one moment.
func maxOverlap(spans []span) int {
	type edge struct {
		at   time.Time
		open int
	}
	var es []edge
	for _, s := range spans {
		es = append(es, edge{s.from, 1}, edge{s.till, -1})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].at.Equal(es[j].at) {
			return es[i].open < es[j].open // a close before an open at the same instant
		}
		return es[i].at.Before(es[j].at)
	})
	n, most := 0, 0
	for _, e := range es {
		n += e.open
		most = max(most, n)
	}
	return most
}

// TestPoolRunsInvocationsConcurrentlyWithinSize: aws-lambda-rie serves one
// invocation at a time, the pool several, each on its own emulator, never
// more than its size, and warm emulators are reused.
func TestPoolRunsInvocationsConcurrentlyWithinSize(t *testing.T) {
	const size, calls = 3, 5
	p := newEchoPool(t, size)
	srv := httptest.NewServer(p)
	defer srv.Close()

	round := func() []span {
		var mu sync.Mutex
		var spans []span
		pids := map[int]bool{}
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				status, r := invokeHTTP(t, srv.URL, fmt.Sprintf(`{"echo":"e%d","sleep_ms":1500}`, i))
				if status != http.StatusOK || r.Echo != fmt.Sprintf("e%d", i) {
					t.Errorf("invocation %d: status %d, echo %q", i, status, r.Echo)
				}
				mu.Lock()
				defer mu.Unlock()
				// The function's own run, as it measured it: the caller's
				// receipt of an answer can lag behind the next invocation
				// on the same emulator, so the caller's clock would
				// overlap two runs that did not.
				spans = append(spans, span{time.Unix(0, r.StartedNs), time.Unix(0, r.EndedNs)})
				pids[r.Pid] = true
			})
		}
		wg.Wait()
		if len(pids) > size {
			t.Errorf("%d distinct function processes served the calls, want at most %d", len(pids), size)
		}
		return spans
	}
	spans := round()
	if got := maxOverlap(spans); got < 2 || got > size {
		t.Errorf("at most %d invocations ran at once, want 2 to %d (concurrent, within the size)", got, size)
	}
	if got := p.Started(); got > size {
		t.Errorf("pool started %d emulators, want at most %d", got, size)
	}
	before := p.Started()
	round()
	if got := p.Started(); got != before {
		t.Errorf("second round started %d more emulators, want 0 (warm ones reused)", got-before)
	}
}

// TestPoolReplacesAnExitedEmulator: an emulator that died between
// invocations is replaced; the event is not lost.
func TestPoolReplacesAnExitedEmulator(t *testing.T) {
	p := newEchoPool(t, 1)
	srv := httptest.NewServer(p)
	defer srv.Close()
	if status, _ := invokeHTTP(t, srv.URL, `{"echo":"one"}`); status != http.StatusOK {
		t.Fatalf("first invocation: status %d", status)
	}
	p.mu.Lock()
	em := p.idle[0]
	p.mu.Unlock()
	if err := em.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-em.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed emulator's output never closed")
	}
	status, r := invokeHTTP(t, srv.URL, `{"echo":"two"}`)
	if status != http.StatusOK || r.Echo != "two" {
		t.Errorf("after the emulator died: status %d, echo %q, want 200 and two", status, r.Echo)
	}
	if got := p.Started(); got != 2 {
		t.Errorf("pool started %d emulators, want 2 (the dead one replaced)", got)
	}
}

// TestPoolEmulatorsShareTheCallersGroupAndClose: the emulators are in the
// caller's process group (a signal to the group reaches them) and Close
// ends every one of them.
func TestPoolEmulatorsShareTheCallersGroupAndClose(t *testing.T) {
	p := newEchoPool(t, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if status, _, err := p.Invoke(t.Context(), []byte(`{"echo":"x","sleep_ms":500}`)); err != nil || status != http.StatusOK {
				t.Errorf("invoke: status %d, %v", status, err)
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	var pids []int
	for em := range p.live {
		pids = append(pids, em.cmd.Process.Pid)
	}
	p.mu.Unlock()
	if len(pids) != 2 {
		t.Fatalf("%d live emulators, want 2", len(pids))
	}
	for _, pid := range pids {
		pgid, err := syscall.Getpgid(pid)
		if err != nil || pgid != syscall.Getpgrp() {
			t.Errorf("emulator %d is in process group %d (%v), want the caller's %d", pid, pgid, err, syscall.Getpgrp())
		}
	}
	p.Close()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("emulator %d still runs after Close (kill 0: %v)", pid, err)
		}
	}
	if _, _, err := p.Invoke(t.Context(), []byte(`{}`)); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Invoke after Close: %v, want ErrPoolClosed", err)
	}
}
