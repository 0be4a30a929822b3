package rie

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/samtemplate"
)

const testTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Sender:
    Type: String
    Default: hooks@example.com
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    LoggingConfig:
      LogFormat: JSON
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          TABLE: !Ref Table
          FROM: !Ref Sender
          MODE: "template"
          KEPT: "from-template"
`

func loadTestTemplate(t *testing.T) (*samtemplate.Template, samtemplate.Function) {
	t.Helper()
	tp, err := samtemplate.Parse([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tp.Function("EchoFunction")
	if err != nil {
		t.Fatal(err)
	}
	return tp, fn
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestEnvPrecedence(t *testing.T) {
	tp, fn := loadTestTemplate(t)
	envFile := writeFile(t, "env.json", `{
		"Parameters": {"TABLE": "from-parameters", "UNDECLARED_PARAM": "x"},
		"EchoFunction": {"MODE": "file", "EXTRA": "y", "AWS_ENDPOINT_URL_SQS": "http://file:1"},
		"OtherFunction": {"KEPT": "other"}
	}`)
	environ := []string{
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_SQS=http://caller:1",
		"AWS_ENDPOINT_URL_DYNAMODB=http://caller:2",
		"AWS_LAMBDA_FUNCTION_NAME=caller-must-not-win",
		"HOOKS_TABLE=not-aws-so-not-passed",
	}
	overrides := map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://override:3", "MODE": "override"}

	env, notes, err := Env(tp, fn, envFile, environ, overrides)
	if err != nil {
		t.Fatal(err)
	}
	got := envMap(env)
	if len(got) != len(env) {
		t.Errorf("Env returned %d entries for %d keys: a key appears twice", len(env), len(got))
	}
	delete(got, "PATH")
	delete(got, "HOME")
	want := map[string]string{
		"TABLE":                           "from-parameters", // !Ref of a resource is "", Parameters fill it
		"FROM":                            "hooks@example.com",
		"MODE":                            "override",
		"KEPT":                            "from-template",
		"EXTRA":                           "y",
		"AWS_REGION":                      "us-east-1",
		"AWS_ENDPOINT_URL_SQS":            "http://file:1",
		"AWS_ENDPOINT_URL_DYNAMODB":       "http://override:3",
		"AWS_LAMBDA_FUNCTION_NAME":        "EchoFunction",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "10",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("env (-got +want):\n%s", diff)
	}
	wantNotes := []string{"EXTRA is not declared for EchoFunction in template.yaml; sam local invoke would ignore it"}
	if diff := cmp.Diff(notes, wantNotes); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
}

func TestEnvWithoutFile(t *testing.T) {
	tp, fn := loadTestTemplate(t)
	env, notes, err := Env(tp, fn, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := envMap(env)
	if got["TABLE"] != "" || got["MODE"] != "template" {
		t.Errorf("TABLE=%q MODE=%q, want \"\" (deployed-only value) and template", got["TABLE"], got["MODE"])
	}
	if len(notes) != 0 {
		t.Errorf("notes = %q, want none", notes)
	}
}

func TestEnvBadFile(t *testing.T) {
	tp, fn := loadTestTemplate(t)
	for name, content := range map[string]string{
		"not json":     `{`,
		"flat object":  `{"TABLE": "x"}`,
		"list section": `{"EchoFunction": ["x"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Env(tp, fn, writeFile(t, "env.json", content), nil, nil); err == nil {
				t.Error("Env accepted a malformed env-vars file")
			}
		})
	}
	if _, _, err := Env(tp, fn, filepath.Join(t.TempDir(), "missing.json"), nil, nil); err == nil {
		t.Error("Env accepted a missing env-vars file")
	}
}

func TestParseReport(t *testing.T) {
	tests := map[string]struct {
		line   string
		want   Report
		wantOK bool
	}{
		"cold": {
			line:   "REPORT RequestId: a1\tInit Duration: 0.12 ms\tDuration: 72.21 ms\tBilled Duration: 73 ms\tMemory Size: 256 MB\tMax Memory Used: 256 MB\t",
			want:   Report{InitDuration: "0.12 ms", Duration: "72.21 ms"},
			wantOK: true,
		},
		"warm": {
			line:   "REPORT RequestId: a2\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB",
			want:   Report{Duration: "3.00 ms"},
			wantOK: true,
		},
		"not a report": {line: "START RequestId: a3 Version: $LATEST"},
		"no duration":  {line: "REPORT RequestId: a4"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseReport(tt.line)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			tt.want.Line = strings.TrimRight(tt.line, "\t")
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}
