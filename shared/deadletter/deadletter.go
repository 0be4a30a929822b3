// Package deadletter moves a queue message that can never be processed to
// its dead-letter queue, with the reason it was refused.
//
// Every function that reads a queue treats a malformed record the same way:
// it logs the reason (a reason names fields and rules, never a value of the
// message), puts the record's body, byte for byte, on the dead-letter queue
// of the queue it came from with the reason as the message attribute
// "reason", and acknowledges the record. Only if that send fails is the
// record reported as failed, so SQS delivers it again and the queue's own
// redrive policy ends the loop. Retrying a malformed record could never
// succeed; moving it at once keeps the reason beside the message.
//
// The package sends; it does not log and does not decide what is malformed.
package deadletter

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ReasonAttribute is the message attribute that carries the reason.
const ReasonAttribute = "reason"

// messageSender puts one message on a queue (the SQS client).
type messageSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Send puts body on the dead-letter queue at queueURL with reason.
func Send(ctx context.Context, q messageSender, queueURL, body, reason string) error {
	_, err := q.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			ReasonAttribute: {DataType: aws.String("String"), StringValue: aws.String(reason)},
		},
	})
	if err != nil {
		return fmt.Errorf("dead-letter send: %w", err)
	}
	return nil
}
