package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/signin"
	"github.com/postloadhooks/hooks/shared/store"
)

// Lost responses: a write reaches DynamoDB and is applied, but its answer
// never arrives (a connection reset, a timeout after the commit). The SDK
// retries it, and the retry finds the state the first try wrote. Every
// conditional write of the store must then report what the first try did,
// not "taken by another"; or, where it cannot tell its own write from
// another's (AddRunLoad, AdvanceProbe, ReenableHook), leave its caller the
// state to decide on, as TestLostResponseProbes pins down.

// lostResponses is SDK middleware that, for every call of a write
// operation, performs the first try for real and then fails it with a
// retryable send error, as if the response had been lost on the way. The
// SDK's retryer then sends the same request again.
type lostResponses struct {
	mu   sync.Mutex
	lost []string // operations whose first answer was dropped, in order
}

type callKey struct{}

// callState marks one call (all its tries): whether its answer was dropped.
type callState struct{ dropped bool }

var writeOps = []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}

func (l *lostResponses) apply(stack *middleware.Stack) error {
	// Initialize runs once per call, Finalize once per try.
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("markCall",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(context.WithValue(ctx, callKey{}, &callState{}), in)
		}), middleware.Before); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("loseFirstResponse",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			op := awsmiddleware.GetOperationName(ctx)
			st, _ := ctx.Value(callKey{}).(*callState)
			if err != nil || st == nil || st.dropped || !slices.Contains(writeOps, op) {
				return out, md, err
			}
			st.dropped = true
			l.mu.Lock()
			l.lost = append(l.lost, op)
			l.mu.Unlock()
			return middleware.FinalizeOutput{}, md, &smithyhttp.RequestSendError{Err: errors.New("test: response lost after the write was applied")}
		}), middleware.After)
}

// dropped returns how many answers were dropped so far.
func (l *lostResponses) dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lost)
}

// lossy returns a store on f's table and clock whose every write loses its
// first answer.
func (f *fixture) lossy(t *testing.T) (*store.Store, *lostResponses) {
	t.Helper()
	l := &lostResponses{}
	db := dynamodb.New(f.db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, l.apply)
	})
	return store.New(db, f.table, f.clock.Now), l
}

// mustLose fails t unless do made at least one write whose first answer was
// dropped (so the retry really ran).
func mustLose(t *testing.T, l *lostResponses, what string, do func()) {
	t.Helper()
	before := l.dropped()
	do()
	if l.dropped() == before {
		t.Fatalf("%s: no answer was dropped: the test did not exercise a retried write", what)
	}
}

func TestLostResponseAlert(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()

	var c store.AlertClaim
	mustLose(t, l, "ClaimAlert", func() {
		var err error
		if c, err = s.ClaimAlert(ctx, 1, "load", 2, alertLease); err != nil {
			t.Fatalf("ClaimAlert: %v", err)
		}
	})
	mustLose(t, l, "AlertSentTo", func() {
		if err := s.AlertSentTo(ctx, &c, "ops@example.com"); err != nil {
			t.Fatalf("AlertSentTo: %v", err)
		}
	})
	mustLose(t, l, "FinishAlert", func() {
		if err := s.FinishAlert(ctx, c); err != nil {
			t.Fatalf("FinishAlert: %v", err)
		}
	})
	if _, err := f.store.ClaimAlert(ctx, 1, "load", 2, alertLease); !errors.Is(err, store.ErrAlertSent) {
		t.Errorf("ClaimAlert after FinishAlert = %v, want ErrAlertSent", err)
	}

	// Released after a failed send: the next sender takes it over at once.
	c2, err := s.ClaimAlert(ctx, 1, "load-2", 2, alertLease)
	if err != nil {
		t.Fatalf("ClaimAlert: %v", err)
	}
	mustLose(t, l, "ReleaseAlert", func() {
		if err := s.ReleaseAlert(ctx, c2); err != nil {
			t.Fatalf("ReleaseAlert: %v", err)
		}
	})
	if _, err := f.store.ClaimAlert(ctx, 1, "load-2", 2, alertLease); err != nil {
		t.Errorf("ClaimAlert after ReleaseAlert = %v, want a claim", err)
	}

	// Taken by another: still told apart.
	if _, err := s.ClaimAlert(ctx, 1, "load-2", 2, alertLease); !errors.Is(err, store.ErrAlertBusy) {
		t.Errorf("ClaimAlert of another's live claim = %v, want ErrAlertBusy", err)
	}
	if err := s.FinishAlert(ctx, c2); !errors.Is(err, store.ErrAlertClaimLost) {
		t.Errorf("FinishAlert of a claim taken over = %v, want ErrAlertClaimLost", err)
	}
}

