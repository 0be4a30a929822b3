package main

import (
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// errForeignSource means a record came from a queue other than the alerts
// queue: only the dispatcher can write there, so only its messages are
// read.
var errForeignSource = errors.New("event source: not the alerts queue")

// parseAlert reads and checks one alert record: from the alerts queue, an
// alert message under the strict key rule (delivery.DecodeAlert). Its errors
// are safe to log: they name fields, never their values.
func (h *handler) parseAlert(r events.SQSMessage) (delivery.AlertMessage, error) {
	if r.EventSourceARN != h.alertQueueARN {
		return delivery.AlertMessage{}, errForeignSource
	}
	return delivery.DecodeAlert([]byte(r.Body))
}
