// Command echo is a test function for package rie: it answers every event
// with the event, the environment variables the event names and its process
// id, after sleeping for the event's sleep_ms.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Echo    string   `json:"echo"`
	Env     []string `json:"env"`
	SleepMs int      `json:"sleep_ms"`
}

type response struct {
	Echo string            `json:"echo"`
	Env  map[string]string `json:"env"`
	Pid  int               `json:"pid"`
	// When the function itself started and ended (Unix nanoseconds), so a
	// caller can tell how many invocations really ran at once.
	StartedNs int64 `json:"started_ns"`
	EndedNs   int64 `json:"ended_ns"`
}

func main() {
	lambda.Start(func(_ context.Context, r request) (response, error) {
		started := time.Now()
		time.Sleep(time.Duration(r.SleepMs) * time.Millisecond)
		out := response{Echo: r.Echo, Env: map[string]string{}, Pid: os.Getpid(),
			StartedNs: started.UnixNano(), EndedNs: time.Now().UnixNano()}
		for _, k := range r.Env {
			out.Env[k] = os.Getenv(k)
		}
		return out, nil
	})
}
