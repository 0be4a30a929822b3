// Package awsmeter counts what an AWS SDK client is billed for: requests
// per service and operation, the DynamoDB read and write capacity units each
// response reports, and SQS requests in 64 KiB chunks. It is one SDK
// middleware (Meter.Middleware) that a benchmark adds to the aws.Config it
// gives the code it measures; the functions never carry it.
//
// What is counted, and how:
//
//   - Requests: every HTTP attempt that got an answer, by "Service.Operation"
//     (a retried call is billed, and counted, once per attempt).
//   - DynamoDB capacity: the middleware asks for it (ReturnConsumedCapacity
//     TOTAL on every operation that takes it, so the measured code is
//     unchanged) and adds up the ConsumedCapacity of each answer.
//   - A single-item write whose condition fails answers with an error and
//     no ConsumedCapacity, but DynamoDB still bills it: write units by the
//     size of the item already there, at least one. The middleware asks
//     for that item (ReturnValuesOnConditionCheckFailure ALL_OLD, taken out
//     of the error again when the caller did not ask for it) and adds its
//     write units, by ItemSize, to WriteUnits; it counts the write in
//     Counts.FailedConditions.
//   - Any other DynamoDB answer without capacity (an error) is counted in
//     Counts.Unreported.
//   - SQS chunks: AWS bills each 64 KiB chunk of a request's payload as one
//     request. The meter takes the larger of the HTTP request and response
//     bodies, an upper bound of the payload (the protocol's envelope is
//     included), and rounds it up to 64 KiB chunks, at least one.
package awsmeter

import (
	"context"
	"errors"
	"maps"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// SQSChunk is the payload size SQS bills as one request.
const SQSChunk = 64 << 10

// Counts is what a Meter counted.
type Counts struct {
	Requests   map[string]int // "DynamoDB.UpdateItem" -> HTTP attempts answered
	ReadUnits  float64        // DynamoDB read capacity units reported
	WriteUnits float64        // DynamoDB write capacity units reported, and those of failed conditions
	// FailedConditions is the single-item writes whose condition failed
	// (their units are in WriteUnits).
	FailedConditions int
	Unreported       int // other DynamoDB answers without ConsumedCapacity
	SQSChunks        int // SQS requests in 64 KiB chunks
}

// Service is the number of requests to one service (its SDK service ID,
// for example "DynamoDB" or "SQS").
func (c Counts) Service(id string) int {
	n := 0
	for k, v := range c.Requests {
		if len(k) > len(id) && k[:len(id)] == id && k[len(id)] == '.' {
			n += v
		}
	}
	return n
}

// Sub is what was counted since before.
func (c Counts) Sub(before Counts) Counts {
	d := Counts{
		Requests:   map[string]int{},
		ReadUnits:  c.ReadUnits - before.ReadUnits,
		WriteUnits: c.WriteUnits - before.WriteUnits,
		Unreported: c.Unreported - before.Unreported,
		SQSChunks:  c.SQSChunks - before.SQSChunks,

		FailedConditions: c.FailedConditions - before.FailedConditions,
	}
	for k, v := range c.Requests {
		if n := v - before.Requests[k]; n != 0 {
			d.Requests[k] = n
		}
	}
	return d
}

// Meter counts the requests of every client built from a configuration
// that carries its Middleware. It is safe for concurrent use.
type Meter struct {
	mu sync.Mutex
	c  Counts
}

// New returns an empty meter.
func New() *Meter { return &Meter{c: Counts{Requests: map[string]int{}}} }

// Snapshot returns a copy of the counts so far.
func (m *Meter) Snapshot() Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.c
	c.Requests = maps.Clone(m.c.Requests)
	return c
}

// Middleware is the meter as an aws.Config APIOptions entry:
//
//	cfg.APIOptions = append(cfg.APIOptions, meter.Middleware)
func (m *Meter) Middleware(s *middleware.Stack) error {
	if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("awsmeterAskCapacity", askCapacity), middleware.After); err != nil {
		return err
	}
	// Before the deserializer: it runs once per attempt (retries are in
	// the finalize step, outside it) and sees the decoded answer.
	return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("awsmeterCount", m.count), middleware.Before)
}

