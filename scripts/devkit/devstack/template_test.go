package devstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var ignoreSDK = cmpopts.IgnoreUnexported(
	dynamodb.CreateTableInput{}, dynamodb.UpdateTimeToLiveInput{},
	types.AttributeDefinition{}, types.KeySchemaElement{}, types.SSESpecification{}, types.TimeToLiveSpecification{},
	types.GlobalSecondaryIndex{}, types.Projection{},
)

func repoTemplate(t *testing.T) string {
	t.Helper()
	path, err := TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTemplatePathFindsRepoRoot(t *testing.T) {
	got := repoTemplate(t)
	want, err := filepath.Abs("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("TemplatePath() = %q, want %q", got, want)
	}
}

func TestTableInput(t *testing.T) {
	create, ttl, err := TableInput(repoTemplate(t), "hooks-x")
	if err != nil {
		t.Fatal(err)
	}
	wantCreate := &dynamodb.CreateTableInput{
		TableName:   aws.String("hooks-x"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gpk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gsk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("by_created"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("gpk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("gsk"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: []string{"client_id", "load_id", "in", "tb", "h"},
			},
		}},
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)},
	}
	if diff := cmp.Diff(create, wantCreate, ignoreSDK); diff != "" {
		t.Errorf("create input (-got +want):\n%s", diff)
	}
	wantTTL := &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String("hooks-x"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String("expires_at"),
			Enabled:       aws.Bool(true),
		},
	}
	if diff := cmp.Diff(ttl, wantTTL, ignoreSDK); diff != "" {
		t.Errorf("ttl input (-got +want):\n%s", diff)
	}
}

func TestQueueInputs(t *testing.T) {
	got, err := QueueInputs(repoTemplate(t), "-dev")
	if err != nil {
		t.Fatal(err)
	}
	dlq := map[string]string{"MessageRetentionPeriod": "1209600"}
	want := []QueueDef{
		{LogicalID: "NotificationsDLQ", Name: "post-load-notifications-dlq-dev", Attributes: dlq},
		{LogicalID: "RetryDLQ", Name: "post-load-retries-dlq-dev", Attributes: dlq},
		{LogicalID: "AlertsDLQ", Name: "post-load-alerts-dlq-dev", Attributes: dlq},
		{LogicalID: "NotificationsQueue", Name: "post-load-notifications-dev", Attributes: map[string]string{"VisibilityTimeout": "360"},
			DeadLetterQueue: "NotificationsDLQ", MaxReceiveCount: 5},
		{LogicalID: "RetryQueue", Name: "post-load-retries-dev", Attributes: map[string]string{"VisibilityTimeout": "360"},
			DeadLetterQueue: "RetryDLQ", MaxReceiveCount: 5},
		{LogicalID: "AlertsQueue", Name: "post-load-alerts-dev", Attributes: map[string]string{"VisibilityTimeout": "180"},
			DeadLetterQueue: "AlertsDLQ", MaxReceiveCount: 5},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("QueueInputs (-got +want):\n%s", diff)
	}
}

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestQueueInputsLongFormsAndErrors(t *testing.T) {
	t.Run("long forms", func(t *testing.T) {
		path := writeTemplate(t, `
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {"Fn::Sub": "q${NameSuffix}"}
      DelaySeconds: 7
      RedrivePolicy:
        deadLetterTargetArn: {"Fn::GetAtt": [D, Arn]}
        maxReceiveCount: 3
  D:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub d${NameSuffix}
`)
		got, err := QueueInputs(path, "-s")
		if err != nil {
			t.Fatal(err)
		}
		want := []QueueDef{
			{LogicalID: "D", Name: "d-s", Attributes: map[string]string{}},
			{LogicalID: "Q", Name: "q-s", Attributes: map[string]string{"DelaySeconds": "7"}, DeadLetterQueue: "D", MaxReceiveCount: 3},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("QueueInputs (-got +want):\n%s", diff)
		}
	})

	t.Run("long GetAtt with a dotted string", func(t *testing.T) {
		path := writeTemplate(t, `
Resources:
  D:
    Type: AWS::SQS::Queue
    Properties: {QueueName: d}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {Ref: NameSuffix}
      RedrivePolicy: {deadLetterTargetArn: {"Fn::GetAtt": "D.Arn"}, maxReceiveCount: "2"}
`)
		got, err := QueueInputs(path, "q-only")
		if err != nil {
			t.Fatal(err)
		}
		want := []QueueDef{
			{LogicalID: "D", Name: "d", Attributes: map[string]string{}},
			{LogicalID: "Q", Name: "q-only", Attributes: map[string]string{}, DeadLetterQueue: "D", MaxReceiveCount: 2},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("QueueInputs (-got +want):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"unknown sub variable", `
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "q-${AWS::StackName}"
`, "cannot resolve ${AWS::StackName}"},
		{"ref of a resource", `
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref Other
`, "cannot resolve !Ref Other"},
		{"missing dead-letter queue", `
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: q
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Nope.Arn
        maxReceiveCount: 5
`, "dead-letter queue Nope"},
		{"bad receive count", `
Resources:
  D:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: d
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: q
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt D.Arn
        maxReceiveCount: many
`, "maxReceiveCount"},
		{"no name", `
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 3
`, "no QueueName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := QueueInputs(writeTemplate(t, tc.body), "")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("QueueInputs error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTableInputErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"no table", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "not in template"},
		{"wrong type", "Resources:\n  HooksTable:\n    Type: AWS::SQS::Queue\n", "not of type"},
		{"unsupported property", `
Resources:
  HooksTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {}
`, "StreamSpecification is not supported"},
		{"no keys", `
Resources:
  HooksTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
`, "no KeySchema"},
		{"not yaml", "Resources: [\n", "parse template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := TableInput(writeTemplate(t, tc.body), "x")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("TableInput error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
