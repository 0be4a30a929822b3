// Command resources creates the service's DynamoDB table and SQS queues on the
// local emulators, from template.yaml, and prints them as shell export lines:
//
//	eval "$(go run ./scripts/devkit/cmd/resources create)"
//
// It only talks to the endpoints named by AWS_ENDPOINT_URL_DYNAMODB and
// AWS_ENDPOINT_URL_SQS and refuses to run without them, so it can never
// create anything on AWS. It does not start the emulators (scripts/stack does).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "resources:", err)
		os.Exit(1)
	}
}

const usage = `usage: devstack create [-table NAME] [-suffix SUFFIX] [-template PATH]

Creates template.yaml's HooksTable (named NAME) and its queues (names with
SUFFIX appended) on the emulators named by AWS_ENDPOINT_URL_DYNAMODB and
AWS_ENDPOINT_URL_SQS; existing ones are kept. Prints export lines for
HOOKS_TABLE and the queue URLs.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("want the create command")
	}
	fs := flag.NewFlagSet("resources create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", "post-load-hooks", "table name")
	suffix := fs.String("suffix", "", "appended to every queue name (the template's NameSuffix)")
	tmpl := fs.String("template", "", "path of template.yaml (default: found from the working directory)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := devstack.CheckEndpoints(getenv, devstack.EnvDynamoDB, devstack.EnvSQS); err != nil {
		return fmt.Errorf("%w; refusing to talk to AWS (eval \"$(scripts/stack env)\" first)", err)
	}
	path := *tmpl
	if path == "" {
		p, err := devstack.TemplatePath()
		if err != nil {
			return err
		}
		path = p
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cfg, err := devstack.LocalConfig(ctx)
	if err != nil {
		return fmt.Errorf("load aws config: %w", err)
	}
	res, err := devstack.CreateAll(ctx, cfg, path, devstack.Names{Table: *table, QueueSuffix: *suffix})
	if err != nil {
		return err
	}
	q := func(u string) string { return localenv.QueueURL(getenv(devstack.EnvSQS), u) }
	for _, kv := range [][2]string{
		{"HOOKS_TABLE", res.Table},
		{"HOOKS_NOTIFICATIONS_QUEUE_URL", q(res.Queues.Notifications)},
		{"HOOKS_RETRY_QUEUE_URL", q(res.Queues.Retry)},
		{"HOOKS_ALERT_QUEUE_URL", q(res.Queues.Alerts)},
		{"HOOKS_DEAD_LETTER_QUEUE_URL", q(res.Queues.NotificationsDLQ)},
		{"HOOKS_RETRY_DLQ_URL", q(res.Queues.RetryDLQ)},
		{"HOOKS_ALERTS_DLQ_URL", q(res.Queues.AlertsDLQ)},
		{"HOOKS_NOTIFICATIONS_QUEUE_ARN", res.Queues.NotificationsARN},
		{"HOOKS_RETRY_QUEUE_ARN", res.Queues.RetryARN},
		{"HOOKS_ALERT_QUEUE_ARN", res.Queues.AlertsARN},
	} {
		fmt.Fprintf(stdout, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
