package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/hook"
)

// runListen creates a hook at the built-in receiver (for the demo account,
// or the member whose -token it is), or with -hook takes up again one that
// an earlier -keep kept, prints each delivery as it arrives and deletes the
// hook when it stops (Ctrl-C), unless -keep.
func runListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	status := fs.Int("status", 200, "the status to answer every delivery with (e.g. 503 to see retries and the alert)")
	delay := fs.Duration("delay", 0, "how long to wait before answering (longer than HOOKS_ATTEMPT_TIMEOUT is a timeout)")
	token := fs.String("token", "", "a member token (default: the demo member's, from the local environment)")
	dest := fs.Int64("destination", 0, "the destination_id of the hook (default: the demo account's first destination, if it has any)")
	keep := fs.Bool("keep", false, "keep the hook when listen stops (a later listen -hook ID takes it up again)")
	reattach := fs.Int64("hook", 0, "take up the hook of this id that an earlier listen -keep kept, rather than create one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *status < 200 || *status > 599 {
		return fmt.Errorf("-status %d: want 200 to 599", *status)
	}
	env, path, err := loadEnv(getenv)
	if err != nil {
		return err
	}
	vals, err := env.Require(path, "HOOKS_API_URL", "HOOKS_RECEIVER_URL", "HOOKS_RECEIVER_CA_FILE")
	if err != nil {
		return err
	}
	apiURL, recvURL, caFile := vals[0], vals[1], vals[2]
	if *token == "" {
		*token = env["HOOKS_DEMO_TOKEN"]
		if *token == "" {
			return fmt.Errorf("%s has no HOOKS_DEMO_TOKEN: give -token", path)
		}
		if *dest == 0 && env["HOOKS_DEMO_CLIENT_ID"] != "" && env["HOOKS_ADMIN_TOKEN"] != "" {
			*dest = firstDestination(ctx, newAPIClient(apiURL, env["HOOKS_ADMIN_TOKEN"]), env["HOOKS_DEMO_CLIENT_ID"])
		}
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("the receiver's CA: %w (is scripts/dev running?)", err)
	}
	client, err := receiver.ClientFor(ca)
	if err != nil {
		return err
	}
	api := newAPIClient(apiURL, *token)
	kept := keptHooks{dir: filepath.Join(filepath.Dir(path), "listen")}
	var h keptHook
	if *reattach != 0 {
		if h, err = kept.load(*reattach); err != nil {
			return err
		}
		if err := stillThere(ctx, api, h); err != nil {
			return err
		}
	} else if h, err = createHook(ctx, api, recvURL, *dest); err != nil {
		return err
	}
	if *keep {
		if err := kept.save(h); err != nil {
			return err
		}
	} else {
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := api.do(dctx, http.MethodDelete, hook.APIPath+"/"+strconv.FormatInt(h.ID, 10), nil); err != nil {
				fmt.Fprintf(stderr, "listen: delete hook %d: %v\n", h.ID, err)
				return
			}
			kept.forget(h.ID)
			fmt.Fprintf(stdout, "deleted hook %d\n", h.ID)
		}()
	}
	answer := receiver.Answer{Status: *status, Delay: *delay}
	n := 0
	return receiver.Listen(ctx, client, recvURL, h.Session, h.Secret, answer, func() {
		fmt.Fprintf(stdout, "listening: hook %d -> %s\n", h.ID, h.URL)
		if *keep {
			fmt.Fprintf(stdout, "answering %d after %v; Ctrl-C stops and keeps the hook (listen -hook %d takes it up again)\n", answer.Status, answer.Delay, h.ID)
		} else {
			fmt.Fprintf(stdout, "answering %d after %v; Ctrl-C stops (and deletes the hook)\n", answer.Status, answer.Delay)
		}
		fmt.Fprintln(stdout, "send a load from another terminal:  scripts/sendload")
	}, func(d receiver.Delivery) {
		n++
		printDelivery(stdout, n, h.ID, d)
	})
}

// keptHook is what listen needs to take a hook up again: the receiver
// session its URL names and the secret that verifies its deliveries.
type keptHook struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	Session string `json:"session"`
	Secret  string `json:"secret"`
}

