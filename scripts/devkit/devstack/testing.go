package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
)

// The SDK's own endpoint variables; scripts/stack env prints them.
const (
	EnvDynamoDB = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvSQS      = "AWS_ENDPOINT_URL_SQS"
	EnvSESv2    = "AWS_ENDPOINT_URL_SESV2"
)

// Region is the region every local client uses.
const Region = "us-east-1"

// setupTimeout bounds creating or deleting one test's resources.
const setupTimeout = 30 * time.Second

// requireEndpoints skips t unless every named endpoint variable is set. It
// fails t instead when the emulators must be there: CI=true or
// HOOKS_REQUIRE_EMULATORS=1 (scripts/test sets it), so a broken setup can
// never pass as "skipped".
func requireEndpoints(t testing.TB, vars ...string) {
	t.Helper()
	err := CheckEndpoints(os.Getenv, vars...)
	if err == nil {
		return
	}
	Missing(t, err.Error()+": run scripts/test, or scripts/stack start and eval \"$(scripts/stack env)\"")
}

// Missing ends t for want of something it needs (an emulator, a tool):
// skipped in a plain go test, failed when everything must be there (CI=true
// or HOOKS_REQUIRE_EMULATORS=1, as scripts/test sets it).
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" || os.Getenv("HOOKS_REQUIRE_EMULATORS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// CheckEndpoints returns an error naming every endpoint variable of vars
// (EnvDynamoDB, EnvSQS, EnvSESv2) that getenv has no value for, so tests
// and tools refuse to run rather than talk to AWS itself.
func CheckEndpoints(getenv func(string) string, vars ...string) error {
	var missing []string
	for _, v := range vars {
		if getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not set", strings.Join(missing, ", "))
	}
	return nil
}

// AWSConfig returns an SDK config for the local emulators: region us-east-1,
// static credentials "local", endpoints from the AWS_ENDPOINT_URL_* variables
// (all three must be set, else the test is skipped or failed, see above).
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	requireEndpoints(t, EnvDynamoDB, EnvSQS, EnvSESv2)
	return localConfig(t)
}

func localConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := LocalConfig(context.Background())
	if err != nil {
		t.Fatalf("load aws config: %v", err)
	}
	return cfg
}

// LocalConfig is the SDK config for the emulators outside tests: region
// us-east-1 and static credentials "local", whatever the environment's
// profile says, and endpoints from the AWS_ENDPOINT_URL_* variables.
func LocalConfig(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
	)
}

// uniqueSuffix is a short random string for resource names.
func uniqueSuffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	return hex.EncodeToString(b)
}

func templateFor(t testing.TB) string {
	t.Helper()
	path, err := TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// DynamoDB returns a client and the name of a fresh table built from
// template.yaml's HooksTable (TTL on), deleted when the test ends.
func DynamoDB(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	requireEndpoints(t, EnvDynamoDB)
	db := NewDynamoDB(localConfig(t))
	name := "hooks-test-" + uniqueSuffix(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	if err := CreateTable(ctx, db, templateFor(t), name); err != nil {
		t.Fatal(err)
	}
	return db, name
}

// SQS returns a client and the URLs of a fresh set of the template's queues
// (names suffixed uniquely, redrive policies as in the template), deleted
// when the test ends.
func SQS(t testing.TB) (*sqs.Client, Queues) {
	t.Helper()
	requireEndpoints(t, EnvSQS)
	client := sqs.NewFromConfig(localConfig(t))
	suffix := "-t" + uniqueSuffix(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	defs, err := QueueInputs(templateFor(t), suffix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		for _, d := range defs {
			out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(d.Name)})
			if err != nil {
				continue // never created
			}
			if _, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}); err != nil {
				t.Errorf("delete queue %s: %v", d.Name, err)
			}
		}
	})
	q, err := CreateQueues(ctx, client, templateFor(t), suffix)
	if err != nil {
		t.Fatal(err)
	}
	return client, q
}

// SESv2 returns a client for the SES v2 emulator and the emulator's base URL
// (package inbox reads the mail it has accepted). The emulator keeps one
// mailbox for everyone, so tests should look for their own unique addresses.
func SESv2(t testing.TB) (*sesv2.Client, string) {
	t.Helper()
	requireEndpoints(t, EnvSESv2)
	return sesv2.NewFromConfig(localConfig(t)), strings.TrimRight(os.Getenv(EnvSESv2), "/")
}

// Receiver serves h (a receiver.Server, usually) over TLS on a free
// loopback port for the rest of t, under a CA made for it, and returns the
// listener and the path of the CA's PEM file, for a webhook client's
// ExtraCAFile.
func Receiver(t testing.TB, h http.Handler) (*receiver.Listener, string) {
	t.Helper()
	cfg, ca, err := receiver.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := receiver.Serve("127.0.0.1:0", h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Down)
	return l, caFile
}
