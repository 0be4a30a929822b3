// Command riepool serves one function's invoke API from a pool of
// aws-lambda-rie emulators (package rie's Pool), so that scripts/devkit/cmd/eventsource
// can run several batches of one function at once, as Lambda runs several
// execution environments of a function: aws-lambda-rie itself serves one
// invocation at a time. An invocation gets an idle emulator, or a new one
// (a cold start) while fewer than -size run, or waits for one to come free.
//
//	riepool -addr 127.0.0.1:9101 -size 20 -rie .local/tools/aws-lambda-rie-…/aws-lambda-rie \
//	    .aws-sam-local/amd64/dispatcher/bootstrap
//
// Each emulator runs the bootstrap in its folder with riepool's own
// environment (set AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_TIMEOUT and
// the function's variables before starting it), on free loopback ports, in
// riepool's process group: signalling that group stops or crashes the whole
// function at once. SIGTERM or SIGINT stops every emulator. It is a
// development tool used by scripts/dev and scripts/chaos, never deployed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/rie"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "riepool:", err)
		os.Exit(1)
	}
}

// settings are the parsed command line.
type settings struct {
	addr, rie, bootstrap string
	size                 int
	timeout              time.Duration
}

// maxSize bounds the pool: each emulator is two processes.
const maxSize = 100

func parseSettings(args, environ []string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("riepool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s settings
	fs.StringVar(&s.addr, "addr", "127.0.0.1:9101", "loopback address of the pool's invoke API")
	fs.StringVar(&s.rie, "rie", "", "the aws-lambda-rie binary")
	fs.IntVar(&s.size, "size", 10, "most emulators at once: the function's concurrency (1-100)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	var errs []error
	if fs.NArg() != 1 {
		errs = append(errs, errors.New("want exactly one argument, the bootstrap"))
	} else if abs, err := filepath.Abs(fs.Arg(0)); err != nil {
		errs = append(errs, err)
	} else {
		s.bootstrap = abs
	}
	if s.rie == "" {
		errs = append(errs, errors.New("-rie is required"))
	}
	if s.size < 1 || s.size > maxSize {
		errs = append(errs, fmt.Errorf("-size %d: want 1 to %d", s.size, maxSize))
	}
	if host, _, err := net.SplitHostPort(s.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		errs = append(errs, fmt.Errorf("-addr %q: want a loopback host:port", s.addr))
	}
	// The emulator ends a function at AWS_LAMBDA_FUNCTION_TIMEOUT (Lambda's
	// default 3 s) and answers; the pool waits that long and a margin.
	timeout := 3
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_FUNCTION_TIMEOUT="); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 900 {
				errs = append(errs, fmt.Errorf("AWS_LAMBDA_FUNCTION_TIMEOUT=%q: want 1 to 900 seconds", v))
			}
			timeout = n
		}
	}
	s.timeout = time.Duration(timeout)*time.Second + 10*time.Second
	return s, errors.Join(errs...)
}

func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, environ, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.bootstrap); err != nil {
		return err
	}
	pool, err := rie.NewPool(s.rie, s.bootstrap, environ, s.size, s.timeout, stdout)
	if err != nil {
		return err
	}
	defer pool.Close()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: pool, ReadHeaderTimeout: 10 * time.Second}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	log.Info("serving", "addr", s.addr, "size", s.size, "bootstrap", s.bootstrap)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	log.Info("stopped", "coldStarts", pool.Started())
	return nil
}
