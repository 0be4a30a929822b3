// Command api is the hooks management API and the admin API of post-load
// hooks: one http.Handler (routes.go) served by Lambda behind API Gateway
// HTTP API (payload 2.0, through shared/apigw) when AWS_LAMBDA_RUNTIME_API is
// set, and by a plain HTTP server on HOOKS_API_ADDR otherwise.
//
// It validates requests, authenticates members and operators and maps
// errors to responses. It does not deliver webhooks and it keeps no state
// of its own: everything lives in the store.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/apigw"
	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/webhook"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// Local server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10
)

// run wires the API and serves it until ctx ends or SIGINT/SIGTERM (local
// mode), or for the life of the Lambda execution environment.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := coldstart.NewLogger(getenv, stdout)

	// AWS clients are built once per cold start. Endpoints come only from
	// the SDK's own AWS_ENDPOINT_URL_* variables.
	awsCfg, err := coldstart.AWSConfig(ctx, log)
	if err != nil {
		return err
	}
	st := newDynamoStore(store.New(dynamodb.NewFromConfig(awsCfg), cfg.table, time.Now))
	web := webConfig{from: cfg.signInFrom, appURL: cfg.appURL, linkTTL: cfg.signInLinkTTL}
	if len(cfg.unsubscribeKey) > 0 {
		if web.unsubscribe, err = optout.NewSigner(cfg.unsubscribeKey); err != nil {
			return err
		}
	}
	if cfg.signInFrom != "" {
		web.mail = sendEmailFunc(sesv2.NewFromConfig(awsCfg).SendEmail)
	}
	// Test notifications go through the dispatcher's webhook client.
	sender, err := webhook.NewClient(webhook.Options{Timeout: testSendTimeout, AllowPrivate: cfg.allowPrivate,
		ExtraCAFile: cfg.extraCAFile, MaxIdleConnsPerHost: 1})
	if err != nil {
		return err
	}
	hooks := hooksConfig{allowPrivate: cfg.allowPrivate, secretOverlap: cfg.secretOverlap, freshnessMin: cfg.freshnessMin, sender: sender,
		retries: sqsRetryQueue{client: sendMessageFunc(sqs.NewFromConfig(awsCfg).SendMessage), url: cfg.retryQueueURL}, replayRate: cfg.replayRate}
	switch {
	case len(cfg.cursorKey) > 0:
		if hooks.cursors, err = newCursorSeal(cfg.cursorKey); err != nil {
			return err
		}
	case cfg.lambda: // the zero seal: a random key of this process
		log.Warn("history cursors work only in this instance", slog.String("reason", "HOOKS_CURSOR_KEY is empty"))
	}

	if cfg.lambda {
		h := routes(log, st, iamAdmin, hooks, web)
		lambda.StartHandlerFunc(apigw.Wrap(h), lambda.WithContext(ctx))
		return nil // not reached: the Lambda runtime loop never returns
	}

	if cfg.adminToken == "" {
		log.Warn("admin api disabled", slog.String("reason", "HOOKS_ADMIN_TOKEN is empty"))
	}
	return serve(ctx, log, cfg.addr, routes(log, st, tokenAdmin(cfg.adminToken), hooks, web))
}

// serve runs an HTTP server on addr until ctx ends or the process gets
// SIGINT or SIGTERM, then shuts it down gracefully.
func serve(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
