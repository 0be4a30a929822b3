package devstack

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recordingTB records Skip and Fatal and stops its goroutine like testing does.
type recordingTB struct {
	testing.TB
	outcome, msg string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.outcome, r.msg = "skip", fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.outcome, r.msg = "fatal", fmt.Sprint(args...)
	runtime.Goexit()
}

func TestRequireEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name, ci, require, endpoint, want string
	}{
		{"set", "", "", "http://127.0.0.1:1", "run"},
		{"unset, developer run", "", "", "", "skip"},
		{"unset, CI", "true", "", "", "fatal"},
		{"unset, scripts/test", "", "1", "", "fatal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("HOOKS_REQUIRE_EMULATORS", tc.require)
			t.Setenv(EnvDynamoDB, tc.endpoint)
			rec := &recordingTB{outcome: "run"}
			done := make(chan struct{})
			go func() {
				defer close(done)
				requireEndpoints(rec, EnvDynamoDB)
			}()
			<-done
			if rec.outcome != tc.want {
				t.Errorf("outcome = %s, want %s", rec.outcome, tc.want)
			}
			if tc.want != "run" && !strings.Contains(rec.msg, EnvDynamoDB) {
				t.Errorf("message %q does not name %s", rec.msg, EnvDynamoDB)
			}
		})
	}
}

func TestCheckEndpoints(t *testing.T) {
	env := map[string]string{EnvSQS: "http://127.0.0.1:1"}
	getenv := func(k string) string { return env[k] }
	if err := CheckEndpoints(getenv, EnvSQS); err != nil {
		t.Errorf("CheckEndpoints(set) = %v, want nil", err)
	}
	err := CheckEndpoints(getenv, EnvDynamoDB, EnvSQS, EnvSESv2)
	want := EnvDynamoDB + ", " + EnvSESv2 + " not set"
	if err == nil || err.Error() != want {
		t.Errorf("CheckEndpoints = %v, want %q", err, want)
	}
}
