package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// scripts/dev runs DynamoDB Local on a data folder (HOOKS_DYNAMODB_DBPATH)
// so a restart keeps the accounts: this starts one the same way, through
// scripts/stack on a port of its own, makes an account, restarts it and
// reads the account back.
func TestRestartKeepsTheAccount(t *testing.T) {
	cfg := devstack.AWSConfig(t) // the emulators are installed (or the test is skipped, never under scripts/test)
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := append(os.Environ(), "HOOKS_DYNAMODB_PORT="+port, "HOOKS_DYNAMODB_DBPATH="+t.TempDir(),
		"HOOKS_ENV_FILE="+filepath.Join(t.TempDir(), "none.env"))
	stack := func(args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts", "stack"), args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scripts/stack %v: %v\n%s", args, err, out)
		}
	}
	stack("start", "dynamodb")
	t.Cleanup(func() { stack("stop", "dynamodb") })

	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:" + port)
		o.DisableValidateResponseChecksum = true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl, err := devstack.TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	if err := devstack.CreateTable(ctx, db, tmpl, "post-load-hooks"); err != nil {
		t.Fatal(err)
	}
	s := store.New(db, "post-load-hooks", time.Now)
	if _, err := s.CreateAccount(ctx, hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: []string{"ops@example.com"}}); err != nil {
		t.Fatal(err)
	}

	stack("restart", "dynamodb")

	got, err := s.Account(ctx, 116078)
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if got.Plan != "advanced" || len(got.AlertEmails) != 1 {
		t.Errorf("after a restart the account is %+v, want the one created", got)
	}
}
