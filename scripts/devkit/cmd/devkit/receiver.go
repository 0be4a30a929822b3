package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

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
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	srv := &http.Server{Handler: receiver.New(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stderr, "receiver: listening on https://%s (CA %s)\n", ln.Addr(), *caFile)
	if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("receiver: %w", err)
	}
	return nil
}
