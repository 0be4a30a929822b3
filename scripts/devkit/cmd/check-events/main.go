// Command check-events runs every sample event of events/ the way `sam local
// invoke` would and checks each result against events/expect.json:
//
//	scripts/check-events [-v] [-expect FILE]
//
// It creates a fresh, uniquely named table and queue set from template.yaml
// on the emulators named by AWS_ENDPOINT_URL_DYNAMODB, _SQS and _SESV2 (it
// refuses to run without them, so it never touches AWS), starts an HTTPS
// hook receiver on loopback for the dispatcher, then runs expect.json's steps
// in order: a seed step writes data (through shared/store where it can), an
// event step runs the function's bootstrap under aws-lambda-rie (package
// rie; environment from template.yaml, events/env.json, the caller's AWS_*,
// and this run's table, queues, endpoints and receiver CA), posts the event
// and checks the result: status, headers and body of API responses,
// batchItemFailures of SQS responses, webhooks received, dead letters, mail.
// It prints one PASS/FAIL line per event with the REPORT line's Init
// Duration and Duration, then "N passed, M failed", and exits 1 on any
// failure. An event file without a step fails too, so no sample goes
// unchecked. It deletes what it created and stops what it started.
//
// It does not start the emulators (scripts/stack, scripts/test do).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/inbox"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
	"github.com/postloadhooks/hooks/shared/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errFailed) { // failures are already reported
			fmt.Fprintln(os.Stderr, "check-events:", err)
		}
		os.Exit(1)
	}
}

// errFailed means at least one event failed (already reported).
var errFailed = errors.New("some events failed")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every invocation's output, not only a failed one's")
	expectPath := fs.String("expect", "", "expectations file (default events/expect.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := devstack.CheckEndpoints(getenv, devstack.EnvDynamoDB, devstack.EnvSQS, devstack.EnvSESv2); err != nil {
		return fmt.Errorf("%w; refusing to talk to AWS (eval \"$(scripts/stack env)\" first)", err)
	}
	root, err := rie.RepoRoot(getenv)
	if err != nil {
		return err
	}
	eventsDir := filepath.Join(root, "events")
	if *expectPath == "" {
		*expectPath = filepath.Join(eventsDir, "expect.json")
	}
	exp, err := loadExpectations(*expectPath)
	if err != nil {
		return err
	}
	files, err := eventFiles(eventsDir)
	if err != nil {
		return err
	}

	r, err := newRunner(ctx, root, exp.ClientID, getenv, stderr)
	if err != nil {
		return err
	}
	defer r.close()
	r.verbose = *verbose

	passed, failed := 0, 0
	report := func(ok bool) {
		if ok {
			passed++
		} else {
			failed++
		}
	}
	steps := exp.Steps
	for i, s := range steps {
		if s.Seed != nil {
			if err := r.seed.apply(ctx, *s.Seed); err != nil {
				fmt.Fprintf(stdout, "FAIL  seed step %d: %v\n", i+1, err)
				report(false)
				for _, rest := range steps[i+1:] {
					if rest.Event != "" {
						fmt.Fprintf(stdout, "FAIL  %-10s %s: not run (seeding failed)\n", rest.Function, rest.Event)
						report(false)
					}
				}
				break
			}
			continue
		}
		report(r.runEvent(ctx, stdout, s))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	covered := exp.events()
	for _, f := range files {
		if !covered[f] {
			fmt.Fprintf(stdout, "FAIL  %-10s %s: no step in events/expect.json\n", "-", f)
			report(false)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return errFailed
	}
	return nil
}

// eventFiles lists the sample events: events/*.json but env.json and
// expect.json.
func eventFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if b := filepath.Base(p); b != "env.json" && b != "expect.json" {
			out = append(out, b)
		}
	}
	return out, nil
}

// runner holds one run's resources.
type runner struct {
	root      string
	envFile   string
	tp        *samtemplate.Template
	overrides map[string]string
	environ   []string
	logs      io.Writer
	verbose   bool

	db         *dynamodb.Client
	sqs        *sqs.Client
	res        devstack.Resources
	queueNames []string
	tmp        string
	receiver   *receiver
	mail       inbox.Reader
	seed       *seeder
	funcs      map[string]*rie.Function
}

