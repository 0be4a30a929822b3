// Command chaos is the fault-injection run behind scripts/chaos. It is a
// development tool and is never deployed.
//
// On a stack that scripts/chaos started on its own ports (DynamoDB Local in
// persistent mode, goaws, aws-ses-v2-local) and the table and queues it
// created, it runs the dispatcher and the alerter each in a pool of
// aws-lambda-rie (scripts/devkit/cmd/riepool) fed by scripts/devkit/cmd/eventsource with several
// batches at once (as scripts/dev does), seeds one account with H hooks
// pointing at HTTPS receivers on loopback, sends K load messages and, while
// they are delivered, injects faults: a seeded 30 % of responses are 5xx,
// one receiver is down for a window, one always hangs past the attempt
// timeout, the dispatcher (its pool, emulators and bootstraps) is SIGKILLed
// in the middle of its batches and started again, DynamoDB Local is
// restarted, some loads are sent twice and two poison messages are sent.
// Beside them one hook of an account of its own is down until the service
// disables it for failing, then recovers (outage.go). When everything is quiet it checks
// the invariants (check.go), prints them as a table with counts and exits 1
// if any failed. The last line is always "N passed, M failed".
//
// It does not start or stop the emulators (scripts/chaos does; it only asks
// scripts/stack to restart DynamoDB), and it never touches anything but the
// table, queues and ports it is given. -break makes it inject a violation on
// purpose, to show that the checks catch one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/proc"
	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ok, err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Println("chaos: error:", err)
		fmt.Println("0 passed, 1 failed")
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// settings are the flags and environment of one run.
type settings struct {
	short            bool
	loads, hooks     int
	seed             uint64
	root, bin        string
	rie, eventsource string
	riepool          string
	work             string
	riePort          int
	receiverPort     int
	breakMode        string
	attemptTimeout   time.Duration
	retryDelays      string
	visibility       int // seconds, dispatcher queues
	limit            time.Duration

	table                                 string
	notifications, retries, alerts        string
	notificationsDLQ, retryDLQ, alertsDLQ string
	sesURL                                string
}

func parseSettings(args []string, getenv func(string) string) (settings, error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	var s settings
	fs.BoolVar(&s.short, "short", false, "small run (what scripts/test runs)")
	fs.IntVar(&s.loads, "loads", 0, fmt.Sprintf("K, load messages, 4 to %d (default 8 short, 40 full)", maxLoads))
	fs.IntVar(&s.hooks, "hooks", 0, "H, hooks of the account, 4 to 10 (default 5 short, 10 full)")
	seed := fs.Uint64("seed", 1, "seed of the 5xx decisions")
	fs.StringVar(&s.root, "root", ".", "repository root (for scripts/stack)")
	fs.StringVar(&s.bin, "bin", "", "folder with dispatcher/bootstrap and alerter/bootstrap")
	fs.StringVar(&s.rie, "rie", "", "aws-lambda-rie binary")
	fs.StringVar(&s.eventsource, "eventsource", "", "eventsource binary (scripts/devkit/cmd/eventsource)")
	fs.StringVar(&s.riepool, "riepool", "", "riepool binary")
	fs.StringVar(&s.work, "work", "", "folder for logs, the CA file and the pid file")
	fs.IntVar(&s.riePort, "rie-port", 18410, "the dispatcher's pool of aws-lambda-rie listens on it, the alerter's on it + 2")
	fs.IntVar(&s.receiverPort, "receiver-port", 18420, "first of three ports for the receivers")
	fs.StringVar(&s.breakMode, "break", "", "inject a violation on purpose: lost-pair (a pair neither delivered nor alerted), extra-dlq or dup-replay (a replay counted twice)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	s.seed = *seed
	if s.loads == 0 {
		s.loads = map[bool]int{true: 8, false: 40}[s.short]
	}
	if s.hooks == 0 {
		s.hooks = map[bool]int{true: 5, false: 10}[s.short]
	}
	s.limit = timeLimit(s.short, s.loads)
	s.attemptTimeout, s.retryDelays, s.visibility = 3*time.Second, "1s,1s,2s,2s,3s", 15
	var errs []error
	if s.loads < 4 || s.loads > maxLoads {
		errs = append(errs, fmt.Errorf("-loads %d: want 4 to %d", s.loads, maxLoads))
	}
	if s.hooks < 4 || s.hooks > 10 {
		errs = append(errs, fmt.Errorf("-hooks %d: want 4 to 10", s.hooks))
	}
	switch s.breakMode {
	case "", "lost-pair", "extra-dlq", "dup-replay":
	default:
		errs = append(errs, fmt.Errorf("-break %q: want lost-pair, extra-dlq or dup-replay", s.breakMode))
	}
	for flagName, v := range map[string]string{"-bin": s.bin, "-rie": s.rie, "-eventsource": s.eventsource, "-riepool": s.riepool, "-work": s.work} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", flagName))
		}
	}
	env := func(name string, dst *string) {
		if *dst = getenv(name); *dst == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
	}
	env("HOOKS_TABLE", &s.table)
	env("HOOKS_NOTIFICATIONS_QUEUE_URL", &s.notifications)
	env("HOOKS_RETRY_QUEUE_URL", &s.retries)
	env("HOOKS_ALERT_QUEUE_URL", &s.alerts)
	env("HOOKS_DEAD_LETTER_QUEUE_URL", &s.notificationsDLQ)
	env("HOOKS_RETRY_DLQ_URL", &s.retryDLQ)
	env("HOOKS_ALERTS_DLQ_URL", &s.alertsDLQ)
	env("AWS_ENDPOINT_URL_SESV2", &s.sesURL)
	var ep string
	env("AWS_ENDPOINT_URL_DYNAMODB", &ep)
	env("AWS_ENDPOINT_URL_SQS", &ep)
	return s, errors.Join(errs...)
}

