package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The load schedule and the fault schedule, run side by side. Times are
// offsets from the first send.

// wave is a group of messages sent together at an offset.
type wave struct {
	at     time.Duration
	bodies []string
}

// loadWaves spreads the loads over four waves one second apart and adds the
// duplicates: the first load twice in its own wave (a duplicate inside one
// batch), every third load again in the next wave (a loader re-send while the
// first is in flight), every fifth again after 40 s (a re-send of a load that
// is long done, after the faults, so a second delivery of it could not be
// blamed on a crash). It returns the waves and the number of extra sends.
func loadWaves(loads []loadSpec) ([]wave, int) {
	ws := []wave{{at: 0}, {at: time.Second}, {at: 2 * time.Second}, {at: 3 * time.Second}, {at: 4 * time.Second}, {at: lateResend}}
	dups := 0
	per := (len(loads) + 3) / 4
	for i, l := range loads {
		wi := min(i/per, 3)
		ws[wi].bodies = append(ws[wi].bodies, l.body)
		if i == 0 {
			ws[wi].bodies = append(ws[wi].bodies, l.body)
			dups++
		}
		if i%3 == 1 {
			ws[wi+1].bodies = append(ws[wi+1].bodies, l.body)
			dups++
		}
		if i%5 == 2 {
			ws[5].bodies = append(ws[5].bodies, l.body)
			dups++
		}
	}
	return ws, dups
}

// lateResend is when the loads already done are sent again.
const lateResend = 40 * time.Second

// poison are malformed loader messages: the dispatcher must move each to the
// notifications DLQ, once.
func poison(rid string, n int) []string {
	all := []string{
		`{"client_id":"116078","load_id":"","status":"done","run":"` + rid + `"}`,
		`not json at all (` + rid + `)`,
		`{"client_id":116078,"load_id":"extra-` + rid + `","status":"succeeded"}`,
	}
	return all[:n]
}

func (c *chaos) drive(ctx context.Context) error {
	waves, dups := loadWaves(c.world.loads)
	rid := runID(c.t0)
	c.wantDLQ = poison(rid, 2)
	bad := c.wantDLQ
	if c.breakMode == "extra-dlq" {
		bad = poison(rid, 3) // one more than the check expects
	}
	waves[1].bodies = append(waves[1].bodies, bad...)
	c.faults.DupSends, c.faults.Poison = dups, len(bad)

	c.t0 = time.Now()
	var wg sync.WaitGroup
	var sendErr, faultErr error
	wg.Go(func() { sendErr = c.sendWaves(ctx, waves) })
	wg.Go(func() { faultErr = c.injectFaults(ctx) })
	var outageErr error
	wg.Go(func() { outageErr = c.runOutage(ctx) })
	wg.Wait()
	c.addOutageLoads()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(sendErr, faultErr, outageErr)
}

func (c *chaos) sleepUntil(ctx context.Context, at time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(c.t0.Add(at))):
		return nil
	}
}

func (c *chaos) sendWaves(ctx context.Context, waves []wave) error {
	total := 0
	for _, w := range waves {
		if err := c.sleepUntil(ctx, w.at); err != nil {
			return err
		}
		for start := 0; start < len(w.bodies); start += 10 {
			chunk := w.bodies[start:min(start+10, len(w.bodies))]
			var entries []sqstypes.SendMessageBatchRequestEntry
			for i, b := range chunk {
				entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
			}
			out, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(c.notifications), Entries: entries})
			if err != nil {
				return fmt.Errorf("send loads: %w", err)
			}
			if len(out.Failed) > 0 {
				return fmt.Errorf("send loads: %d of %d entries failed", len(out.Failed), len(entries))
			}
			total += len(entries)
		}
	}
	c.say("sent %d messages (%d loads, %d re-sends, %d poison)", total, len(c.world.loads), c.faults.DupSends, c.faults.Poison)
	return nil
}

// Fault offsets.
const (
	downAt      = 1500 * time.Millisecond
	downFor     = 6 * time.Second
	firstKillAt = 2500 * time.Millisecond
	dbRestartAt = 9 * time.Second
	secondKill  = 25 * time.Second // full runs only
)

func (c *chaos) injectFaults(ctx context.Context) error {
	if err := c.sleepUntil(ctx, downAt); err != nil {
		return err
	}
	c.recv["down"].Down()
	down := window{Name: "receiver down", From: time.Now()}
	c.say("receiver %s down", c.recv["down"].Addr())

	if err := c.sleepUntil(ctx, firstKillAt); err != nil {
		return err
	}
	if err := c.killDispatcher(ctx); err != nil {
		return err
	}

	if err := c.sleepUntil(ctx, downAt+downFor); err != nil {
		return err
	}
	if err := c.recv["down"].Up(); err != nil {
		return err
	}
	down.Till = time.Now()
	c.faults.DownWindow = &down
	c.say("receiver %s up again", c.recv["down"].Addr())

	if err := c.sleepUntil(ctx, dbRestartAt); err != nil {
		return err
	}
	if err := c.restartDynamoDB(ctx); err != nil {
		return err
	}
	if c.short {
		return nil
	}
	if err := c.sleepUntil(ctx, secondKill); err != nil {
		return err
	}
	return c.killDispatcher(ctx)
}

// killDispatcher waits (at most 20 s) until a delivery is in flight, so the
// dispatcher is in the middle of a batch, then SIGKILLs its session (the
// pool, every aws-lambda-rie and bootstrap of it) and starts it again.
func (c *chaos) killDispatcher(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for c.rec.inflightHang.Load() == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	mid := c.rec.inflightHang.Load() > 0
	at := time.Now()
	if err := c.procs.Kill(c.dispatcher, syscall.SIGKILL, 5*time.Second); err != nil {
		return err
	}
	if mid {
		c.faults.KillsMidBatch++
	}
	c.say("dispatcher SIGKILLed (mid-batch: %t)", mid)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	if err := c.startDispatcher(); err != nil {
		return err
	}
	c.faults.Kills = append(c.faults.Kills, window{Name: "dispatcher killed", From: at, Till: time.Now()})
	c.say("dispatcher started again")
	return nil
}

// restartDynamoDB restarts DynamoDB Local through scripts/stack (persistent
// mode, so the data survives).
func (c *chaos) restartDynamoDB(ctx context.Context) error {
	from := time.Now()
	c.say("restarting DynamoDB Local")
	log, err := os.OpenFile(filepath.Join(c.work, "stack-restart.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "scripts", "stack"), "restart", "dynamodb")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/stack restart dynamodb: %w (see %s)", err, log.Name())
	}
	c.faults.DBRestart = &window{Name: "dynamodb down", From: from, Till: time.Now()}
	c.say("DynamoDB Local back after %s", time.Since(from).Round(100*time.Millisecond))
	return nil
}