func askCapacity(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	const total = types.ReturnConsumedCapacityTotal
	switch p := in.Parameters.(type) {
	case *dynamodb.GetItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		p.ReturnConsumedCapacity = total
		ctx = askOldItem(ctx, p.ConditionExpression, &p.ReturnValuesOnConditionCheckFailure)
	case *dynamodb.UpdateItemInput:
		p.ReturnConsumedCapacity = total
		ctx = askOldItem(ctx, p.ConditionExpression, &p.ReturnValuesOnConditionCheckFailure)
	case *dynamodb.DeleteItemInput:
		p.ReturnConsumedCapacity = total
		ctx = askOldItem(ctx, p.ConditionExpression, &p.ReturnValuesOnConditionCheckFailure)
	case *dynamodb.QueryInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		p.ReturnConsumedCapacity = total
	}
	return next.HandleInitialize(ctx, in)
}

// meterAskedOld marks a call whose failed condition returns the item only
// because the meter asked for it.
type meterAskedOld struct{}

// askOldItem asks a conditional write for the item its failed condition
// is billed by, unless the caller already does; the context remembers
// that the meter asked, so that count hands the caller the error it would
// have had.
func askOldItem(ctx context.Context, condition *string, ask *types.ReturnValuesOnConditionCheckFailure) context.Context {
	if condition == nil || *ask == types.ReturnValuesOnConditionCheckFailureAllOld {
		return ctx
	}
	*ask = types.ReturnValuesOnConditionCheckFailureAllOld
	return middleware.WithStackValue(ctx, meterAskedOld{}, true)
}

func (m *Meter) count(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp == nil {
		return out, md, err // no answer: nothing billed
	}
	service := awsmiddleware.GetServiceID(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.c.Requests[service+"."+awsmiddleware.GetOperationName(ctx)]++
	switch service {
	case "DynamoDB":
		read, write, reported := capacity(out.Result)
		m.c.ReadUnits += read
		m.c.WriteUnits += write
		var ccf *types.ConditionalCheckFailedException
		switch {
		case reported:
		case errors.As(err, &ccf):
			m.c.WriteUnits += float64(WriteUnits(ItemSize(ccf.Item)))
			m.c.FailedConditions++
			if asked, _ := middleware.GetStackValue(ctx, meterAskedOld{}).(bool); asked {
				ccf.Item = nil
			}
		default:
			m.c.Unreported++
		}
	case "SQS":
		var size int64
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			size = req.ContentLength
		}
		m.c.SQSChunks += Chunks(max(size, resp.ContentLength))
	}
	return out, md, err
}

// Chunks is the number of 64 KiB chunks SQS bills for a payload of size
// bytes: at least one.
func Chunks(size int64) int {
	if size <= SQSChunk {
		return 1
	}
	return int((size + SQSChunk - 1) / SQSChunk)
}

// capacity is the capacity an answer reports. An operation that names
// only CapacityUnits (DynamoDB Local does, as the service does for some
// operations) is split by what the operation is: reads for gets, queries
// and scans, writes otherwise.
func capacity(result any) (read, write float64, reported bool) {
	var ccs []types.ConsumedCapacity
	isRead := false
	switch r := result.(type) {
	case *dynamodb.GetItemOutput:
		ccs, isRead = one(r.ConsumedCapacity), true
	case *dynamodb.QueryOutput:
		ccs, isRead = one(r.ConsumedCapacity), true
	case *dynamodb.ScanOutput:
		ccs, isRead = one(r.ConsumedCapacity), true
	case *dynamodb.BatchGetItemOutput:
		ccs, isRead = r.ConsumedCapacity, true
	case *dynamodb.TransactGetItemsOutput:
		ccs, isRead = r.ConsumedCapacity, true
	case *dynamodb.PutItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.BatchWriteItemOutput:
		ccs = r.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		ccs = r.ConsumedCapacity
	}
	for _, cc := range ccs {
		reported = true
		switch {
		case cc.ReadCapacityUnits != nil || cc.WriteCapacityUnits != nil:
			read += deref(cc.ReadCapacityUnits)
			write += deref(cc.WriteCapacityUnits)
		case isRead:
			read += deref(cc.CapacityUnits)
		default:
			write += deref(cc.CapacityUnits)
		}
	}
	return read, write, reported
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