func newRunner(ctx context.Context, root string, clientID int64, getenv func(string) string, logs io.Writer) (_ *runner, err error) {
	r := &runner{root: root, envFile: filepath.Join(root, "events", "env.json"), logs: logs, funcs: map[string]*rie.Function{}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	r.tp, err = samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	cfg, err := devstack.LocalConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	r.db, r.sqs = devstack.NewDynamoDB(cfg), sqs.NewFromConfig(cfg)
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b)
	names := devstack.Names{Table: "check-events-" + id, QueueSuffix: "-ce" + id}
	// Record the names first: close deletes whatever part was created.
	r.res.Table = names.Table
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	defs, err := devstack.QueueInputs(filepath.Join(root, "template.yaml"), names.QueueSuffix)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		r.queueNames = append(r.queueNames, d.Name)
	}
	res, err := devstack.CreateAll(setupCtx, cfg, filepath.Join(root, "template.yaml"), names)
	if err != nil {
		return nil, err
	}
	r.res = res

	r.tmp, err = os.MkdirTemp("", "check-events-")
	if err != nil {
		return nil, err
	}
	r.receiver, err = startReceiver(r.tmp)
	if err != nil {
		return nil, err
	}
	r.mail = inbox.New(getenv(devstack.EnvSESv2))
	r.seed = &seeder{
		clientID: clientID, receiver: r.receiver, eventsDir: filepath.Join(r.root, "events"),
		store:   store.New(r.db, res.Table, time.Now),
		storeAt: func(now func() time.Time) *store.Store { return store.New(r.db, res.Table, now) },
	}

	// What the deployed stack would give the functions, here: this run's
	// resources, and the emulators' endpoints from the caller.
	r.overrides = map[string]string{
		"HOOKS_TABLE":                 res.Table,
		"HOOKS_RETRY_QUEUE_URL":       res.Queues.Retry,
		"HOOKS_ALERT_QUEUE_URL":       res.Queues.Alerts,
		"HOOKS_DEAD_LETTER_QUEUE_URL": res.Queues.NotificationsDLQ,
		"HOOKS_ALERTS_DLQ_URL":        res.Queues.AlertsDLQ,
		"HOOKS_ALLOW_PRIVATE_TARGETS": "true",
		"HOOKS_EXTRA_CA_FILE":         r.receiver.caFile,
	}
	r.environ = []string{"AWS_REGION=" + devstack.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}
	for _, v := range []string{devstack.EnvDynamoDB, devstack.EnvSQS, devstack.EnvSESv2} {
		r.environ = append(r.environ, v+"="+getenv(v))
	}
	return r, nil
}

// close deletes the run's table and queues, stops the receiver and removes
// the temporary folder. Emulators are stopped after each invocation.
func (r *runner) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if r.receiver != nil {
		r.receiver.close()
	}
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
	if r.db != nil && r.res.Table != "" {
		if _, err := r.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.res.Table)}); err != nil {
			var nf interface{ ErrorCode() string }
			if !errors.As(err, &nf) || nf.ErrorCode() != "ResourceNotFoundException" {
				fmt.Fprintf(r.logs, "check-events: delete table %s: %v\n", r.res.Table, err)
			}
		}
	}
	for _, name := range r.queueNames {
		out, err := r.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			continue // never created
		}
		if _, err := r.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}); err != nil {
			fmt.Fprintf(r.logs, "check-events: delete queue %s: %v\n", name, err)
		}
	}
}

// function builds name once per run.
func (r *runner) function(ctx context.Context, name string) (*rie.Function, error) {
	fn, err := r.tp.Function(name)
	if err != nil {
		return nil, err
	}
	if f, ok := r.funcs[fn.LogicalID]; ok {
		return f, nil
	}
	overrides := map[string]string{}
	for k, v := range r.overrides {
		if _, declared := fn.Environment[k]; declared {
			overrides[k] = v
		}
	}
	for _, kv := range r.environ {
		k, v, _ := strings.Cut(kv, "=")
		overrides[k] = v
	}
	var buildLogs bytes.Buffer
	f, err := rie.Prepare(ctx, rie.Options{
		Root: r.root, Function: name, EnvFile: r.envFile, Overrides: overrides, Logs: &buildLogs,
	})
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, buildLogs.String())
	}
	if r.verbose {
		r.logs.Write(buildLogs.Bytes())
	}
	r.funcs[fn.LogicalID] = f
	return f, nil
}