func TestLostResponseAccountHookMember(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()

	mustLose(t, l, "CreateAccount", func() {
		if _, err := s.CreateAccount(ctx, hook.Account{ClientID: 7, Plan: "advanced", AlertEmails: []string{"ops@example.com"}, Destinations: []hook.Destination{{ID: 12345, Type: "s3"}}}); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
	})
	if _, err := f.store.CreateAccount(ctx, hook.Account{ClientID: 7, Plan: "advanced"}); !errors.Is(err, hook.ErrConflict) {
		t.Errorf("second CreateAccount = %v, want ErrConflict", err)
	}
	p := hook.Principal{ClientID: 7, MemberID: "m1"}
	var h hook.Hook
	mustLose(t, l, "CreateHook", func() {
		var err error
		if h, err = s.CreateHook(ctx, p, 12345, "https://a.example.com/1", hook.NewSecret()); err != nil {
			t.Fatalf("CreateHook: %v", err)
		}
	})
	if got := f.hooks(t, 7); len(got) != 1 || got[0].ID != h.ID {
		t.Fatalf("hooks after CreateHook = %+v, want just %d", got, h.ID)
	}
	if _, err := f.store.CreateHook(ctx, p, 12345, "https://a.example.com/1", hook.NewSecret()); !errors.Is(err, hook.ErrDuplicateURL) {
		t.Errorf("CreateHook of the same URL = %v, want ErrDuplicateURL", err)
	}
	mustLose(t, l, "disable", func() {
		if got, err := s.SetHookEnabled(ctx, p, h.ID, false); err != nil || got.Enabled() {
			t.Fatalf("SetHookEnabled(false) = %+v, %v", got, err)
		}
	})
	mustLose(t, l, "enable", func() {
		if got, err := s.SetHookEnabled(ctx, p, h.ID, true); err != nil || !got.Enabled() {
			t.Fatalf("SetHookEnabled(true) = %+v, %v", got, err)
		}
	})
	// A rotation retried after its answer was lost must not rotate twice:
	// the secret it replaced stays the previous one.
	rotated := hook.NewSecret()
	mustLose(t, l, "RotateHookSecret", func() {
		got, err := s.RotateHookSecret(ctx, p, h.ID, rotated, time.Hour)
		if err != nil || got.Secret != rotated || got.PreviousSecret != h.Secret {
			t.Fatalf("RotateHookSecret = %+v, %v; want the new secret and %q as the previous one", got, err, h.Secret)
		}
	})
	if got, err := f.store.GetHook(ctx, 7, h.ID); err != nil || got.Secret != rotated || got.PreviousSecret != h.Secret {
		t.Errorf("stored after the rotation: %+v, %v", got, err)
	}
	mustLose(t, l, "DeleteHook", func() {
		if _, err := s.DeleteHook(ctx, p, h.ID); err != nil {
			t.Fatalf("DeleteHook: %v", err)
		}
	})
	if got := f.account(t, 7).HookCount; got != 0 {
		t.Errorf("hook count after delete = %d, want 0", got)
	}
	var m hook.Member
	var token string
	mustLose(t, l, "CreateMember", func() {
		var err error
		if m, token, err = s.CreateMember(ctx, 7, "ana@example.com"); err != nil {
			t.Fatalf("CreateMember: %v", err)
		}
	})
	if got, err := f.store.Authenticate(ctx, token); err != nil || got.MemberID != m.ID {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	mustLose(t, l, "DeleteMember", func() {
		if err := s.DeleteMember(ctx, 7, m.ID); err != nil {
			t.Fatalf("DeleteMember: %v", err)
		}
	})
	if _, err := f.store.Authenticate(ctx, token); !errors.Is(err, hook.ErrUnauthorized) {
		t.Errorf("Authenticate after delete = %v, want ErrUnauthorized", err)
	}
}

// A sign-in link whose use was applied but answered too late still signs
// its user in, and still works only once.
func TestLostResponseSignInLink(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()
	token, err := f.store.CreateSignInLink(ctx, "Ana@example.com", signin.LinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	mustLose(t, l, "UseSignInLink", func() {
		if ek, err := s.UseSignInLink(ctx, token); err != nil || ek != signin.EmailKey("ana@example.com") {
			t.Fatalf("UseSignInLink = %q, %v", ek, err)
		}
	})
	if _, err := s.UseSignInLink(ctx, token); !errors.Is(err, signin.ErrLinkInvalid) {
		t.Fatalf("second use: %v, want %v", err, signin.ErrLinkInvalid)
	}
}

func TestLostResponseRun(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()
	k := delivery.RunKey{ClientID: 1, IntegrationName: "shopify", RunID: "r1"}
	load := func(id string) delivery.RunLoad {
		return delivery.RunLoad{LoadID: id, Expected: 2, At: f.clock.Now(),
			Tables: []notify.RunTable{{DestinationTableName: id, Status: notify.StatusSucceeded}}}
	}
	for _, id := range []string{"a", "b"} {
		mustLose(t, l, "AddRunLoad", func() {
			r, err := s.AddRunLoad(ctx, k, load(id))
			if err != nil || r.LastLoad != delivery.SequenceHash(id) || len(r.Tables) == 0 || r.Tables[len(r.Tables)-1].DestinationTableName != id {
				t.Fatalf("AddRunLoad(%s) = %+v, %v; want the run with the load", id, r, err)
			}
		})
	}
	mustLose(t, l, "ClaimRun", func() {
		r, claimed, err := s.ClaimRun(ctx, k)
		if err != nil || !claimed || !r.Complete || r.Loads != 2 {
			t.Fatalf("ClaimRun = %+v, %v, %v; want claimed by this call, complete", r, claimed, err)
		}
	})
	if _, claimed, err := f.store.ClaimRun(ctx, k); err != nil || claimed {
		t.Fatalf("another ClaimRun = %v, %v; want the run claimed already", claimed, err)
	}
	item := f.rawItem(t, "RUN#1", "7#shopify#r1")
	exp, ok := item["expires_at"].(*types.AttributeValueMemberN)
	if want := strconv.FormatInt(f.clock.Now().Add(store.DeliveryTTL).Unix(), 10); !ok || exp.Value != want {
		t.Errorf("expires_at = %v, want %s (DeliveryTTL after its first write)", item["expires_at"], want)
	}

	// A load whose tables pass the budget is written on a second try,
	// without them; losing that try's answer still counts it once.
	k.RunID = "r2"
	mustLose(t, l, "AddRunLoad", func() {
		big := load("a")
		big.Tables[0].DestinationTableName = strings.Repeat("t", delivery.RunTablesBudget+100)
		big.Expected = 3
		if _, err := s.AddRunLoad(ctx, k, big); err != nil {
			t.Fatal(err)
		}
	})
	mustLose(t, l, "AddRunLoad (past the budget)", func() {
		r, err := s.AddRunLoad(ctx, k, load("b"))
		if err != nil || r.Loads != 2 || len(r.Tables) != 1 || r.LastLoad != delivery.SequenceHash("b") {
			t.Fatalf("AddRunLoad(b) past the budget = %+v, %v; want it counted once, not listed", r, err)
		}
	})
}

// TestLostResponseProbes: AdvanceProbe and ReenableHook cannot tell their
// own applied write from another message's, so after a lost answer they
// report false; the hook shows the write applied, which is what the
// dispatcher decides on (its TestProbeWritesWithLostAnswers models these
// answers on the in-memory store).
func TestLostResponseProbes(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()
	if _, err := f.store.CreateAccount(ctx, hook.Account{ClientID: 7, Plan: "advanced", Destinations: []hook.Destination{{ID: 12345, Type: "s3"}}}); err != nil {
		t.Fatal(err)
	}
	h, err := f.store.CreateHook(ctx, hook.Principal{ClientID: 7, MemberID: "m1"}, 12345, "https://a.example.com/1", hook.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	since := f.clock.Now().Add(-time.Hour)
	if h, err = f.store.NoteHookExhausted(ctx, 7, h.ID, "l1", 6, since); err != nil {
		t.Fatal(err)
	}
	h, ok, err := f.store.AutoDisableHook(ctx, 7, h.ID, h.Health.FailingSince, since)
	if err != nil || !ok {
		t.Fatalf("AutoDisableHook = %v, %v", ok, err)
	}
	da := *h.DisabledAt
	mustLose(t, l, "AdvanceProbe", func() {
		if ok, err := s.AdvanceProbe(ctx, 7, h.ID, da, 1); ok || err != nil {
			t.Fatalf("AdvanceProbe with its answer lost = %v, %v; want false (the retry refused)", ok, err)
		}
	})
	if got, err := f.store.GetHook(ctx, 7, h.ID); err != nil || got.Probe == nil || got.Probe.Step != 2 || got.Probe.Queued {
		t.Fatalf("after AdvanceProbe: %+v, %v; want step 2, not queued", got.Probe, err)
	}
	mustLose(t, l, "ReenableHook", func() {
		got, ok, err := s.ReenableHook(ctx, 7, h.ID, da)
		n := len(got.Audit)
		if ok || err != nil || !got.Enabled() || n < 2 || got.Audit[n-1].Action != hook.ActionAutoEnabled ||
			got.Audit[n-2].Action != hook.ActionAutoDisabled || !got.Audit[n-2].At.Equal(da) {
			t.Fatalf("ReenableHook with its answer lost = %+v, %v, %v; want false, the hook enabled by this disable's probe", got, ok, err)
		}
	})
}
