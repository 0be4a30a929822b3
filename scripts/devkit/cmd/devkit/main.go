// Command devkit is the local development kit behind scripts/dev,
// scripts/listen and scripts/admin. Every subcommand reads the local
// environment file scripts/dev writes (.local/dev.env, see package
// localenv), so it reaches the stack scripts/dev runs and no other:
//
//	devkit listen [-status N] [-delay D]   a hook at the built-in receiver; prints each delivery (scripts/listen)
//	devkit admin COMMAND ...               the local admin API without curl (scripts/admin)
//	devkit receiver -addr A -ca-file F     the built-in HTTPS receiver (scripts/dev starts it)
//	devkit logs -name N -file F -- CMD...  runs CMD, keeps its output in F and prints the lines that matter (scripts/dev)
//	devkit write-env -file F NAME...       writes the named variables of its environment to F (scripts/dev)
//
// It is a development tool; nothing here runs in Lambda.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devkit:", err)
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		os.Exit(1)
	}
}

// exitError is a command's exit status, passed through (devkit logs).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `usage: devkit listen|admin|receiver|logs|write-env ... (see scripts/devkit/cmd/devkit/main.go)`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "listen":
		return runListen(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], getenv, stdout)
	case "receiver":
		return runReceiver(ctx, args[1:], stderr)
	case "logs":
		return runLogs(ctx, args[1:], stdout)
	case "write-env":
		return runWriteEnv(args[1:], getenv)
	}
	return errors.New(usage)
}
