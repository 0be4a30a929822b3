// Command echo is a test function for package rie: it answers every event
// with the event and the environment variables the event names.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Echo string   `json:"echo"`
	Env  []string `json:"env"`
}

type response struct {
	Echo string            `json:"echo"`
	Env  map[string]string `json:"env"`
}

func main() {
	lambda.Start(func(_ context.Context, r request) (response, error) {
		out := response{Echo: r.Echo, Env: map[string]string{}}
		for _, k := range r.Env {
			out.Env[k] = os.Getenv(k)
		}
		return out, nil
	})
}