// chaos is one run.
type chaos struct {
	settings
	t0    time.Time
	db    *dynamodb.Client
	sqs   *sqs.Client
	procs *proc.Group
	rec   *recorder
	recv  map[string]*kit.Listener // flaky, down, hang

	dispatcher *proc.Proc
	commonEnv  []string // the functions' settings
	world      world
	faults     faults
	wantDLQ    []string
	summaries  map[string][]byte // the runs' summaries (runs.go), read with the records
	outage     outageRun         // what the outage driver saw (outage.go)
	outageSent []loadSpec        // the loads it sent, in order
}

func (c *chaos) say(format string, args ...any) {
	fmt.Printf("chaos: [%5.1fs] %s\n", time.Since(c.t0).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, getenv func(string) string) (bool, error) {
	s, err := parseSettings(args, getenv)
	if err != nil {
		return false, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return false, fmt.Errorf("load aws config: %w", err)
	}
	c := &chaos{
		settings: s, t0: time.Now(),
		db: devstack.NewDynamoDB(awsCfg), sqs: sqs.NewFromConfig(awsCfg),
		procs: &proc.Group{PidFile: filepath.Join(s.work, "pids")},
		rec:   newRecorder(s.seed, 30, 4*s.attemptTimeout),
	}
	c.rec.dupReplay = s.breakMode == "dup-replay"
	defer c.stop()
	if err := c.setup(ctx); err != nil {
		return false, err
	}
	if err := c.drive(ctx); err != nil {
		return false, err
	}
	quiescent := c.quiesce(ctx)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	o, err := c.observe(ctx, quiescent)
	if err != nil {
		return false, err
	}
	c.say("logs: %s", c.work)
	return printTable(os.Stdout, checkAll(o)), nil
}

func (c *chaos) stop() {
	if err := c.procs.StopAll(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
	}
	for _, r := range c.recv {
		r.Down()
	}
}

func (c *chaos) setup(ctx context.Context) error {
	// The template's visibility timeouts (360 s, 180 s) suit a 60 s function;
	// the run shortens them to match its short function timeouts, so a batch
	// lost with a killed dispatcher reappears within seconds. The lease
	// (attempt timeout + 5 s) stays shorter than the visibility timeout, as
	// in the template.
	for q, v := range map[string]int{c.notifications: c.visibility, c.retries: c.visibility, c.alerts: 20} {
		_, err := c.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(q),
			Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(v)},
		})
		if err != nil {
			return fmt.Errorf("set visibility timeout of %s: %w", q, err)
		}
	}

	tlsCfg, caPEM, err := kit.NewTLS()
	if err != nil {
		return fmt.Errorf("make certificates: %w", err)
	}
	caFile := filepath.Join(c.work, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		return err
	}
	c.recv = map[string]*kit.Listener{}
	for i, name := range []string{"flaky", "down", "hang"} {
		r, err := kit.Serve(fmt.Sprintf("127.0.0.1:%d", c.receiverPort+i), c.rec, tlsCfg)
		if err != nil {
			return err
		}
		c.recv[name] = r
	}

	w, err := seed(ctx, c.db, c.table, c.settings, runID(c.t0))
	if err != nil {
		return err
	}
	c.world = w
	for _, h := range w.hooks {
		c.rec.setSlot(h.slot, h.behavior, h.secret)
	}
	fmt.Printf("chaos: seeded %d account(s), %d hooks (%d disabled), %d loads: %d (load, enabled hook) pairs, and hook %d for the outage\n",
		len(w.accounts), len(w.hooks), len(w.disabledSlots), len(w.loads), len(w.pairs), w.outage.hook.id)

	common := []string{
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO",
		"HOOKS_ALLOW_PRIVATE_TARGETS=true", "HOOKS_EXTRA_CA_FILE=" + caFile,
		"HOOKS_RETRY_DELAYS=" + c.retryDelays, "HOOKS_ATTEMPT_TIMEOUT=" + c.attemptTimeout.String(),
		"ALERT_FROM_ADDRESS=hooks-chaos@example.com", "HOOKS_RUN_WAIT=" + runWait,
	}
	// Short hook health windows (outage.go): digests of a few seconds for
	// every hook (the email check counts each exhausted pair in the alert
	// or the digest that names it), auto-disable and probes for the
	// outage's hook.
	common = append(common, healthEnv()...)
	c.commonEnv = common
	if err := c.startFunction("alerter", "AlerterFunction", c.riePort+2, 15, 1, common); err != nil {
		return err
	}
	if err := c.startDispatcher(); err != nil {
		return err
	}
	invoke := func(port int) string {
		return fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port)
	}
	concurrency := strconv.Itoa(pollerConcurrency)
	if _, err := c.procs.Start(proc.Cmd{Name: "eventsource-alerter", Dir: c.work, Log: filepath.Join(c.work, "eventsource-alerter.log"), Argv: []string{
		c.eventsource, "-name", "AlerterFunction", "-function-timeout", "15s", "-function-url", invoke(c.riePort + 2),
		"-max-concurrency", concurrency, "-function-concurrency", concurrency, "-queue", c.alerts}}); err != nil {
		return err
	}
	if _, err := c.procs.Start(proc.Cmd{Name: "eventsource-dispatcher", Dir: c.work, Log: filepath.Join(c.work, "eventsource-dispatcher.log"), Argv: []string{
		c.eventsource, "-name", "DispatcherFunction", "-function-timeout", strconv.Itoa(dispatcherTimeout) + "s", "-function-url", invoke(c.riePort),
		"-max-concurrency", concurrency, "-function-concurrency", strconv.Itoa(2 * pollerConcurrency), "-queue", c.notifications, "-queue", c.retries}}); err != nil {
		return err
	}
	return nil
}

