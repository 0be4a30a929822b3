// Package devstack creates the service's DynamoDB table and SQS queues on
// local emulators from template.yaml, so the template stays the one source of
// truth for key schemas, TTL, visibility timeouts and redrive policies. It
// also gives tests fresh, uniquely named resources on the emulators.
//
// It is for development and tests only: it never deploys to AWS, does not
// start or stop the emulators (scripts/stack does) and understands only the
// parts of template.yaml that matter to local resources.
package devstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
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
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", templateFile, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, templateFile), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find %s: no go.mod above the working directory", templateFile)
		}
		dir = parent
	}
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

// template is a parsed SAM template.
type template struct {
	resources map[string]*yaml.Node // logical id -> resource mapping node
	order     []string              // logical ids in file order
}

func loadTemplate(path string) (*template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse template %s: not a mapping", path)
	}
	res := lookup(doc.Content[0], "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse template %s: no Resources", path)
	}
	t := &template{resources: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		t.resources[id] = res.Content[i+1]
		t.order = append(t.order, id)
	}
	return t, nil
}

// lookup returns the value of key in mapping node m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (t *template) resource(id, wantType string) (*yaml.Node, error) {
	r, ok := t.resources[id]
	if !ok {
		return nil, fmt.Errorf("resource %s: not in template", id)
	}
	if typ := lookup(r, "Type"); typ == nil || typ.Value != wantType {
		return nil, fmt.Errorf("resource %s: not of type %s", id, wantType)
	}
	return lookup(r, "Properties"), nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// scalar resolves a property value to a string: plain scalars, !Sub / Fn::Sub
// over the given parameters, and !Ref / Ref of a parameter.
func scalar(n *yaml.Node, params map[string]string) (string, error) {
	if n == nil {
		return "", errors.New("missing value")
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		// Long form: {"Fn::Sub": "..."} or {"Ref": "..."}.
		inner := *n.Content[1]
		switch n.Content[0].Value {
		case "Fn::Sub":
			inner.Tag = "!Sub"
		case "Ref":
			inner.Tag = "!Ref"
		}
		n = &inner
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: unsupported value", n.Line)
	}
	switch n.Tag {
	case "!Sub":
		var bad error
		out := subVar.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			v, ok := params[name]
			if !ok && bad == nil {
				bad = fmt.Errorf("line %d: cannot resolve ${%s} locally", n.Line, name)
			}
			return v
		})
		return out, bad
	case "!Ref":
		v, ok := params[n.Value]
		if !ok {
			return "", fmt.Errorf("line %d: cannot resolve !Ref %s locally", n.Line, n.Value)
		}
		return v, nil
	case "", "!!str", "!!int", "!!bool", "!!float":
		return n.Value, nil
	default:
		return "", fmt.Errorf("line %d: unsupported tag %s", n.Line, n.Tag)
	}
}

// getAttTarget returns X of "!GetAtt X.Arn" (or the long forms).
func getAttTarget(n *yaml.Node) (string, error) {
	if n == nil {
		return "", errors.New("missing value")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!GetAtt" {
		id, attr, ok := cutLast(n.Value, '.')
		if !ok || attr != "Arn" {
			return "", fmt.Errorf("line %d: want !GetAtt <Queue>.Arn", n.Line)
		}
		return id, nil
	}
	if n.Kind == yaml.SequenceNode && n.Tag == "!GetAtt" && len(n.Content) == 2 && n.Content[1].Value == "Arn" {
		return n.Content[0].Value, nil
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Fn::GetAtt" {
		v := n.Content[1]
		if v.Kind == yaml.SequenceNode && len(v.Content) == 2 && v.Content[1].Value == "Arn" {
			return v.Content[0].Value, nil
		}
		if v.Kind == yaml.ScalarNode {
			inner := *v
			inner.Tag = "!GetAtt"
			return getAttTarget(&inner)
		}
	}
	return "", fmt.Errorf("line %d: want !GetAtt <Queue>.Arn", n.Line)
}

func cutLast(s string, sep byte) (string, string, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
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
	props, err := t.resource(TableLogicalID, "AWS::DynamoDB::Table")
	if err != nil {
		return nil, nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	var ttl *dynamodb.UpdateTimeToLiveInput
	for i := 0; i+1 < len(props.Content); i += 2 {
		key, val := props.Content[i].Value, props.Content[i+1]
		switch key {
		case "BillingMode":
			in.BillingMode = types.BillingMode(val.Value)
		case "AttributeDefinitions":
			for _, d := range val.Content {
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
					AttributeName: aws.String(lookupValue(d, "AttributeName")),
					AttributeType: types.ScalarAttributeType(lookupValue(d, "AttributeType")),
				})
			}
		case "KeySchema":
			for _, k := range val.Content {
				in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
					AttributeName: aws.String(lookupValue(k, "AttributeName")),
					KeyType:       types.KeyType(lookupValue(k, "KeyType")),
				})
			}
		case "SSESpecification":
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(lookupValue(val, "SSEEnabled") == "true")}
		case "TimeToLiveSpecification":
			ttl = &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{
					AttributeName: aws.String(lookupValue(val, "AttributeName")),
					Enabled:       aws.Bool(lookupValue(val, "Enabled") == "true"),
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

func lookupValue(m *yaml.Node, key string) string {
	if v := lookup(m, key); v != nil {
		return v.Value
	}
	return ""
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
	for _, id := range t.order {
		if lookupValue(t.resources[id], "Type") != "AWS::SQS::Queue" {
			continue
		}
		d, err := queueDef(id, lookup(t.resources[id], "Properties"), params)
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

func queueDef(id string, props *yaml.Node, params map[string]string) (QueueDef, error) {
	d := QueueDef{LogicalID: id, Attributes: map[string]string{}}
	if props == nil {
		return d, errors.New("no Properties (QueueName is required)")
	}
	for i := 0; i+1 < len(props.Content); i += 2 {
		key, val := props.Content[i].Value, props.Content[i+1]
		switch key {
		case "QueueName":
			name, err := scalar(val, params)
			if err != nil {
				return d, fmt.Errorf("QueueName: %w", err)
			}
			d.Name = name
		case "RedrivePolicy":
			target, err := getAttTarget(lookup(val, "deadLetterTargetArn"))
			if err != nil {
				return d, fmt.Errorf("RedrivePolicy: %w", err)
			}
			n, err := strconv.Atoi(lookupValue(val, "maxReceiveCount"))
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
