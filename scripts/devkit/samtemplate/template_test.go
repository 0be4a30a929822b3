package samtemplate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadRepoTemplate(t *testing.T) *Template {
	t.Helper()
	tp, err := Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tp
}

var checks = []struct {
	name  string
	check check
}{
	{"parses as a SAM template", checkParses},
	{"every CodeUri builds", checkCodeURIBuilds},
	{"environment matches what the code reads", checkEnvironment},
	{"SQS events report batch item failures", checkReportBatchItemFailures},
	{"queues have DLQs and long enough visibility", checkQueues},
	{"API timeout at most 29 s", checkAPITimeout},
	{"globals: provided.al2023 arm64 bootstrap JSON logs", checkGlobals},
	{"least privilege", checkLeastPrivilege},
	{"each role reaches its event sources and log group", checkRoleReaches},
	{"SES only SendEmail on the identity", checkSES},
	{"HTTP API routes: admin on AWS_IAM, app and hooks without", checkAPIRoutes},
	{"outputs give the API and queue URLs", checkOutputs},
	{"freshness check: one schedule at HOOKS_FRESHNESS_CHECK_EVERY, may queue its notifications", checkFreshnessSchedule},
}

// TestTemplate runs every check on the repository's template.yaml.
func TestTemplate(t *testing.T) {
	root := repoRoot(t)
	tp := loadRepoTemplate(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.check(tp, root) {
				t.Error(p)
			}
		})
	}
}

// fn returns the properties of a function of the template.
func props(tp *Template, id string) map[string]any {
	return tp.Resources[id].Properties
}

func sqsEvent(tp *Template, fn, event string) map[string]any {
	return asMap(asMap(asMap(props(tp, fn)["Events"])[event])["Properties"])
}

func env(tp *Template, fn string) map[string]any {
	return asMap(asMap(props(tp, fn)["Environment"])["Variables"])
}

// statementWith returns the first statement of fn's policies (its role's,
// as Functions reads them: the template's own maps, so changing the
// statement changes tp) whose actions include action.
func statementWith(tp *Template, fn, action string) map[string]any {
	f, _ := tp.Function(fn)
	for _, pol := range f.Policies {
		for _, s := range toSlice(asMap(pol)["Statement"]) {
			for _, a := range toSlice(asMap(s)["Action"]) {
				if a == action {
					return asMap(s)
				}
			}
		}
	}
	return nil
}

// queueOf returns the logical id of the queue an SQS event consumes.
func queueOf(tp *Template, fn, event string) string {
	q, _, _ := GetAtt(sqsEvent(tp, fn, event)["Queue"])
	return q
}

