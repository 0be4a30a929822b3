package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store"
)

// The alert digest windows and unsubscribe links (store's digest.go and
// optout.go).
type digestState struct {
	current  map[[2]int64]store.DigestWindow // the newest window of each (client, hook)
	firstOf  map[[2]int64]string             // the load that opened it
	sealed   map[windowKey]bool
	entries  map[windowKey][]store.DigestEntry
	placed   map[delivery.Key]placement
	usedLink map[string]bool
}

// windowKey names a window: its client, hook and start (Unix ms).
type windowKey struct{ clientID, hookID, start int64 }

func keyOf(w store.DigestWindow) windowKey {
	return windowKey{w.ClientID, w.HookID, w.Start.UnixMilli()}
}

type placement struct {
	start time.Time
	first bool
}

func (s *Store) digests() *digestState {
	if s.dg == nil {
		s.dg = &digestState{
			current: map[[2]int64]store.DigestWindow{}, firstOf: map[[2]int64]string{},
			sealed: map[windowKey]bool{}, entries: map[windowKey][]store.DigestEntry{},
			placed: map[delivery.Key]placement{}, usedLink: map[string]bool{},
		}
	}
	return s.dg
}

// NoteExhausted is store.Store.NoteExhausted.
func (s *Store) NoteExhausted(_ context.Context, clientID, hookID int64, e store.DigestEntry, window time.Duration) (store.DigestWindow, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("NoteExhausted"); err != nil {
		return store.DigestWindow{}, false, err
	}
	d := s.digests()
	hk := [2]int64{clientID, hookID}
	k := delivery.Key{ClientID: clientID, LoadID: delivery.AlertLoadID(e.LoadID, e.AttemptCount), HookID: hookID}
	if p, ok := d.placed[k]; ok {
		w := store.DigestWindow{ClientID: clientID, HookID: hookID, Start: p.start, End: p.start.Add(window)}
		if cur, ok := d.current[hk]; ok && cur.Start.Equal(p.start) {
			w.End = cur.End
		}
		return w, p.first, nil
	}
	now := time.UnixMilli(s.now().UnixMilli()).UTC()
	if cur, ok := d.current[hk]; ok && cur.End.After(now) && !d.sealed[keyOf(cur)] {
		d.entries[keyOf(cur)] = append(d.entries[keyOf(cur)], e)
		d.placed[k] = placement{start: cur.Start}
		return cur, false, nil
	}
	w := store.DigestWindow{ClientID: clientID, HookID: hookID, Start: now, End: now.Add(window)}
	d.current[hk], d.firstOf[hk] = w, e.LoadID
	d.placed[k] = placement{start: now, first: true}
	return w, true, nil
}

// SealDigest is store.Store.SealDigest.
func (s *Store) SealDigest(_ context.Context, w store.DigestWindow) ([]store.DigestEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SealDigest"); err != nil {
		return nil, err
	}
	if s.now().Before(w.End) {
		return nil, fmt.Errorf("seal digest %d/%d: %w", w.ClientID, w.HookID, store.ErrDigestOpen)
	}
	d := s.digests()
	d.sealed[keyOf(w)] = true
	out := slices.Clone(d.entries[keyOf(w)])
	store.SortDigestEntries(out)
	return out, nil
}

// Unsubscribe is store.Store.Unsubscribe.
func (s *Store) Unsubscribe(_ context.Context, t optout.Token) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("Unsubscribe"); err != nil {
		return false, err
	}
	ac := s.accounts[t.ClientID]
	if ac == nil {
		return false, fmt.Errorf("unsubscribe: get account %d: %w", t.ClientID, hook.ErrNotFound)
	}
	d := s.digests()
	if d.usedLink[t.Nonce] {
		return false, fmt.Errorf("unsubscribe %d: %w", t.ClientID, store.ErrOptOutUsed)
	}
	d.usedLink[t.Nonce] = true
	i := optout.Index(ac.a.AlertEmails, t.RecipientKey)
	if i < 0 {
		return false, nil
	}
	ac.a.AlertEmails = slices.Delete(slices.Clone(ac.a.AlertEmails), i, i+1)
	ac.a.ModifiedAt = s.utcNow()
	return true, nil
}
