package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
)

// runReceiver serves the built-in receiver on -addr with a fresh
// certificate, after writing its CA to -ca-file (which the dispatcher
// trusts through HOOKS_EXTRA_CA_FILE), until ctx ends.
func runReceiver(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("devkit receiver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3001", "loopback address to listen on")
	caFile := fs.String("ca-file", "", "where to write the CA certificate (PEM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *caFile == "" {
		return errors.New("receiver: -ca-file is required")
	}
	cfg, ca, err := receiver.NewTLS()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*caFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*caFile, ca, 0o644); err != nil {
		return err
	}
	l, err := receiver.Serve(*addr, receiver.New(), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "receiver: listening on %s (CA %s)\n", l.URL(), *caFile)
	<-ctx.Done()
	l.Down()
	return nil
}