// TestChecksCatchMutations feeds each check a copy of template.yaml with one
// of the mistakes it guards against, and wants the check to notice.
func TestChecksCatchMutations(t *testing.T) {
	tests := []struct {
		name   string
		check  check
		mutate func(tp *Template)
	}{
		{"wrong transform", checkParses, func(tp *Template) { tp.Transform = "" }},
		{"CodeUri of a missing folder", checkCodeURIBuilds, func(tp *Template) { props(tp, "ApiFunction")["CodeUri"] = "functions/nope" }},
		{"CodeUri outside the repository", checkCodeURIBuilds, func(tp *Template) { props(tp, "AlerterFunction")["CodeUri"] = "../x" }},
		{"variable the code reads is missing", checkEnvironment, func(tp *Template) { delete(env(tp, "DispatcherFunction"), "HOOKS_RETRY_QUEUE_URL") }},
		{"table missing for the alerter", checkEnvironment, func(tp *Template) { delete(env(tp, "AlerterFunction"), "HOOKS_TABLE") }},
		{"variable nobody reads", checkEnvironment, func(tp *Template) { env(tp, "AlerterFunction")["HOOKS_UNUSED"] = "x" }},
		{"local-only admin token set in Lambda", checkEnvironment, func(tp *Template) { env(tp, "ApiFunction")["HOOKS_ADMIN_TOKEN"] = "x" }},
		{"no ReportBatchItemFailures", checkReportBatchItemFailures, func(tp *Template) { delete(sqsEvent(tp, "DispatcherFunction", "Retries"), "FunctionResponseTypes") }},
		{"ReportBatchItemFailures missing on the alerter", checkReportBatchItemFailures, func(tp *Template) {
			sqsEvent(tp, "AlerterFunction", "Alerts")["FunctionResponseTypes"] = []any{}
		}},
		{"queue without DLQ", checkQueues, func(tp *Template) { delete(props(tp, queueOf(tp, "AlerterFunction", "Alerts")), "RedrivePolicy") }},
		{"maxReceiveCount below 5", checkQueues, func(tp *Template) {
			asMap(props(tp, queueOf(tp, "DispatcherFunction", "Notifications"))["RedrivePolicy"])["maxReceiveCount"] = 4
		}},
		{"visibility timeout below 6x", checkQueues, func(tp *Template) {
			props(tp, queueOf(tp, "DispatcherFunction", "Retries"))["VisibilityTimeout"] = 359
		}},
		{"function timeout raised past the queue's", checkQueues, func(tp *Template) { props(tp, "AlerterFunction")["Timeout"] = 31 }},
		{"visibility timeout left at the SQS default", checkQueues, func(tp *Template) {
			delete(props(tp, queueOf(tp, "AlerterFunction", "Alerts")), "VisibilityTimeout")
		}},
		{"API timeout 30", checkAPITimeout, func(tp *Template) { props(tp, "ApiFunction")["Timeout"] = 30 }},
		{"runtime provided.al2", checkGlobals, func(tp *Template) { asMap(tp.Globals["Function"])["Runtime"] = "provided.al2" }},
		{"x86_64", checkGlobals, func(tp *Template) { asMap(tp.Globals["Function"])["Architectures"] = []any{"x86_64"} }},
		{"function overrides the architecture", checkGlobals, func(tp *Template) { props(tp, "DispatcherFunction")["Architectures"] = []any{"x86_64"} }},
		{"handler main", checkGlobals, func(tp *Template) { asMap(tp.Globals["Function"])["Handler"] = "main" }},
		{"text logs", checkGlobals, func(tp *Template) { asMap(asMap(tp.Globals["Function"])["LoggingConfig"])["LogFormat"] = "Text" }},
		{"no BuildMethod", checkGlobals, func(tp *Template) { delete(tp.Resources["AlerterFunction"].Metadata, "BuildMethod") }},
		{"Scan granted", checkLeastPrivilege, func(tp *Template) {
			s := statementWith(tp, "DispatcherFunction", "dynamodb:Query")
			s["Action"] = append(toSlice(s["Action"]), "dynamodb:Scan")
		}},
		{"dynamodb:* granted", checkLeastPrivilege, func(tp *Template) {
			statementWith(tp, "ApiFunction", "dynamodb:Query")["Action"] = "dynamodb:*"
		}},
		{"any resource", checkLeastPrivilege, func(tp *Template) {
			statementWith(tp, "ApiFunction", "dynamodb:Query")["Resource"] = "*"
		}},
		{"SAM policy template", checkLeastPrivilege, func(tp *Template) {
			props(tp, "ApiFunction")["Policies"] = []any{map[string]any{"DynamoDBCrudPolicy": map[string]any{"TableName": map[string]any{"Ref": "HooksTable"}}}}
		}},
		{"a role SAM makes", checkLeastPrivilege, func(tp *Template) { delete(props(tp, "DispatcherFunction"), "Role") }},
		{"a managed policy on a role", checkLeastPrivilege, func(tp *Template) {
			role, _, _ := GetAtt(props(tp, "AlerterFunction")["Role"])
			tp.Resources[role].Properties["ManagedPolicyArns"] = []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}
		}},
		{"no right to receive from an event source", checkRoleReaches, func(tp *Template) {
			statementWith(tp, "DispatcherFunction", "sqs:ReceiveMessage")["Resource"] = map[string]any{"Fn::GetAtt": []any{"NotificationsQueue", "Arn"}}
		}},
		{"no right to delete from the alerts queue", checkRoleReaches, func(tp *Template) {
			s := statementWith(tp, "AlerterFunction", "sqs:ReceiveMessage")
			s["Action"] = []any{"sqs:ReceiveMessage", "sqs:GetQueueAttributes"}
		}},
		{"logs to another function's group", checkRoleReaches, func(tp *Template) {
			statementWith(tp, "ApiFunction", "logs:PutLogEvents")["Resource"] = map[string]any{"Fn::GetAtt": []any{"AlerterFunctionLogs", "Arn"}}
		}},
		{"SES SendRawEmail", checkSES, func(tp *Template) {
			s := statementWith(tp, "AlerterFunction", "ses:SendEmail")
			s["Action"] = append(toSlice(s["Action"]), "ses:SendRawEmail")
		}},
		{"SES on every identity", checkSES, func(tp *Template) { statementWith(tp, "AlerterFunction", "ses:SendEmail")["Resource"] = "*" }},
		{"SES on an identity wildcard", checkSES, func(tp *Template) {
			statementWith(tp, "AlerterFunction", "ses:SendEmail")["Resource"] = map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"}
		}},
		{"no SES right", checkSES, func(tp *Template) {
			statementWith(tp, "AlerterFunction", "ses:SendEmail")["Action"] = "sqs:SendMessage"
		}},
		{"API may not send the sign-in email", checkSES, func(tp *Template) {
			statementWith(tp, "ApiFunction", "ses:SendEmail")["Action"] = "dynamodb:GetItem"
		}},
		{"API sends from every identity", checkSES, func(tp *Template) { statementWith(tp, "ApiFunction", "ses:SendEmail")["Resource"] = "*" }},
		{"app routes behind IAM", checkAPIRoutes, func(tp *Template) {
			asMap(props(tp, "ApiFunction")["Events"])["AppPages"].(map[string]any)["Properties"].(map[string]any)["Auth"] = map[string]any{"Authorizer": "AWS_IAM"}
		}},
		{"admin routes open", checkAPIRoutes, func(tp *Template) {
			delete(asMap(asMap(asMap(props(tp, "ApiFunction")["Events"])["Admin"])["Properties"]), "Auth")
		}},
		{"app pages not routed", checkAPIRoutes, func(tp *Template) { delete(asMap(props(tp, "ApiFunction")["Events"]), "AppPages") }},
		{"no ApiUrl", checkOutputs, func(tp *Template) { delete(tp.Outputs, "ApiUrl") }},
		{"queue URL of the wrong queue", checkOutputs, func(tp *Template) {
			tp.Outputs["NotificationsQueueUrl"]["Value"] = map[string]any{"Ref": queueOf(tp, "DispatcherFunction", "Retries")}
		}},
		{"no NotificationsQueueUrl", checkOutputs, func(tp *Template) { delete(tp.Outputs, "NotificationsQueueUrl") }},
		{"freshness schedule slower than its period", checkFreshnessSchedule, func(tp *Template) {
			asMap(asMap(asMap(props(tp, "AlerterFunction")["Events"])["FreshnessCheck"])["Properties"])["Schedule"] = "rate(5 minutes)"
		}},
		{"no freshness schedule", checkFreshnessSchedule, func(tp *Template) { delete(asMap(props(tp, "AlerterFunction")["Events"]), "FreshnessCheck") }},
		{"freshness check retried", checkFreshnessSchedule, func(tp *Template) {
			delete(asMap(asMap(asMap(props(tp, "AlerterFunction")["Events"])["FreshnessCheck"])["Properties"]), "RetryPolicy")
		}},
		{"freshness notifications may not be queued", checkFreshnessSchedule, func(tp *Template) {
			s := statementWith(tp, "AlerterFunction", "sqs:SendMessage")
			s["Resource"] = []any{map[string]any{"Fn::GetAtt": []any{"AlertsDLQ", "Arn"}}}
		}},
	}
	root := repoRoot(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := loadRepoTemplate(t) // a fresh copy per mutation
			tt.mutate(tp)
			if p := tt.check(tp, root); len(p) == 0 {
				t.Error("check passed a template with this mistake")
			}
		})
	}
}

