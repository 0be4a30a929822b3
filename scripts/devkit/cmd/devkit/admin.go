package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const adminUsage = `usage: scripts/admin COMMAND ARGS  (the local admin API, with scripts/dev's admin token)

  create-account CLIENT_ID [-plan PLAN] [-alert EMAIL]... [-destination ID:TYPE]...
  show CLIENT_ID                   the account
  set-plan CLIENT_ID PLAN          change the plan (a plan without hooks disables them all)
  add-member CLIENT_ID EMAIL       a new member; prints its token (shown this once)
  remove-member CLIENT_ID MEMBER_ID
  hooks CLIENT_ID                  the account's hooks, as its members see them
  members CLIENT_ID                the account's members (never tokens)`

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// destination is one entry of an account's destinations.
type destination struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// adminRequest is one call of the admin API a command makes.
type adminRequest struct {
	method, path string
	body         any
}

// parseAdmin turns a command line into its request.
func parseAdmin(args []string) (adminRequest, error) {
	if len(args) == 0 {
		return adminRequest{}, errors.New(adminUsage)
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	plan := fs.String("plan", "advanced", "the plan (create-account)")
	var alerts, dests list
	fs.Var(&alerts, "alert", "an alert address (create-account; repeatable)")
	fs.Var(&dests, "destination", "ID:TYPE, e.g. 12345:s3 (create-account; repeatable)")
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return adminRequest{}, fmt.Errorf("%w\n%s", err, adminUsage)
	}
	want := map[string]int{"create-account": 1, "show": 1, "set-plan": 2, "add-member": 2, "remove-member": 2, "hooks": 1, "members": 1}
	n, known := want[cmd]
	if !known || len(pos) != n {
		return adminRequest{}, errors.New(adminUsage)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return adminRequest{}, fmt.Errorf("CLIENT_ID %q: want a positive integer", pos[0])
	}
	acct := "/admin/v1/accounts/" + strconv.FormatInt(id, 10)
	switch cmd {
	case "create-account":
		body := map[string]any{"client_id": id, "plan": *plan, "alert_emails": append([]string{}, alerts...)}
		if len(dests) > 0 {
			ds := []destination{}
			for _, d := range dests {
				sid, typ, ok := strings.Cut(d, ":")
				did, err := strconv.ParseInt(sid, 10, 64)
				if !ok || err != nil || did <= 0 || typ == "" {
					return adminRequest{}, fmt.Errorf("-destination %q: want ID:TYPE, e.g. 12345:s3", d)
				}
				ds = append(ds, destination{ID: did, Type: typ})
			}
			body["destinations"] = ds
		}
		return adminRequest{http.MethodPost, "/admin/v1/accounts", body}, nil
	case "show":
		return adminRequest{http.MethodGet, acct, nil}, nil
	case "set-plan":
		return adminRequest{http.MethodPatch, acct, map[string]any{"plan": pos[1]}}, nil
	case "add-member":
		return adminRequest{http.MethodPost, acct + "/members", map[string]any{"email": pos[1]}}, nil
	case "remove-member":
		return adminRequest{http.MethodDelete, acct + "/members/" + pos[1], nil}, nil
	case "hooks":
		return adminRequest{http.MethodGet, acct + "/hooks", nil}, nil
	default: // members
		return adminRequest{http.MethodGet, acct + "/members", nil}, nil
	}
}

// parseInterleaved parses flags wherever they are among the arguments and
// returns the others in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	req, err := parseAdmin(args)
	if err != nil {
		return err
	}
	env, path, err := loadEnv(getenv)
	if err != nil {
		return err
	}
	vals, err := env.Require(path, "HOOKS_API_URL", "HOOKS_ADMIN_TOKEN")
	if err != nil {
		return err
	}
	return doAdmin(ctx, newAPIClient(vals[0], vals[1]), req, stdout)
}

// doAdmin sends req and prints the answer; a new member's token gets a line
// of its own, since it is shown this once.
func doAdmin(ctx context.Context, c apiClient, req adminRequest, stdout io.Writer) error {
	b, err := c.do(ctx, req.method, req.path, req.body)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, pretty(b))
	var m struct {
		Token string `json:"token"`
	}
	if req.method == http.MethodPost && strings.HasSuffix(req.path, "/members") && json.Unmarshal(b, &m) == nil && m.Token != "" {
		fmt.Fprintf(stdout, "token: %s   (shown this once; use it as Authorization: Bearer ...)\n", m.Token)
	}
	return nil
}
