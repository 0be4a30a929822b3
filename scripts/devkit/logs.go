package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// runLogs runs a command (a function under aws-lambda-rie, the API) with
// its output going to -file, and prints to stdout, one line each, what a
// person running scripts/dev needs to see: errors, deliveries, loads that
// sent nothing and why, messages dead-lettered, alerts. -v prints every line.
// The AWS SDK's checksum warning on DynamoDB Local's error responses is
// explained once and otherwise dropped. It ends with the command.
func runLogs(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devkit logs", flag.ContinueOnError)
	name := fs.String("name", "", "the name printed before each line")
	file := fs.String("file", "", "the log file to write")
	verbose := fs.Bool("v", false, "print every line, not only the ones that matter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *file == "" || fs.NArg() == 0 {
		return errors.New("usage: devkit logs -name NAME -file FILE [-v] -- CMD [ARG...]")
	}
	f, err := os.OpenFile(*file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return err
	}
	// Signals reach the whole process group (scripts/dev ends it); the
	// command ends with it, and so does this.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		filterLogs(pr, f, stdout, *name, *verbose)
	}()
	err = cmd.Wait()
	pw.Close()
	wg.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError(ee.ExitCode())
	}
	return err
}

// checksumNote explains the SDK warning DynamoDB Local's error responses
// cause.
const checksumNote = `note: the AWS SDK warns "response did not match expected checksum" after DynamoDB Local's error responses (a failed condition, for instance): DynamoDB Local's CRC32 header does not match them. Harmless here; not shown again.`

// filterLogs copies r to file line by line and prints the summary lines
// (see summarize) to out.
func filterLogs(r io.Reader, file, out io.Writer, name string, verbose bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	noted := false
	for sc.Scan() {
		line := sc.Text()
		if isChecksumWarning(line) {
			if !noted {
				noted = true
				fmt.Fprintln(file, checksumNote)
				fmt.Fprintf(out, "%s: %s\n", name, checksumNote)
			}
			continue
		}
		fmt.Fprintln(file, line)
		if s, ok := summarize(name, line); ok {
			fmt.Fprintf(out, "%s: %s\n", name, s)
		} else if verbose {
			fmt.Fprintf(out, "%s: %s\n", name, line)
		}
	}
	io.Copy(io.Discard, r) // a line over 4 MiB: keep the command writing
}

func isChecksumWarning(line string) bool {
	return strings.Contains(line, "did not match expected checksum")
}

// skipReasons explain the dispatcher's "notification skipped" reasons.
var skipReasons = map[string]string{
	"unknown_client":       "no account has this client_id",
	"plan_without_feature": "the account's plan does not include hooks",
	"no_enabled_hooks":     "the account has no enabled hook (scripts/listen creates one)",
	"load_failed":          "the load failed, and no hook asked for failed loads",
}

// summarize returns the one line to print for a log line of the functions
// (their JSON logs, or a plain "name: error" line at start-up), and false
// for lines that only go to the log file.
func summarize(name, line string) (string, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		// A function that cannot start prints "<function>: <error>" and exits.
		if rest, ok := strings.CutPrefix(line, name+": "); ok {
			return "error: " + rest, true
		}
		return "", false
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return fmt.Sprintf("%.0f", v)
		}
		return ""
	}
	msg := str("message")
	if msg == "" {
		msg = str("msg")
	}
	load := fmt.Sprintf("load %q of client %s", str("loadId"), str("clientId"))
	switch msg {
	case "notification skipped":
		why := skipReasons[str("reason")]
		if why == "" {
			why = str("reason")
		}
		return fmt.Sprintf("%s sent nothing: %s", load, why), true
	case "attempt not claimed":
		if st := str("status"); st == delivery.StatusDelivered || st == delivery.StatusExhausted || st == delivery.StatusCancelled {
			return fmt.Sprintf("%s to hook %s sent nothing: it was already handled (status %s); the same load_id is sent once per hook (sendload makes a new one unless -keep-load-id)", load, str("hookId"), st), true
		}
		return "", false
	case "delivery attempt":
		code := str("statusCode")
		if code == "" || code == "0" {
			code = "no answer"
		}
		return fmt.Sprintf("%s -> hook %s, attempt %s: %s (%s) in %sms, next: %s", load, str("hookId"), str("attempt"), str("outcome"), code, str("durationMs"), str("next")), true
	case "malformed message":
		return fmt.Sprintf("message %s went to the dead-letter queue: %s", str("messageId"), str("reason")), true
	case "alert sent":
		return "alert sent (see the mail store)", true
	}
	if lvl := str("level"); lvl == "ERROR" || lvl == "WARN" {
		detail := str("error")
		if detail == "" {
			detail = str("reason")
		}
		if detail == "" {
			detail = str("detail")
		}
		s := strings.ToLower(lvl) + ": " + msg
		if detail != "" {
			s += ": " + detail
		}
		return s, true
	}
	return "", false
}
