// Command rieinvoke runs one function of template.yaml the way `sam local
// invoke` does, without Docker: it builds the function's bootstrap for this
// machine (scripts/build --arch host), starts AWS's Runtime Interface
// Emulator (aws-lambda-rie, the pinned version, installed on first use) on
// free loopback ports with the environment the template and an env-vars
// file give the function, posts the event, prints the response on stdout and
// the emulator's REPORT line on stderr, and stops the emulator.
//
//	scripts/invoke api events/api-list-hooks.json --env-vars events/env.json
//
// The environment follows SAM (see rie.Env): the template's variables, then
// the env-vars file's "Parameters" and its section for the function's
// logical id, plus the caller's AWS_* variables and what Lambda sets itself.
// One difference, printed as a note: `sam local invoke` drops file variables
// the template does not declare; rieinvoke passes them, so the SDK's
// AWS_ENDPOINT_URL_* can point the function at the local emulators.
//
// It does not emulate API Gateway or event sources; scripts/sqspoll does the
// SQS one, scripts/invoke-all runs every sample event with its expectation.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/postloadhooks/hooks/scripts/rieinvoke/rie"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: scripts/invoke FUNCTION EVENT_FILE [--env-vars FILE]  (FUNCTION: api, dispatcher, alerter or a logical id)")

// args are the parsed command line.
type args struct {
	function, eventFile, envFile string
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
	fn, err := rie.Prepare(ctx, rie.Options{
		Root: root, Function: a.function, EnvFile: a.envFile, Environ: os.Environ(), Logs: stderr,
	})
	if err != nil {
		return err
	}
	res, err := fn.Invoke(ctx, event, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(res.Body))
	fmt.Fprintln(stderr, res.Report.Line)
	return nil
}
