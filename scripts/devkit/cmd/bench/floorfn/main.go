// Command floorfn is the cold-start floor of scripts/bench: the smallest Go
// Lambda function (aws-lambda-go, no AWS SDK, no configuration), built the
// same way as the real functions. It answers every event with "ok". It is
// never deployed.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.StartHandlerFunc(func(context.Context, json.RawMessage) (string, error) { return "ok", nil })
}