// pollerConcurrency is the most batches in flight per queue: the event
// source mappings' MaximumConcurrency in the run. Each function's pool of
// emulators is sized for all of its queues at once. Five runs the batches
// of the always-hanging hook side by side; ten per queue overloaded a
// shared two-core machine until invocations hit their timeout.
const pollerConcurrency = 5

// startFunction runs functions/<name>'s bootstrap in a pool of up to
// queues*pollerConcurrency aws-lambda-rie (scripts/devkit/cmd/riepool) whose invoke API
// listens on port. SIGKILLing the pool's process group crashes every
// invocation of the function in flight, as a crash of its execution
// environments would.
func (c *chaos) startFunction(name, logical string, port, timeout, queues int, env []string) error {
	p, err := c.procs.Start(proc.Cmd{Name: name, Dir: filepath.Join(c.bin, name), Log: filepath.Join(c.work, name+".log"),
		Env: slices.Concat(os.Environ(), []string{"AWS_LAMBDA_FUNCTION_NAME=" + logical, "AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeout)}, env),
		Argv: []string{c.riepool, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-size", strconv.Itoa(queues * pollerConcurrency),
			"-rie", c.rie, filepath.Join(c.bin, name, "bootstrap")}})
	if err != nil {
		return err
	}
	if err := proc.WaitPort(p, fmt.Sprintf("127.0.0.1:%d", port), 15*time.Second); err != nil {
		return fmt.Errorf("%w (see %s)", err, filepath.Join(c.work, name+".log"))
	}
	if name == "dispatcher" {
		c.dispatcher = p
	}
	return nil
}

func (c *chaos) startDispatcher() error {
	return c.startFunction("dispatcher", "DispatcherFunction", c.riePort, dispatcherTimeout, 2, c.commonEnv)
}

// dispatcherTimeout is the dispatcher's function timeout in the run, in
// seconds: an attempt (3 s) plus the store writes, with room for a slow
// DynamoDB Local.
const dispatcherTimeout = 12

// maxLoads bounds K: 400 loads to 10 hooks is ten times the full run.
const maxLoads = 400

// timeLimit bounds how long a run may take to become quiescent: 150 s for
// the short run, 8 min for up to 40 loads, and 2 s more per load beyond.
func timeLimit(short bool, loads int) time.Duration {
	if short {
		return 150 * time.Second
	}
	return 8*time.Minute + time.Duration(max(loads-40, 0))*2*time.Second
}

// runID is a short id that keeps this run's names apart from any other's.
func runID(t time.Time) string {
	return strings.ToLower(strconv.FormatInt(t.UnixNano()%1e12, 36))
}

// queueDepth is every message a queue holds: visible, in flight and delayed.
func (c *chaos) queueDepth(ctx context.Context, url string) (int, error) {
	d, err := devstack.QueueDepth(ctx, c.sqs, url)
	return d.Total(), err
}

// maxAttempts is the first attempt plus one per retry delay.
func (s settings) maxAttempts() int {
	sch, err := delivery.ParseSchedule(s.retryDelays)
	if err != nil {
		return 0
	}
	return sch.MaxAttempts()
}