// createHook creates a hook of the token's account at a new session of the
// receiver.
func createHook(ctx context.Context, api apiClient, recvURL string, dest int64) (keptHook, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return keptHook{}, err
	}
	h := keptHook{Session: hex.EncodeToString(b)}
	h.URL = strings.TrimRight(recvURL, "/") + receiver.HooksPrefix + h.Session
	body := map[string]any{"type": "post_load", "config": map[string]string{"url": h.URL}}
	if dest != 0 {
		body["destination_id"] = dest
	}
	created, err := api.do(ctx, http.MethodPost, hook.APIPath, body)
	if err != nil {
		return keptHook{}, fmt.Errorf("create the hook: %w", err)
	}
	if err := json.Unmarshal(created, &h); err != nil || h.ID == 0 || h.Secret == "" {
		return keptHook{}, fmt.Errorf("create the hook: unexpected answer %s", created)
	}
	return h, nil
}

// stillThere checks that the token's account still has the kept hook, at
// the same URL.
func stillThere(ctx context.Context, api apiClient, h keptHook) error {
	b, err := api.do(ctx, http.MethodGet, hook.APIPath, nil)
	if err != nil {
		return fmt.Errorf("list the hooks: %w", err)
	}
	var list struct {
		PostLoad []struct {
			ID     int64 `json:"id"`
			Config struct {
				URL string `json:"url"`
			} `json:"config"`
		} `json:"post_load"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("list the hooks: unexpected answer %s", b)
	}
	for _, x := range list.PostLoad {
		if x.ID == h.ID && x.Config.URL == h.URL {
			return nil
		}
	}
	return fmt.Errorf("hook %d is no longer a hook of this account at %s", h.ID, h.URL)
}

// keptHooks is the folder beside the local environment file where -keep
// leaves each kept hook (its secret included: local runs only, git-ignored).
type keptHooks struct{ dir string }

func (k keptHooks) file(id int64) string {
	return filepath.Join(k.dir, "hook-"+strconv.FormatInt(id, 10)+".json")
}

func (k keptHooks) save(h keptHook) error {
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return os.WriteFile(k.file(h.ID), b, 0o600)
}

func (k keptHooks) load(id int64) (keptHook, error) {
	b, err := os.ReadFile(k.file(id))
	if errors.Is(err, fs.ErrNotExist) {
		return keptHook{}, fmt.Errorf("hook %d was not kept by listen -keep (no %s)", id, k.file(id))
	}
	if err != nil {
		return keptHook{}, err
	}
	var h keptHook
	if err := json.Unmarshal(b, &h); err != nil || h.ID != id || h.Session == "" || h.Secret == "" {
		return keptHook{}, fmt.Errorf("%s: not a kept hook", k.file(id))
	}
	return h, nil
}

func (k keptHooks) forget(id int64) { _ = os.Remove(k.file(id)) }

// firstDestination is the id of the account's first destination, or 0 when
// it has none (or the account cannot be read).
func firstDestination(ctx context.Context, admin apiClient, clientID string) int64 {
	b, err := admin.do(ctx, http.MethodGet, "/admin/v1/accounts/"+clientID, nil)
	if err != nil {
		return 0
	}
	var a struct {
		Destinations []destination `json:"destinations"`
	}
	if json.Unmarshal(b, &a) != nil || len(a.Destinations) == 0 {
		return 0
	}
	return a.Destinations[0].ID
}

// printDelivery writes one delivery for a terminal: headers, body, the
// signature check and the answer.
func printDelivery(w io.Writer, n int, hookID int64, d receiver.Delivery) {
	fmt.Fprintf(w, "\n--- delivery %d at %s: POST %s\n", n, d.At.Format(time.RFC3339), d.Path)
	names := make([]string, 0, len(d.Header))
	for k := range d.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(w, "%s: %s\n", strings.ToLower(k), strings.Join(d.Header[k], ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, pretty([]byte(d.Body)))
	if d.Verified {
		fmt.Fprintf(w, "signature: verified with hook %d's secret\n", hookID)
	} else {
		fmt.Fprintf(w, "signature: NOT verified: %s\n", d.Problem)
	}
	fmt.Fprintf(w, "answered: %d after %v\n", d.Answer.Status, d.Answer.Delay)
}