func TestParse(t *testing.T) {
	const doc = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Suffix: {Type: String, Default: "-x"}
Globals:
  Function:
    Timeout: 7
    Environment:
      Variables: {A: "1"}
    LoggingConfig: {LogFormat: JSON}
Conditions:
  Always: !Equals [a, a]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "q${Suffix}"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt D.Arn
  D:
    Type: AWS::SQS::Queue
    Condition: Always
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/f
      LoggingConfig: {LogGroup: !Ref D}
      Environment:
        Variables:
          B: !Ref Q
          C: !GetAtt [D, Arn]
`
	tp, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tp.Function("f")
	if err != nil {
		t.Fatal(err)
	}
	want := Function{
		LogicalID: "F", CodeURI: "functions/f", Timeout: 7, MemorySize: 128,
		Environment: map[string]any{
			"A": "1",
			"B": map[string]any{"Ref": "Q"},
			"C": map[string]any{"Fn::GetAtt": []any{"D", "Arn"}},
		},
		LoggingConfig: map[string]any{"LogFormat": "JSON", "LogGroup": map[string]any{"Ref": "D"}},
		Events:        map[string]Event{},
	}
	if diff := cmp.Diff(f, want); diff != "" {
		t.Errorf("Function (-got +want):\n%s", diff)
	}
	if c := tp.Resources["D"].Condition; c != "Always" || tp.Conditions["Always"] == nil {
		t.Errorf("D's Condition = %q, Conditions = %v, want Always and its definition", c, tp.Conditions)
	}
	if diff := cmp.Diff(tp.ResourceOrder, []string{"Q", "D", "F"}); diff != "" {
		t.Errorf("ResourceOrder (-got +want):\n%s", diff)
	}
	name, ok := Resolve(tp.Resources["Q"].Properties["QueueName"], tp.ParameterDefaults())
	if !ok || name != "q-x" {
		t.Errorf("Resolve(QueueName) = %q, %v, want q-x, true", name, ok)
	}
	if _, ok := Resolve(f.Environment["B"], tp.ParameterDefaults()); ok {
		t.Error("Resolve(!Ref of a resource) resolved locally")
	}
	if r, a, ok := GetAtt(asMap(tp.Resources["Q"].Properties["RedrivePolicy"])["deadLetterTargetArn"]); !ok || r != "D" || a != "Arn" {
		t.Errorf("GetAtt(!GetAtt D.Arn) = %q, %q, %v", r, a, ok)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"yaml error", "Resources: [\n"},
		{"unknown tag", "Resources:\n  A:\n    Type: X\n    Properties: {P: !Bogus x}\n"},
		{"no resources", "Transform: AWS::Serverless-2016-10-31\n"},
		{"resource without type", "Resources:\n  A:\n    Properties: {}\n"},
		{"duplicate key", "Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n"},
		{"getatt without attribute", "Resources:\n  A:\n    Type: X\n    Properties: {P: !GetAtt B}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse() error = %v, want ErrInvalid", err)
			}
		})
	}
}

// The checks' own test: the text of the repository's template must not be
// broken by a short tag the parser does not know.
func TestRepoTemplateUsesKnownTags(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte(strings.Replace(string(raw), "!Ref", "!Reff", 1))); !errors.Is(err, ErrInvalid) {
		t.Errorf("a misspelled tag parsed: %v", err)
	}
}
