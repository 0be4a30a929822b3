package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"github.com/postloadhooks/hooks/scripts/devkit/funclog"
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

// filterLogs copies r to file line by line and prints the summary lines
// (see summarize) to out.
func filterLogs(r io.Reader, file, out io.Writer, name string, verbose bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	noted := false
	for sc.Scan() {
		line := sc.Text()
		if funclog.IsChecksumWarning(line) {
			if !noted {
				noted = true
				fmt.Fprintln(file, funclog.ChecksumNote)
				fmt.Fprintf(out, "%s: %s\n", name, funclog.ChecksumNote)
			}
			continue
		}
		fmt.Fprintln(file, line)
		if s, ok := funclog.Summarize(name, line); ok {
			fmt.Fprintf(out, "%s: %s\n", name, s)
		} else if verbose {
			fmt.Fprintf(out, "%s: %s\n", name, line)
		}
	}
	io.Copy(io.Discard, r) // a line over 4 MiB: keep the command writing
}
