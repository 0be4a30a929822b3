// Package devstack creates the service's DynamoDB table and SQS queues on
// local emulators from template.yaml, so the template stays the one source of
// truth for key schemas, TTL, visibility timeouts and redrive policies. It
// also gives tests fresh, uniquely named resources on the emulators.
//
// It is for development and tests only: it never deploys to AWS, does not
// start or stop the emulators (scripts/stack does) and understands only the
// parts of template.yaml that matter to local resources. It does not parse
// YAML itself: scripts/devkit/samtemplate reads the template.
package devstack

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

// TableLogicalID is the logical id of the table in template.yaml.
const TableLogicalID = "HooksTable"

// Logical ids of the queues in template.yaml.
const (
	NotificationsQueueID = "NotificationsQueue"
	NotificationsDLQID   = "NotificationsDLQ"
	RetryQueueID         = "RetryQueue"
	RetryDLQID           = "RetryDLQ"
	AlertsQueueID        = "AlertsQueue"
	AlertsDLQID          = "AlertsDLQ"
)

// templateFile is the name of the SAM template at the repository root.
const templateFile = "template.yaml"

// TemplatePath finds template.yaml by walking up from the working directory
// to the directory holding go.mod (the repository root).
func TemplatePath() (string, error) {
	root, err := samtemplate.Root()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", templateFile, err)
	}
	return filepath.Join(root, templateFile), nil
}

// QueueDef is one AWS::SQS::Queue of the template, resolved for local use.
type QueueDef struct {
	LogicalID string
	// Name is the QueueName with ${NameSuffix} substituted.
	Name string
	// Attributes are the SQS queue attributes the template sets (for example
	// VisibilityTimeout, MessageRetentionPeriod), RedrivePolicy excluded.
	Attributes map[string]string
	// DeadLetterQueue is the logical id of the redrive target, "" if none.
	DeadLetterQueue string
	// MaxReceiveCount is the redrive policy's receive count (0 if none).
	MaxReceiveCount int
}

// loadTemplate reads the template with samtemplate, the one parser of
// template.yaml.
func loadTemplate(path string) (*samtemplate.Template, error) {
	t, err := samtemplate.Load(path)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// properties returns the Properties of resource id, which must be of type
// wantType.
func properties(t *samtemplate.Template, id, wantType string) (map[string]any, error) {
	r, ok := t.Resources[id]
	if !ok {
		return nil, fmt.Errorf("resource %s: not in template", id)
	}
	if r.Type != wantType {
		return nil, fmt.Errorf("resource %s: not of type %s", id, wantType)
	}
	return r.Properties, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// scalar resolves a property value to a string: plain scalars, !Sub over
// the given parameters and !Ref of a parameter (samtemplate.Resolve), and
// says which of them cannot be resolved locally.
func scalar(v any, params map[string]string) (string, error) {
	if v == nil {
		return "", errors.New("missing value")
	}
	if s, ok := samtemplate.Resolve(v, params); ok {
		return s, nil
	}
	if sub, ok := samtemplate.Sub(v); ok {
		for _, m := range subVar.FindAllStringSubmatch(sub, -1) {
			if _, known := params[m[1]]; !known {
				return "", fmt.Errorf("cannot resolve ${%s} locally", m[1])
			}
		}
	}
	if ref, ok := samtemplate.Ref(v); ok {
		return "", fmt.Errorf("cannot resolve !Ref %s locally", ref)
	}
	return "", fmt.Errorf("unsupported value %v", v)
}

// getAttTarget returns X of "!GetAtt X.Arn" (or the long forms).
func getAttTarget(v any) (string, error) {
	id, attr, ok := samtemplate.GetAtt(v)
	if m, isMap := v.(map[string]any); !ok && isMap && len(m) == 1 {
		// {"Fn::GetAtt": "X.Arn"}, the long form with a dotted string.
		if s, isStr := m["Fn::GetAtt"].(string); isStr {
			if i := strings.LastIndexByte(s, '.'); i >= 0 {
				id, attr, ok = s[:i], s[i+1:], true
			}
		}
	}
	if !ok || attr != "Arn" {
		return "", errors.New("want !GetAtt <Queue>.Arn")
	}
	return id, nil
}

// str is a scalar property value as a string ("" for anything else).
func str(v any) string {
	s, ok := samtemplate.Resolve(v, nil)
	if !ok {
		return ""
	}
	return s
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TableInput builds the CreateTable input for the template's HooksTable under
// the given name, and the UpdateTimeToLive input for its TTL (nil if the
// template sets none). Point-in-time recovery is not part of CreateTable and
// is left out; so is anything DynamoDB Local cannot emulate.
func TableInput(templatePath, name string) (*dynamodb.CreateTableInput, *dynamodb.UpdateTimeToLiveInput, error) {
	t, err := loadTemplate(templatePath)
	if err != nil {
		return nil, nil, err
	}
	props, err := properties(t, TableLogicalID, "AWS::DynamoDB::Table")
	if err != nil {
		return nil, nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	var ttl *dynamodb.UpdateTimeToLiveInput
	for _, key := range slices.Sorted(maps.Keys(props)) {
		val := props[key]
		switch key {
		case "BillingMode":
			in.BillingMode = types.BillingMode(str(val))
		case "AttributeDefinitions":
			for _, d := range asSlice(val) {
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
					AttributeName: aws.String(str(asMap(d)["AttributeName"])),
					AttributeType: types.ScalarAttributeType(str(asMap(d)["AttributeType"])),
				})
			}
		case "KeySchema":
			for _, k := range asSlice(val) {
				in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
					AttributeName: aws.String(str(asMap(k)["AttributeName"])),
					KeyType:       types.KeyType(str(asMap(k)["KeyType"])),
				})
			}
		case "GlobalSecondaryIndexes":
			for _, g := range asSlice(val) {
				in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, indexInput(asMap(g)))
			}
		case "SSESpecification":
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(str(asMap(val)["SSEEnabled"]) == "true")}
		case "TimeToLiveSpecification":
			ttl = &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{
					AttributeName: aws.String(str(asMap(val)["AttributeName"])),
					Enabled:       aws.Bool(str(asMap(val)["Enabled"]) == "true"),
				},
			}
		case "PointInTimeRecoverySpecification", "TableName", "Tags", "DeletionProtectionEnabled":
			// Not part of a local table's shape.
		default:
			return nil, nil, fmt.Errorf("resource %s: property %s is not supported by devstack", TableLogicalID, key)
		}
	}
	if len(in.KeySchema) == 0 || len(in.AttributeDefinitions) == 0 {
		return nil, nil, fmt.Errorf("resource %s: no KeySchema or AttributeDefinitions", TableLogicalID)
	}
	return in, ttl, nil
}

