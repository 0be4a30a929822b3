// Command dispatcher is the Lambda function that delivers load notifications
// to customer webhooks. It consumes two SQS queues with one handler: load
// messages from post-load-notifications and its own delayed retry messages
// from post-load-retries, each accepted only from its own queue (told apart
// by the record's event source ARN, see classify.go).
// Every retry and alert message is queued with its own SendMessage call, a
// retry carrying its DelaySeconds, so the schedule holds on AWS and on the
// local emulator alike.
//
// It only ever sends a notification to enabled hooks of the message's own
// client, and only while that client's plan has the feature. It never sends
// email (the alerter does), never sleeps between attempts (a retry is a
// delayed message) and never counts attempts with SQS's receive count.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/webhook"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dispatcher:", err)
		os.Exit(1)
	}
}

// run builds the clients once per cold start and serves Lambda invocations.
// Logs and metric lines go to stdout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := coldstart.NewLogger(getenv, stdout)
	awsCfg, err := coldstart.AWSConfig(ctx, log)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, awsCfg, log, stdout)
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(h.handle, lambda.WithContext(ctx))
	return nil
}

// newHandler wires the handler to the real store, webhook client and SQS.
// Logs go to log, metric lines to metricsOut.
func newHandler(cfg config, awsCfg aws.Config, log *slog.Logger, metricsOut io.Writer) (*handler, error) {
	client, err := webhook.NewClient(webhook.Options{
		Timeout:      cfg.AttemptTimeout,
		AllowPrivate: cfg.AllowPrivate,
		ExtraCAFile:  cfg.ExtraCAFile,
		Now:          time.Now,
		// A batch may send all its attempts to one host at once: keep
		// every connection it opens for the next batch.
		MaxIdleConnsPerHost: maxConcurrentJobs,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook client: %w", err)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, time.Now)
	return &handler{
		cfg:        cfg,
		accounts:   st,
		deliveries: st,
		freshness:  st,
		webhooks:   client,
		queue:      sqs.NewFromConfig(awsCfg),
		health:     st,
		runs:       st,
		log:        log,
		metrics:    newMetrics(metricsOut, time.Now),
		now:        time.Now,
		rand:       rand.Float64,
	}, nil
}
