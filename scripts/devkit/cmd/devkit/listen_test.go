package main

import (
	"context"
	"encoding/json"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
)

// fakeHooks is the hooks API as listen uses it: create, list, delete.
type fakeHooks struct {
	mu      sync.Mutex
	hooks   map[string]string // id -> url
	created int
}

func (f *fakeHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost:
		var body struct {
			Config struct{ URL string } `json:"config"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.created++
		f.hooks["7"] = body.Config.URL
		w.Write([]byte(`{"id":7,"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`))
	case r.Method == http.MethodGet:
		var list []map[string]any
		for id, u := range f.hooks {
			list = append(list, map[string]any{"id": json.Number(id), "config": map[string]string{"url": u}})
		}
		json.NewEncoder(w).Encode(map[string]any{"post_load": list})
	case r.Method == http.MethodDelete:
		delete(f.hooks, strings.TrimPrefix(r.URL.Path, "/notifications/public/v1/api/hooks/"))
	}
}

// listenUntil runs listen with args until it says it is listening, then
// stops it as Ctrl-C would, and returns what it printed.
func listenUntil(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- runListen(ctx, args, getenv, &out, &out) }()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), "listening: ") {
		select {
		case err := <-done:
			return out.String(), err
		case <-deadline:
			t.Fatalf("listen %v: not listening in 10s; output: %s", args, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	err := <-done
	return out.String(), err
}

// A hook kept with -keep is taken up again by -hook ID, with no second
// hook made; stopped without -keep, it is deleted and forgotten, and a
// third -hook then says so.
func TestListenKeepThenReattach(t *testing.T) {
	root := t.TempDir()
	l, caFile := devstack.Receiver(t, receiver.New())
	api := &fakeHooks{hooks: map[string]string{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	envFile := filepath.Join(root, ".local", localenv.FileName)
	if err := os.MkdirAll(filepath.Dir(envFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := localenv.Write(envFile, "test", localenv.Env{"HOOKS_API_URL": srv.URL, "HOOKS_RECEIVER_URL": l.URL(),
		"HOOKS_RECEIVER_CA_FILE": caFile, "HOOKS_DEMO_TOKEN": "plh_test"}); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "HOOKS_REPO_ROOT" {
			return root
		}
		return ""
	}
	keptFile := filepath.Join(root, ".local", "listen", "hook-7.json")
	exists := func() bool { _, err := os.Stat(keptFile); return err == nil }

	if out, err := listenUntil(t, getenv, "-keep"); err != nil && err != context.Canceled {
		t.Fatalf("listen -keep: %v\n%s", err, out)
	}
	hookURL := api.hooksURL()
	if len(api.hooks) != 1 || api.created != 1 || !exists() || !strings.HasPrefix(hookURL, l.URL()+receiver.HooksPrefix) {
		t.Fatalf("after -keep: %d hooks (%s), %d created, kept file %v; want the one kept at the receiver", len(api.hooks), hookURL, api.created, exists())
	}
	out, err := listenUntil(t, getenv, "-hook", "7")
	if err != nil && err != context.Canceled {
		t.Fatalf("listen -hook 7: %v\n%s", err, out)
	}
	if !strings.Contains(out, "listening: hook 7 -> "+hookURL) || !strings.Contains(out, "deleted hook 7") {
		t.Errorf("listen -hook 7 printed %q, want it to listen to hook 7 at %s and delete it", out, hookURL)
	}
	if api.created != 1 {
		t.Errorf("listen -hook 7 created a hook (%d created), want it taken up again", api.created)
	}
	if len(api.hooks) != 0 || exists() {
		t.Errorf("after listen -hook 7 without -keep: hooks %v, kept file there %v; want both gone", api.hooks, exists())
	}
	if out, err := listenUntil(t, getenv, "-hook", "7"); err == nil || !strings.Contains(err.Error(), "was not kept") {
		t.Errorf("a third listen -hook 7 = %v (%s), want it refused as not kept", err, out)
	}
}

func (f *fakeHooks) hooksURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.hooks {
		return u
	}
	return ""
}