// indexInput is a global secondary index of the template's table.
func indexInput(g map[string]any) types.GlobalSecondaryIndex {
	idx := types.GlobalSecondaryIndex{IndexName: aws.String(str(g["IndexName"]))}
	for _, k := range asSlice(g["KeySchema"]) {
		idx.KeySchema = append(idx.KeySchema, types.KeySchemaElement{
			AttributeName: aws.String(str(asMap(k)["AttributeName"])),
			KeyType:       types.KeyType(str(asMap(k)["KeyType"])),
		})
	}
	p := asMap(g["Projection"])
	idx.Projection = &types.Projection{ProjectionType: types.ProjectionType(str(p["ProjectionType"]))}
	for _, a := range asSlice(p["NonKeyAttributes"]) {
		idx.Projection.NonKeyAttributes = append(idx.Projection.NonKeyAttributes, str(a))
	}
	return idx
}

// QueueInputs returns every AWS::SQS::Queue of the template with its name
// resolved for nameSuffix (the NameSuffix parameter). Queues that others
// redrive to come first, so they can be created in the returned order.
func QueueInputs(templatePath, nameSuffix string) ([]QueueDef, error) {
	t, err := loadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	params := map[string]string{"NameSuffix": nameSuffix}
	var defs []QueueDef
	for _, id := range t.ResourceOrder {
		r := t.Resources[id]
		if r.Type != "AWS::SQS::Queue" {
			continue
		}
		d, err := queueDef(id, r.Properties, params)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		defs = append(defs, d)
	}
	known := map[string]bool{}
	for _, d := range defs {
		known[d.LogicalID] = true
	}
	for _, d := range defs {
		if d.DeadLetterQueue != "" && !known[d.DeadLetterQueue] {
			return nil, fmt.Errorf("resource %s: dead-letter queue %s is not a queue of the template", d.LogicalID, d.DeadLetterQueue)
		}
	}
	// Dead-letter targets first; otherwise keep file order.
	sort.SliceStable(defs, func(i, j int) bool {
		return defs[i].DeadLetterQueue == "" && defs[j].DeadLetterQueue != ""
	})
	return defs, nil
}

func queueDef(id string, props map[string]any, params map[string]string) (QueueDef, error) {
	d := QueueDef{LogicalID: id, Attributes: map[string]string{}}
	if props == nil {
		return d, errors.New("no Properties (QueueName is required)")
	}
	for _, key := range slices.Sorted(maps.Keys(props)) {
		val := props[key]
		switch key {
		case "QueueName":
			name, err := scalar(val, params)
			if err != nil {
				return d, fmt.Errorf("QueueName: %w", err)
			}
			d.Name = name
		case "RedrivePolicy":
			rp := asMap(val)
			target, err := getAttTarget(rp["deadLetterTargetArn"])
			if err != nil {
				return d, fmt.Errorf("RedrivePolicy: %w", err)
			}
			n, err := strconv.Atoi(str(rp["maxReceiveCount"]))
			if err != nil || n < 1 {
				return d, errors.New("RedrivePolicy: maxReceiveCount must be a positive integer")
			}
			d.DeadLetterQueue, d.MaxReceiveCount = target, n
		case "Tags":
		default:
			v, err := scalar(val, params)
			if err != nil {
				return d, fmt.Errorf("%s: %w", key, err)
			}
			d.Attributes[key] = v
		}
	}
	if d.Name == "" {
		return d, errors.New("no QueueName")
	}
	return d, nil
}
