// Command alerter sends the email alert of a post-load hook delivery that
// failed its last retry. It consumes the alerts queue (one
// delivery.AlertMessage per exhausted (load, hook) pair), looks up the
// account's alert addresses, renders the email with shared/mail and sends it
// with SES v2: one email per address, each address at most once per alert
// however often the message arrives (shared/store's alert records).
//
// It does not deliver webhooks, decide when a delivery is exhausted (the
// dispatcher does) or change hooks. Failures it cannot fix are left to the
// queue: a failed record is retried by redelivery and moved to the alerts
// DLQ by its redrive policy.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/store"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "alerter:", err)
		os.Exit(1)
	}
}

// run wires the handler and hands it to the Lambda runtime loop, which
// never returns.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// AWS clients are built once per cold start. Endpoints come only from
	// the SDK's own AWS_ENDPOINT_URL_* variables.
	awsCfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.table, time.Now)
	h := &handler{
		accounts: st,
		alerts:   st,
		ses:      sesv2.NewFromConfig(awsCfg),
		from:     cfg.from,
		log:      coldstart.NewLogger(getenv, stdout),
		now:      time.Now,
	}
	lambda.StartHandlerFunc(h.handle, lambda.WithContext(ctx))
	return nil
}
