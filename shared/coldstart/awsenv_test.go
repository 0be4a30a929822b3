package coldstart

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
)

func TestReadAWSEnv(t *testing.T) {
	got, err := readAWSEnv(getenvOf(map[string]string{
		"AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY": "a", "AWS_SECRET_KEY": "s", "AWS_SESSION_TOKEN": "t",
		"AWS_ACCOUNT_ID": "123456789012", "AWS_SDK_UA_APP_ID": "hooks", "AWS_MAX_ATTEMPTS": "5",
		"AWS_RETRY_MODE": "adaptive", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE",
	}))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := awsEnv{
		Region:      "eu-west-3",
		Credentials: aws.Credentials{AccessKeyID: "a", SecretAccessKey: "s", SessionToken: "t", AccountID: "123456789012", Source: "EnvConfigCredentials"},
		AppID:       "hooks", RetryMaxAttempts: 5, RetryMode: aws.RetryModeAdaptive,
		BaseEndpoint: "http://127.0.0.1:9", IgnoreConfiguredEndpoints: &yes,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("readAWSEnv (-got +want):\n%s", diff)
	}
}

func TestReadAWSEnvRefuses(t *testing.T) {
	for env, wantErr := range map[string]string{
		"AWS_MAX_ATTEMPTS=many":                     "invalid value AWS_MAX_ATTEMPTS=many",
		"AWS_RETRY_MODE=sometimes":                  "invalid AWS_RETRY_MODE value",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=yes":   "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=yes, need true or false",
		"AWS_USE_FIPS_ENDPOINT=true":                "AWS_USE_FIPS_ENDPOINT is set: this function does not support it",
		"AWS_RESPONSE_CHECKSUM_VALIDATION=required": "AWS_RESPONSE_CHECKSUM_VALIDATION is set",
	} {
		k, v, _ := strings.Cut(env, "=")
		_, err := readAWSEnv(getenvOf(map[string]string{"AWS_REGION": "eu-west-3", k: v}))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("readAWSEnv with %s = %v, want an error containing %q", env, err, wantErr)
		}
	}
}

func TestEndpointSource(t *testing.T) {
	s := endpointSource{getenv: getenvOf(map[string]string{"AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:1"})}
	if got, ok, _ := s.GetServiceBaseEndpoint(context.Background(), "SESv2"); got != "http://127.0.0.1:1" || !ok {
		t.Errorf("SESv2 endpoint = %q, %v, want http://127.0.0.1:1, true", got, ok)
	}
	if got, ok, _ := s.GetServiceBaseEndpoint(context.Background(), "DynamoDB"); got != "" || ok {
		t.Errorf("DynamoDB endpoint = %q, %v, want none", got, ok)
	}
	if _, ok, _ := s.GetIgnoreConfiguredEndpoints(context.Background()); ok {
		t.Error("GetIgnoreConfiguredEndpoints found a value that was not set")
	}
}
