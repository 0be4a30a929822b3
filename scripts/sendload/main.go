// Command sendload puts loader messages on the post-load-notifications queue,
// as the data pipeline's loaders do: one SQS message per file (or per line of
// standard input with "-"). It is a local development tool: the queue is the
// one the SDK's AWS_ENDPOINT_URL_SQS points at (scripts/dev prints it).
//
//	go run ./scripts/sendload scripts/sendload/example.json
//	go run ./scripts/sendload -queue post-load-notifications-staging load.json
//
// It sends what it is given, malformed or not, so it can also show what the
// dispatcher does with a bad message.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sendload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("sendload", flag.ContinueOnError)
	queue := fs.String("queue", "post-load-notifications", "queue name or URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: sendload [-queue NAME|URL] FILE... (or - for one message per line of stdin)")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	client := sqs.NewFromConfig(cfg)
	url, err := queueURL(ctx, client, *queue)
	if err != nil {
		return err
	}
	send := func(body string) error {
		out, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
		if err != nil {
			return fmt.Errorf("send message: %w", err)
		}
		_, err = fmt.Fprintln(stdout, aws.ToString(out.MessageId))
		return err
	}
	for _, name := range fs.Args() {
		if name == "-" {
			sc := bufio.NewScanner(stdin)
			sc.Buffer(make([]byte, 0, 64<<10), 256<<10)
			for sc.Scan() {
				if len(sc.Bytes()) == 0 {
					continue
				}
				if err := send(sc.Text()); err != nil {
					return err
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("read stdin: %w", err)
			}
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if err := send(string(b)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// queueURL returns q itself when it is a URL, and otherwise looks the
// queue up by name.
func queueURL(ctx context.Context, client *sqs.Client, q string) (string, error) {
	if len(q) > 8 && (q[:7] == "http://" || q[:8] == "https://") {
		return q, nil
	}
	out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
	if err != nil {
		return "", fmt.Errorf("find queue %s: %w", q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
