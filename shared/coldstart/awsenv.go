package coldstart

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// awsEnv is the part of the SDK's environment configuration a function
// uses, read as the SDK's config.NewEnvConfig reads it (same variables,
// same precedence, same parsing). It stands in for config.EnvConfig so
// that no bootstrap links the config package, whose imports (the SSO, SSO
// OIDC, sign-in and STS clients with their schemas, the EC2 metadata
// client, the shared-file parser) cost about 0.4 MiB of every bootstrap.
//
// Settings no function of this service uses are refused rather than
// silently dropped (unsupportedAWSEnv): a function started with one of
// them says so at its cold start.
type awsEnv struct {
	Region                    string
	Credentials               aws.Credentials
	AppID                     string
	RetryMaxAttempts          int
	RetryMode                 aws.RetryMode
	BaseEndpoint              string
	IgnoreConfiguredEndpoints *bool
}

// unsupportedAWSEnv are the settings the config.EnvConfig-based AWSConfig
// passed on to the clients and awsEnv does not read. (The rest of what
// config.NewEnvConfig reads, such as AWS_CA_BUNDLE or AWS_DEFAULTS_MODE,
// AWSConfig never used.)
var unsupportedAWSEnv = []string{
	"AWS_USE_DUALSTACK_ENDPOINT", "AWS_USE_FIPS_ENDPOINT", "AWS_ENABLE_ENDPOINT_DISCOVERY",
	"AWS_ACCOUNT_ID_ENDPOINT_MODE", "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION",
}

// readAWSEnv reads the environment through getenv.
func readAWSEnv(getenv func(string) string) (awsEnv, error) {
	var e awsEnv
	for _, k := range unsupportedAWSEnv {
		if getenv(k) != "" {
			return e, fmt.Errorf("%s is set: this function does not support it", k)
		}
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				return v
			}
		}
		return ""
	}
	e.Region = first("AWS_REGION", "AWS_DEFAULT_REGION")
	creds := aws.Credentials{
		AccessKeyID:     first("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
		SecretAccessKey: first("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
		Source:          "EnvConfigCredentials", // config.CredentialsSourceName
	}
	if creds.HasKeys() {
		creds.AccountID = getenv("AWS_ACCOUNT_ID")
		creds.SessionToken = getenv("AWS_SESSION_TOKEN")
		e.Credentials = creds
	}
	e.AppID = getenv("AWS_SDK_UA_APP_ID")
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return e, fmt.Errorf("invalid value AWS_MAX_ATTEMPTS=%s, %w", v, err)
		}
		e.RetryMaxAttempts = int(n)
	}
	if v := getenv("AWS_RETRY_MODE"); v != "" {
		m, err := aws.ParseRetryMode(v)
		if err != nil {
			return e, fmt.Errorf("invalid AWS_RETRY_MODE value, %w", err)
		}
		e.RetryMode = m
	}
	e.BaseEndpoint = getenv("AWS_ENDPOINT_URL")
	if v := getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v != "" {
		var b bool
		switch {
		case strings.EqualFold(v, "true"):
			b = true
		case strings.EqualFold(v, "false"):
		default:
			return e, fmt.Errorf("invalid value for environment variable, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=%s, need true or false", v)
		}
		e.IgnoreConfiguredEndpoints = &b
	}
	return e, nil
}

// endpointSource is what the service clients consult in aws.Config's
// ConfigSources for AWS_ENDPOINT_URL_<SERVICE> and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, as they consult config.EnvConfig.
type endpointSource struct {
	getenv func(string) string
	ignore *bool
}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<sdkID>, the id upper
// case with spaces as underscores.
func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	if v := s.getenv(name); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints returns AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (s endpointSource) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	if s.ignore == nil {
		return false, false, nil
	}
	return *s.ignore, true, nil
}
