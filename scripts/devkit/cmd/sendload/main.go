// Command sendload puts loader messages on the post-load-notifications queue,
// as the data pipeline's loaders do: one SQS message per file (or per line of
// standard input with "-"). It is a local development tool: the queue is the
// one the SDK's AWS_ENDPOINT_URL_SQS points at (scripts/dev prints it).
//
//	scripts/sendload                         # example.json, the demo account's load
//	scripts/sendload -queue post-load-notifications-staging load.json
//
// Every load gets a new load_id (the file's, with the time and a random
// suffix appended), because the dispatcher sends a load once per hook: the
// same example sent twice would otherwise send nothing the second time.
// -keep-load-id sends the load_id as written (to see that duplicate case),
// -load-id ID sends ID. Anything that is not a JSON object with a load_id is
// sent exactly as given, malformed or not, so it can also show what the
// dispatcher does with a bad message.
//
// It reads the local environment file scripts/dev writes (.local/dev.env,
// see scripts/devkit/localenv), whose endpoint and credentials win over the
// shell's, so it reaches the stack scripts/dev runs and no other.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
	"github.com/postloadhooks/hooks/scripts/devkit/rie"
	"github.com/postloadhooks/hooks/shared/notify"
)

func main() {
	if err := useLocalEnv(os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sendload:", err)
		os.Exit(1)
	}
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sendload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("sendload", flag.ContinueOnError)
	queue := fs.String("queue", "post-load-notifications", "queue name or URL")
	keep := fs.Bool("keep-load-id", false, "send each load_id as written (the same load twice sends nothing the second time)")
	loadID := fs.String("load-id", "", "send this load_id instead of a new one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: sendload [-queue NAME|URL] [-keep-load-id | -load-id ID] FILE... (or - for one message per line of stdin)")
	}
	if *keep && *loadID != "" {
		return errors.New("-keep-load-id and -load-id exclude each other")
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
		body, what := withLoadID(body, *keep, *loadID, newLoadID)
		in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
		// As loaders should: the account's message group, for SQS fair queues.
		if g := messageGroup(body); g != "" {
			in.MessageGroupId = aws.String(g)
		}
		out, err := client.SendMessage(ctx, in)
		if err != nil {
			return fmt.Errorf("send message: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "sent %s as message %s to %s\n", what, aws.ToString(out.MessageId), url)
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

// withLoadID returns body with its load_id replaced (a new one from fresh,
// or id), unless keep, and a description of what is sent. A body that is
// not a JSON object with a load_id is returned as is.
func withLoadID(body string, keep bool, id string, fresh func(string) string) (string, string) {
	var m map[string]json.RawMessage
	var old string
	if json.Unmarshal([]byte(body), &m) != nil || json.Unmarshal(m["load_id"], &old) != nil {
		return body, fmt.Sprintf("a message that is not a load notification (%d bytes, as given)", len(body))
	}
	if !keep {
		if id == "" {
			id = fresh(old)
		}
		b, _ := json.Marshal(id)
		m["load_id"] = b
		nb, err := json.Marshal(m)
		if err != nil {
			return body, "a message as given"
		}
		body, old = string(nb), id
	}
	var client int64
	var status string
	json.Unmarshal(m["client_id"], &client)
	json.Unmarshal(m["status"], &status)
	return body, fmt.Sprintf("load %q (client %d, %s)", old, client, status)
}

// messageGroup is the MessageGroupId a loader sets on body: its client_id
// (notify.MessageGroupID), or "" for a body without one.
func messageGroup(body string) string {
	var m struct {
		ClientID int64 `json:"client_id"`
	}
	if json.Unmarshal([]byte(body), &m) != nil || m.ClientID <= 0 {
		return ""
	}
	return notify.MessageGroupID(m.ClientID)
}

// newLoadID is base with the time and a random suffix appended, within the
// 128 characters a load_id may have.
func newLoadID(base string) string {
	if r := []rune(base); len(r) > 80 {
		base = string(r[:80])
	}
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s-%s-%s", base, time.Now().UTC().Format("20060102T150405"), hex.EncodeToString(b))
}

// useLocalEnv applies the local environment file, when scripts/dev wrote
// one, over the process's environment, and says so on stderr.
func useLocalEnv(getenv func(string) string, stderr io.Writer) error {
	root, err := rie.RepoRoot(getenv)
	if err != nil {
		return nil // not in a checkout: the caller's environment alone
	}
	env, path, ok, err := localenv.Load(root, getenv)
	if err != nil || !ok {
		return err
	}
	if err := env.Apply(os.Setenv); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sendload: the stack of %s (SQS %s); watch the scripts/dev terminal (and scripts/listen) for what each load does\n", path, env["AWS_ENDPOINT_URL_SQS"])
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
	return localenv.QueueURL(os.Getenv("AWS_ENDPOINT_URL_SQS"), aws.ToString(out.QueueUrl)), nil
}
