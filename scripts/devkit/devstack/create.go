package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queues holds the URLs of one set of the template's queues, and the ARNs
// of the three that functions consume (what Lambda's SQS event source puts
// in each record's eventSourceARN).
type Queues struct {
	Notifications, NotificationsDLQ string
	Retry, RetryDLQ                 string
	Alerts, AlertsDLQ               string

	NotificationsARN, RetryARN, AlertsARN string
}

// Names chooses the names of the resources CreateAll creates.
type Names struct {
	// Table is the DynamoDB table name.
	Table string
	// QueueSuffix is substituted for the template's NameSuffix parameter.
	QueueSuffix string
}

// Resources are what CreateAll created (or found).
type Resources struct {
	Table  string
	Queues Queues
}

// CreateAll creates the template's table and queues under the given names on
// the endpoints cfg points at. Resources that already exist are kept (a
// queue's attributes are brought in line with the template), so it can run
// any number of times.
func CreateAll(ctx context.Context, cfg aws.Config, templatePath string, n Names) (Resources, error) {
	if err := CreateTable(ctx, NewDynamoDB(cfg), templatePath, n.Table); err != nil {
		return Resources{}, err
	}
	q, err := CreateQueues(ctx, sqs.NewFromConfig(cfg), templatePath, n.QueueSuffix)
	if err != nil {
		return Resources{}, err
	}
	return Resources{Table: n.Table, Queues: q}, nil
}

// NewDynamoDB returns a DynamoDB client for DynamoDB Local. It skips the
// response CRC32 check: DynamoDB Local sends no X-Amz-Crc32 header on error
// responses and the SDK then logs a spurious warning on each one
// (aws/aws-sdk-go-v2#3545). Nothing else differs from dynamodb.NewFromConfig.
func NewDynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
}

// CreateTable creates the template's HooksTable named name, waits until it is
// active and turns on its TTL. An existing table is fine.
func CreateTable(ctx context.Context, db *dynamodb.Client, templatePath, name string) error {
	in, ttl, err := TableInput(templatePath, name)
	if err != nil {
		return err
	}
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *dbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		_, err = db.CreateTable(ctx, in)
		var inUse *dbtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if ttl == nil {
		return nil
	}
	cur, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe ttl of %s: %w", name, err)
	}
	want := ttl.TimeToLiveSpecification
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == aws.ToString(want.AttributeName) {
		on := d.TimeToLiveStatus == dbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == dbtypes.TimeToLiveStatusEnabling
		if on == aws.ToBool(want.Enabled) {
			return nil
		}
	}
	if _, err := db.UpdateTimeToLive(ctx, ttl); err != nil {
		return fmt.Errorf("set ttl of %s: %w", name, err)
	}
	return nil
}

// CreateQueues creates every queue of the template with nameSuffix appended
// to its name, dead-letter queues first, and returns their URLs. Existing
// queues are kept and their attributes set to the template's.
func CreateQueues(ctx context.Context, client *sqs.Client, templatePath, nameSuffix string) (Queues, error) {
	defs, err := QueueInputs(templatePath, nameSuffix)
	if err != nil {
		return Queues{}, err
	}
	urls := map[string]string{}
	arns := map[string]string{}
	for _, d := range defs {
		attrs := map[string]string{}
		for k, v := range d.Attributes {
			attrs[k] = v
		}
		if d.DeadLetterQueue != "" {
			target := arns[d.DeadLetterQueue]
			if target == "" {
				if target, err = queueARN(ctx, client, urls[d.DeadLetterQueue]); err != nil {
					return Queues{}, fmt.Errorf("queue arn of %s: %w", d.DeadLetterQueue, err)
				}
				arns[d.DeadLetterQueue] = target
			}
			policy, err := json.Marshal(map[string]string{
				"deadLetterTargetArn": target,
				"maxReceiveCount":     strconv.Itoa(d.MaxReceiveCount),
			})
			if err != nil {
				return Queues{}, err
			}
			attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(policy)
		}
		url, err := createQueue(ctx, client, d.Name, attrs)
		if err != nil {
			return Queues{}, err
		}
		urls[d.LogicalID] = url
	}
	q := Queues{
		Notifications:    urls[NotificationsQueueID],
		NotificationsDLQ: urls[NotificationsDLQID],
		Retry:            urls[RetryQueueID],
		RetryDLQ:         urls[RetryDLQID],
		Alerts:           urls[AlertsQueueID],
		AlertsDLQ:        urls[AlertsDLQID],
	}
	for id, u := range map[string]string{
		NotificationsQueueID: q.Notifications, NotificationsDLQID: q.NotificationsDLQ,
		RetryQueueID: q.Retry, RetryDLQID: q.RetryDLQ, AlertsQueueID: q.Alerts, AlertsDLQID: q.AlertsDLQ,
	} {
		if u == "" {
			return Queues{}, fmt.Errorf("queue %s: not in template", id)
		}
	}
	for _, a := range []struct {
		dst *string
		url string
	}{{&q.NotificationsARN, q.Notifications}, {&q.RetryARN, q.Retry}, {&q.AlertsARN, q.Alerts}} {
		if *a.dst, err = queueARN(ctx, client, a.url); err != nil {
			return Queues{}, fmt.Errorf("queue arn of %s: %w", a.url, err)
		}
	}
	return q, nil
}

// queueARN reads the ARN of the queue at url.
func queueARN(ctx context.Context, client *sqs.Client, url string) (string, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", err
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", errors.New("no QueueArn attribute")
	}
	return arn, nil
}

func createQueue(ctx context.Context, client *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err == nil {
		return aws.ToString(out.QueueUrl), nil
	}
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	// It exists with other attributes: converge on the template's.
	got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("queue url of %s: %w", name, err)
	}
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: got.QueueUrl, Attributes: attrs}); err != nil {
		return "", fmt.Errorf("set attributes of queue %s: %w", name, err)
	}
	return aws.ToString(got.QueueUrl), nil
}

// Depth is how many messages a queue counts in each state, as
// GetQueueAttributes reports them. goaws v0.5.4 counts every message it holds
// in Visible, those in flight or delayed in NotVisible as well, and does not
// report Delayed, so only Total() == 0 (the queue holds nothing) means the
// same on goaws as on SQS.
type Depth struct{ Visible, NotVisible, Delayed int }

// Total is the sum of the three counts.
func (d Depth) Total() int { return d.Visible + d.NotVisible + d.Delayed }

// String is "visible/not visible/delayed".
func (d Depth) String() string { return fmt.Sprintf("%d/%d/%d", d.Visible, d.NotVisible, d.Delayed) }

// QueueDepth reads the counts of the queue at url.
func QueueDepth(ctx context.Context, client *sqs.Client, url string) (Depth, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return Depth{}, fmt.Errorf("queue attributes of %s: %w", url, err)
	}
	count := func(name sqstypes.QueueAttributeName) int {
		n, _ := strconv.Atoi(out.Attributes[string(name)]) // absent: 0
		return n
	}
	return Depth{
		Visible:    count(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
		NotVisible: count(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:    count(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}