// runEvent invokes one event step, checks it and prints its line.
func (r *runner) runEvent(ctx context.Context, out io.Writer, s step) bool {
	var logs bytes.Buffer
	problems, rep := r.invokeAndCheck(ctx, s, &logs)
	status := "PASS"
	if len(problems) > 0 {
		status = "FAIL"
	}
	init, dur := orDash(rep.InitDuration), orDash(rep.Duration)
	fmt.Fprintf(out, "%s  %-10s %-32s Init Duration: %-10s Duration: %s\n", status, s.Function, s.Event, init, dur)
	for _, p := range problems {
		fmt.Fprintln(out, indent(p, "      "))
	}
	if len(problems) > 0 || r.verbose {
		fmt.Fprintln(out, indent(tail(logs.String(), 40), "      | "))
	}
	return len(problems) == 0
}

func (r *runner) invokeAndCheck(ctx context.Context, s step, logs *bytes.Buffer) ([]string, rie.Report) {
	event, err := os.ReadFile(filepath.Join(r.root, "events", s.Event))
	if err != nil {
		return []string{err.Error()}, rie.Report{}
	}
	fn, err := r.function(ctx, s.Function)
	if err != nil {
		return []string{err.Error()}, rie.Report{}
	}
	var mailBefore map[string]bool
	if s.Mail != nil {
		mails, err := r.mail.List(ctx)
		if err != nil {
			return []string{err.Error()}, rie.Report{}
		}
		mailBefore = inbox.IDs(mails)
	}
	r.receiver.take() // nothing from before counts
	res, err := fn.Invoke(ctx, event, logs)
	if err != nil {
		return []string{err.Error()}, res.Report
	}

	var problems []string
	if s.Response != nil {
		problems = append(problems, compareAPI(res.Body, *s.Response)...)
	}
	if s.Scheduled {
		if doc := functionError(res.Body); doc != "" {
			problems = append(problems, doc)
		} else if b := bytes.TrimSpace(res.Body); string(b) != "null" {
			problems = append(problems, fmt.Sprintf("scheduled event answered %s, want null", snippet(b)))
		}
	}
	if s.EventMessages != nil {
		n, err := drainEvents(ctx, r.sqs, r.res.Queues.Retry)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case n != *s.EventMessages:
			problems = append(problems, fmt.Sprintf("%d event notifications on the retry queue, want %d", n, *s.EventMessages))
		}
	}
	if s.BatchItemFailures != nil {
		if d := compareFailures(res.Body, *s.BatchItemFailures); d != "" {
			problems = append(problems, d)
		}
	}
	got := r.receiver.take()
	var gotIDs []string
	for _, g := range got {
		gotIDs = append(gotIDs, g.webhookID)
		for _, p := range g.problems {
			problems = append(problems, "webhook "+g.webhookID+": "+p)
		}
	}
	want := []string{}
	if s.Webhooks != nil {
		want = *s.Webhooks
	}
	if d := compareWebhooks(gotIDs, want); d != "" {
		problems = append(problems, d)
	}
	if s.DeadLetters != nil {
		n, err := drainQueue(ctx, r.sqs, r.res.Queues.NotificationsDLQ)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case n != *s.DeadLetters:
			problems = append(problems, fmt.Sprintf("%d messages on the notifications DLQ, want %d", n, *s.DeadLetters))
		}
	}
	if s.Mail != nil {
		mails, err := r.mail.List(ctx)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			problems = append(problems, checkMail(mails, mailBefore, *s.Mail)...)
		}
	}
	return problems, res.Report
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = slices.Concat([]string{fmt.Sprintf("(%d lines before)", len(lines)-n)}, lines[len(lines)-n:])
	}
	return strings.Join(lines, "\n")
}
