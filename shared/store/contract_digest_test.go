package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// The alert digest windows and the one-click unsubscribe, in the store's
// contract: the same tests on DynamoDB Local and on memstore.

type digestStore interface {
	contractStore
	NoteExhausted(ctx context.Context, clientID, hookID int64, e store.DigestEntry, window time.Duration) (store.DigestWindow, bool, error)
	SealDigest(ctx context.Context, w store.DigestWindow) ([]store.DigestEntry, error)
	Unsubscribe(ctx context.Context, t optout.Token) (bool, error)
}

var (
	_ digestStore = (*store.Store)(nil)
	_ digestStore = (*memstore.Store)(nil)
)

type digestContract struct {
	s     digestStore
	clock *testClock
	c     contract
}

func TestContractDigestDynamoDB(t *testing.T) {
	runDigestContract(t, func(t *testing.T) digestContract {
		f := newFixture(t)
		return digestContract{s: f.store, clock: f.clock, c: contract{s: f.store, clock: f.clock}}
	})
}

func TestContractDigestMemstore(t *testing.T) {
	runDigestContract(t, func(*testing.T) digestContract {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		m := memstore.New(clock.Now)
		return digestContract{s: m, clock: clock, c: contract{s: m, clock: clock}}
	})
}

func runDigestContract(t *testing.T, open func(t *testing.T) digestContract) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c digestContract)
	}{
		{"DigestFirstOpensWindow", contractDigestWindows},
		{"DigestEntryKeepsItsFacts", contractDigestEntryFacts},
		{"DigestPlacementIsSticky", contractDigestSticky},
		{"DigestSealedWindowTakesNoEntry", contractDigestSealed},
		{"DigestConcurrentPlacements", contractDigestConcurrent},
		{"AlertClaimAfterPlacement", contractDigestThenAlert},
		{"Unsubscribe", contractUnsubscribe},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

const hour = time.Hour

func entry(load string, at time.Time) store.DigestEntry {
	return store.DigestEntry{LoadID: load, WebhookID: "msg_" + load, Integration: "shopify", Table: "orders",
		At: at.UTC().Truncate(time.Millisecond), ErrorClass: "HTTP 503", Snippet: "down for " + load}
}

func (c digestContract) note(t *testing.T, load string) (store.DigestWindow, bool) {
	t.Helper()
	w, first, err := c.s.NoteExhausted(ctx, cClient, 1, entry(load, c.clock.Now()), hour)
	if err != nil {
		t.Fatalf("NoteExhausted(%s): %v", load, err)
	}
	return w, first
}

func (c digestContract) seal(t *testing.T, w store.DigestWindow) []string {
	t.Helper()
	es, err := c.s.SealDigest(ctx, w)
	if err != nil {
		t.Fatalf("SealDigest: %v", err)
	}
	var loads []string
	for _, e := range es {
		loads = append(loads, e.LoadID)
	}
	return loads
}

// The first exhausted delivery opens a window of an hour from that moment;
// those within it are entries; the first after its end opens the next.
func contractDigestWindows(t *testing.T, c digestContract) {
	w1, first := c.note(t, "L1")
	if !first {
		t.Fatal("L1: not first in a hook without a window")
	}
	if got := w1.End.Sub(w1.Start); got != hour {
		t.Errorf("window length %v, want 1h", got)
	}
	c.clock.Advance(10 * time.Minute)
	w2, first := c.note(t, "L2")
	if first || !w2.Start.Equal(w1.Start) {
		t.Errorf("L2 in window %v first=%v, want entry of %v", w2.Start, first, w1.Start)
	}
	if _, err := c.s.SealDigest(ctx, w1); !errors.Is(err, store.ErrDigestOpen) {
		t.Errorf("SealDigest of an open window: %v, want ErrDigestOpen", err)
	}
	c.clock.Advance(50*time.Minute - time.Millisecond)
	if _, first := c.note(t, "L3"); first {
		t.Error("L3, 1 ms before the end: first, want an entry")
	}
	c.clock.Advance(time.Millisecond)
	w4, first := c.note(t, "L4")
	if !first || !w4.Start.After(w1.Start) {
		t.Errorf("L4 at the end: first=%v window %v, want a new window", first, w4.Start)
	}
	if got, want := c.seal(t, w1), []string{"L2", "L3"}; !cmp.Equal(got, want) {
		t.Errorf("digest of window 1 %v, want %v", got, want)
	}
	// Another hook has its own windows.
	if _, first, err := c.s.NoteExhausted(ctx, cClient, 2, entry("L2", c.clock.Now()), hour); err != nil || !first {
		t.Errorf("hook 2: first=%v %v, want first", first, err)
	}
}

// An entry comes back from its digest as it was kept, with the webhook-event
// and webhook-sequence of its requests (the digest's curl command sends
// them); one without them (an event notification's sequence, an earlier
// version's message) comes back without.
func contractDigestEntryFacts(t *testing.T, c digestContract) {
	c.note(t, "L1") // opens the window
	withHeaders := entry("L2", c.clock.Now())
	withHeaders.Event, withHeaders.Sequence = hook.EventTableLoaded, 42
	without := entry("L3", c.clock.Now().Add(time.Second))
	var w store.DigestWindow
	for _, e := range []store.DigestEntry{withHeaders, without} {
		var err error
		if w, _, err = c.s.NoteExhausted(ctx, cClient, 1, e, hour); err != nil {
			t.Fatalf("NoteExhausted(%s): %v", e.LoadID, err)
		}
	}
	c.clock.Advance(hour)
	got, err := c.s.SealDigest(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []store.DigestEntry{withHeaders, without}); diff != "" {
		t.Errorf("digest entries (-got +want):\n%s", diff)
	}
}

// A redelivered alert finds where its delivery went, at any time later.
func contractDigestSticky(t *testing.T, c digestContract) {
	w1, _ := c.note(t, "L1")
	c.note(t, "L2")
	c.clock.Advance(3 * hour)
	if w, first := c.note(t, "L1"); !first || !w.Start.Equal(w1.Start) {
		t.Errorf("L1 again: first=%v %v, want first of %v", first, w.Start, w1.Start)
	}
	if w, first := c.note(t, "L2"); first || !w.Start.Equal(w1.Start) {
		t.Errorf("L2 again: first=%v %v, want entry of %v", first, w.Start, w1.Start)
	}
	if got := c.seal(t, w1); !cmp.Equal(got, []string{"L2"}) {
		t.Errorf("digest %v, want [L2]", got)
	}
	if got := c.seal(t, w1); !cmp.Equal(got, []string{"L2"}) {
		t.Errorf("digest sealed twice %v, want [L2]", got)
	}
}

// Once the digest is taken, a late delivery of the ended window opens the
// next one instead of joining a digest already sent.
func contractDigestSealed(t *testing.T, c digestContract) {
	w1, _ := c.note(t, "L1")
	c.note(t, "L2")
	c.clock.Advance(hour)
	if got := c.seal(t, w1); !cmp.Equal(got, []string{"L2"}) {
		t.Fatalf("digest %v", got)
	}
	w, first := c.note(t, "L3")
	if !first || w.Start.Equal(w1.Start) {
		t.Errorf("L3 after the seal: first=%v, want a new window", first)
	}
	if got := c.seal(t, w1); !cmp.Equal(got, []string{"L2"}) {
		t.Errorf("digest after L3 %v, want [L2]", got)
	}
}

// Concurrent exhausted deliveries of one hook: exactly one opens the
// window, every other is an entry, and each load is placed once.
func contractDigestConcurrent(t *testing.T, c digestContract) {
	const n = 12
	var mu sync.Mutex
	firsts, entries := 0, map[string]bool{}
	var wg sync.WaitGroup
	var starts sync.Map
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load := fmt.Sprintf("C%02d", i)
			w, first, err := c.s.NoteExhausted(ctx, cClient, 1, entry(load, c.clock.Now()), hour)
			if err != nil {
				t.Errorf("NoteExhausted(%s): %v", load, err)
				return
			}
			starts.Store(w.Start.UnixMilli(), true)
			mu.Lock()
			defer mu.Unlock()
			if first {
				firsts++
			} else {
				entries[load] = true
			}
		}()
	}
	wg.Wait()
	nStarts := 0
	var w store.DigestWindow
	starts.Range(func(k, _ any) bool {
		nStarts++
		w = store.DigestWindow{ClientID: cClient, HookID: 1, Start: time.UnixMilli(k.(int64)).UTC()}
		return true
	})
	if firsts != 1 || len(entries) != n-1 || nStarts != 1 {
		t.Fatalf("%d first, %d entries, %d windows; want 1, %d, 1", firsts, len(entries), nStarts, n-1)
	}
	c.clock.Advance(hour)
	w.End = w.Start.Add(hour)
	if got := c.seal(t, w); len(got) != n-1 {
		t.Errorf("digest holds %d, want %d", len(got), n-1)
	}
}

