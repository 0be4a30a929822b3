// Command invoke runs one function of template.yaml the way `sam local
// invoke` does, without Docker: it builds the function's bootstrap for this
// machine (scripts/build --arch host), starts AWS's Runtime Interface
// Emulator (aws-lambda-rie, the pinned version, installed on first use) on
// free loopback ports with the environment the template and an env-vars
// file give the function, posts the event, prints the response on stdout and
// the emulator's REPORT line on stderr, and stops the emulator.
//
//	scripts/invoke api events/api-list-hooks.json --env-vars events/env.json
//	scripts/invoke -v dispatcher events/dispatcher-retry.json   (-v: the emulator's output too)
//
// When scripts/dev has written the local environment file (.local/dev.env),
// its endpoints, credentials, table and queues win over the env-vars file
// and the shell, so the function reaches scripts/dev's stack and no other.
//
// A failed invocation prints the function's own error first, in one line
// ("invoke: ApiFunction: config: missing environment variables: ..."); the
// emulator's output only with -v. A successful one prints the function's
// own log lines and the REPORT line on stderr.
//
// The environment follows SAM (see rie.Env): the template's variables, then
// the env-vars file's "Parameters" and its section for the function's
// logical id, plus the caller's AWS_* variables and what Lambda sets itself.
// One difference, printed as a note: `sam local invoke` drops file variables
// the template does not declare; invoke passes them, so the SDK's
// AWS_ENDPOINT_URL_* can point the function at the local emulators.
//
// It does not emulate API Gateway or event sources; scripts/devkit/cmd/eventsource does the
// SQS one, scripts/check-events runs every sample event with its expectation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/postloadhooks/hooks/scripts/devkit/funclog"
	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "invoke:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: scripts/invoke [-v] FUNCTION EVENT_FILE [--env-vars FILE]  (FUNCTION: api, dispatcher, alerter or a logical id)")

// errReported means the failure was already printed.
var errReported = errors.New("reported")

// args are the parsed command line.
type args struct {
	function, eventFile, envFile string
	verbose                      bool
}

// localVars are the local environment file's variables that describe the
// stack (not the function's tuning), set over everything else.
var localVars = []string{
	"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SESV2",
	"HOOKS_TABLE", "HOOKS_RETRY_QUEUE_URL", "HOOKS_ALERT_QUEUE_URL", "HOOKS_DEAD_LETTER_QUEUE_URL", "HOOKS_ALERTS_DLQ_URL",
	"HOOKS_EXTRA_CA_FILE",
}

// stackOverrides picks localVars out of the local environment file.
func stackOverrides(env localenv.Env) map[string]string {
	o := map[string]string{}
	for _, k := range localVars {
		if v, ok := env[k]; ok {
			o[k] = v
		}
	}
	return o
}

func parseArgs(list []string) (args, error) {
	var pos []string
	var a args
	for i := 0; i < len(list); i++ {
		switch s := list[i]; {
		case s == "--env-vars" || s == "-n":
			if i+1 >= len(list) {
				return args{}, errUsage
			}
			a.envFile = list[i+1]
			i++
		case strings.HasPrefix(s, "--env-vars="):
			a.envFile = strings.TrimPrefix(s, "--env-vars=")
		case s == "-v" || s == "--verbose":
			a.verbose = true
		case strings.HasPrefix(s, "-"):
			return args{}, errUsage
		default:
			pos = append(pos, s)
		}
	}
	if len(pos) != 2 {
		return args{}, errUsage
	}
	a.function, a.eventFile = pos[0], pos[1]
	return a, nil
}

func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := parseArgs(argv)
	if err != nil {
		return err
	}
	root, err := rie.RepoRoot(getenv)
	if err != nil {
		return err
	}
	event, err := os.ReadFile(a.eventFile)
	if err != nil {
		return err
	}
	env, path, ok, err := localenv.Load(root, getenv)
	if err != nil {
		return err
	}
	var overrides map[string]string
	if ok {
		overrides = stackOverrides(env)
		fmt.Fprintf(stderr, "invoke: the stack of %s (its endpoints, table and queues win over --env-vars)\n", path)
	}
	var logs syncbuf.Buffer
	fn, err := rie.Prepare(ctx, rie.Options{
		Root: root, Function: a.function, EnvFile: a.envFile, Environ: os.Environ(), Overrides: overrides, Logs: &logs,
	})
	if err != nil {
		io.WriteString(stderr, logs.String())
		return err
	}
	res, err := fn.Invoke(ctx, event, nil)
	lines := strings.Split(strings.TrimRight(logs.String(), "\n"), "\n")
	name := filepath.Base(filepath.Clean(fn.Template.CodeURI))
	if err != nil {
		cause := funclog.FirstError(name, lines)
		if cause == "" {
			cause = err.Error()
		}
		fmt.Fprintf(stderr, "invoke: %s: %s\n", fn.Template.LogicalID, cause)
		if a.verbose {
			io.WriteString(stderr, logs.String())
			fmt.Fprintln(stderr, "invoke:", err)
		} else {
			fmt.Fprintln(stderr, "invoke: (scripts/invoke -v shows the emulator's output)")
		}
		return errReported
	}
	if msg := functionError(res.Body); msg != "" {
		fmt.Fprintf(stderr, "invoke: %s returned an error: %s\n", fn.Template.LogicalID, msg)
	}
	for _, l := range lines {
		if a.verbose || strings.HasPrefix(l, "{") && !funclog.IsChecksumWarning(l) {
			fmt.Fprintln(stderr, l)
		}
	}
	fmt.Fprintln(stdout, string(res.Body))
	fmt.Fprintln(stderr, res.Report.Line)
	return nil
}

// functionError is the errorMessage (and errorType) of a function that
// returned an error, as the emulator answers it; "" otherwise.
func functionError(body []byte) string {
	var e struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	if e.Type != "" {
		return e.Message + " (" + e.Type + ")"
	}
	return e.Message
}
