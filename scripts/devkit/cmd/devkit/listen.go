package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/hook"
)

// runListen creates a hook at the built-in receiver (for the demo account,
// or the member whose -token it is), prints each delivery as it arrives and
// deletes the hook when it stops (Ctrl-C).
func runListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	status := fs.Int("status", 200, "the status to answer every delivery with (e.g. 503 to see retries and the alert)")
	delay := fs.Duration("delay", 0, "how long to wait before answering (longer than HOOKS_ATTEMPT_TIMEOUT is a timeout)")
	token := fs.String("token", "", "a member token (default: the demo member's, from the local environment)")
	dest := fs.Int64("destination", 0, "the destination_id of the hook (default: the demo account's first destination, if it has any)")
	keep := fs.Bool("keep", false, "keep the hook when listen stops")
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
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	session := hex.EncodeToString(b)
	hookURL := strings.TrimRight(recvURL, "/") + receiver.HooksPrefix + session

	api := newAPIClient(apiURL, *token)
	body := map[string]any{"type": "post_load", "config": map[string]string{"url": hookURL}}
	if *dest != 0 {
		body["destination_id"] = *dest
	}
	created, err := api.do(ctx, http.MethodPost, hook.APIPath, body)
	if err != nil {
		return fmt.Errorf("create the hook: %w", err)
	}
	var h struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(created, &h); err != nil || h.ID == 0 || h.Secret == "" {
		return fmt.Errorf("create the hook: unexpected answer %s", created)
	}
	if !*keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := api.do(dctx, http.MethodDelete, hook.APIPath+"/"+strconv.FormatInt(h.ID, 10), nil); err != nil {
				fmt.Fprintf(stderr, "listen: delete hook %d: %v\n", h.ID, err)
				return
			}
			fmt.Fprintf(stdout, "deleted hook %d\n", h.ID)
		}()
	}
	answer := receiver.Answer{Status: *status, Delay: *delay}
	n := 0
	return receiver.Listen(ctx, client, recvURL, session, h.Secret, answer, func() {
		fmt.Fprintf(stdout, "listening: hook %d -> %s\n", h.ID, hookURL)
		fmt.Fprintf(stdout, "answering %d after %v; Ctrl-C stops (and deletes the hook)\n", answer.Status, answer.Delay)
		fmt.Fprintln(stdout, "send a load from another terminal:  scripts/sendload")
	}, func(d receiver.Delivery) {
		n++
		printDelivery(stdout, n, h.ID, d)
	})
}

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