// The placement does not get in the way of the alert's own claim.
func contractDigestThenAlert(t *testing.T, c digestContract) {
	c.note(t, "L1")
	cl, err := c.s.ClaimAlert(ctx, cClient, "L1", 1, time.Minute)
	if err != nil {
		t.Fatalf("ClaimAlert after NoteExhausted: %v", err)
	}
	if err := c.s.FinishAlert(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if w, first := c.note(t, "L1"); !first || w.Start.IsZero() {
		t.Errorf("placement after the alert: first=%v", first)
	}
	d := store.DigestLoadID(c.clock.Now())
	if _, err := c.s.ClaimAlert(ctx, cClient, d, 1, time.Minute); err != nil {
		t.Errorf("claim of a digest: %v", err)
	}
}

// An unsubscribe link removes its address from its account, once.
func contractUnsubscribe(t *testing.T, c digestContract) {
	c.c.account(t, cClient, "advanced")
	c.c.account(t, cOther, "advanced")
	emails := []string{"ops@example.com", "Ana@Example.com", "bob@example.com"}
	for _, id := range []int64{cClient, cOther} {
		if _, _, err := c.s.UpdateAccount(ctx, id, store.AccountUpdate{AlertEmails: &emails}); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(id int64, addr, nonce string) optout.Token {
		return optout.Token{ClientID: id, RecipientKey: optout.RecipientKey(addr), Expires: c.clock.Now().Add(hour), Nonce: nonce}
	}
	removed, err := c.s.Unsubscribe(ctx, tok(cClient, " ana@example.com", "n1"))
	if err != nil || !removed {
		t.Fatalf("Unsubscribe: %v, %v; want removed", removed, err)
	}
	if got := c.c.read(t, cClient).AlertEmails; !cmp.Equal(got, []string{"ops@example.com", "bob@example.com"}) {
		t.Errorf("alert_emails %v: want ana removed, nobody else", got)
	}
	if got := c.c.read(t, cOther).AlertEmails; !cmp.Equal(got, emails) {
		t.Errorf("other account's alert_emails %v: want unchanged", got)
	}
	// A member adds the address again: the used link does not remove it.
	again := []string{"ops@example.com", "bob@example.com", "ana@example.com"}
	if _, _, err := c.s.UpdateAccount(ctx, cClient, store.AccountUpdate{AlertEmails: &again}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Unsubscribe(ctx, tok(cClient, "ana@example.com", "n1")); !errors.Is(err, store.ErrOptOutUsed) {
		t.Errorf("replay: %v, want ErrOptOutUsed", err)
	}
	if got := c.c.read(t, cClient).AlertEmails; !cmp.Equal(got, again) {
		t.Errorf("after replay %v, want %v", got, again)
	}
	removed, err = c.s.Unsubscribe(ctx, tok(cClient, "nobody@example.com", "n2"))
	if err != nil || removed {
		t.Errorf("address not on the list: %v, %v; want not removed", removed, err)
	}
	if _, err := c.s.Unsubscribe(ctx, tok(99999, "ops@example.com", "n3")); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
}
