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
}

func main() {
	lambda.Start(func(_ context.Context, r request) (response, error) {
		time.Sleep(time.Duration(r.SleepMs) * time.Millisecond)
		out := response{Echo: r.Echo, Env: map[string]string{}, Pid: os.Getpid()}
		for _, k := range r.Env {
			out.Env[k] = os.Getenv(k)
		}
		return out, nil
	})
}
