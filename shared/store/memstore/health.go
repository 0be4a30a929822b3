package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Hook health, as store.Store keeps it (shared/store/health.go). counted
// holds per hook the last countedKeys exhausted deliveries counted, newest
// first (the store's hf_c0 .. hf_c9).

// countedKeys is store's countedKeys.
const countedKeys = 10

// exhaustedKey is what store's exhaustedKey hashes: the load and the
// attempt count.
type exhaustedKey struct {
	loadID   string
	attempts int
}

// NoteHookExhausted is store.Store.NoteHookExhausted.
func (s *Store) NoteHookExhausted(_ context.Context, clientID, hookID int64, loadID string, attempts int, at time.Time) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("NoteHookExhausted"); err != nil {
		return hook.Hook{}, err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("note exhausted delivery of hook %d: %w", hookID, hook.ErrNotFound)
	}
	at = at.UTC()
	k, e := hookKey{clientID, hookID}, exhaustedKey{loadID, attempts}
	if ok := h.Health.LastSuccessAt; (!ok.IsZero() && !ok.Before(at)) || slices.Contains(s.counted[k], e) {
		return cloneHook(*h), nil
	}
	if h.Health.FailingSince.IsZero() {
		h.Health.FailingSince = at
	}
	h.Health.Exhausted++
	s.counted[k] = append([]exhaustedKey{e}, s.counted[k][:min(len(s.counted[k]), countedKeys-1)]...)
	return cloneHook(*h), nil
}

// NoteHookSuccess is store.Store.NoteHookSuccess.
func (s *Store) NoteHookSuccess(_ context.Context, clientID, hookID int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("NoteHookSuccess"); err != nil {
		return err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 || h.Health.FailingSince.IsZero() || h.Health.FailingSince.After(at) {
		return nil
	}
	h.Health = hook.Health{LastSuccessAt: at.UTC()}
	delete(s.counted, hookKey{clientID, hookID})
	return nil
}

// AutoDisableHook is store.Store.AutoDisableHook.
func (s *Store) AutoDisableHook(_ context.Context, clientID, hookID int64, failingSince, replaySince time.Time) (hook.Hook, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AutoDisableHook"); err != nil {
		return hook.Hook{}, false, err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 {
		return hook.Hook{}, false, fmt.Errorf("auto-disable hook %d: %w", hookID, hook.ErrNotFound)
	}
	if !h.Enabled() || !h.Health.FailingSince.Equal(failingSince) {
		return cloneHook(*h), false, nil
	}
	now := s.utcNow()
	h.DisabledAt, h.ModifiedAt = &now, now
	h.Audit = append(slices.Clone(h.Audit), hook.Change{At: now, By: hook.Service, Action: hook.ActionAutoDisabled})
	h.Probe = &hook.Probe{Step: 1, ReplaySince: replaySince.UTC()}
	return cloneHook(*h), true, nil
}

// SetProbeQueued is store.Store.SetProbeQueued.
func (s *Store) SetProbeQueued(_ context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	return s.probeWrite("SetProbeQueued", clientID, hookID, disabledAt, step, func(p *hook.Probe) { p.Queued = true })
}

// AdvanceProbe is store.Store.AdvanceProbe.
func (s *Store) AdvanceProbe(_ context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	return s.probeWrite("AdvanceProbe", clientID, hookID, disabledAt, step, func(p *hook.Probe) { p.Step, p.Queued = step+1, false })
}

func (s *Store) probeWrite(method string, clientID, hookID int64, disabledAt time.Time, step int, change func(*hook.Probe)) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(method); err != nil {
		return false, err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 || h.Probe == nil || h.DisabledAt == nil || !h.DisabledAt.Equal(disabledAt) || h.Probe.Step != step {
		return false, nil
	}
	change(h.Probe)
	return true, nil
}

// ReenableHook is store.Store.ReenableHook.
func (s *Store) ReenableHook(_ context.Context, clientID, hookID int64, disabledAt time.Time) (hook.Hook, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ReenableHook"); err != nil {
		return hook.Hook{}, false, err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 {
		return hook.Hook{}, false, fmt.Errorf("re-enable hook %d: %w", hookID, hook.ErrNotFound)
	}
	if h.Probe == nil || h.DisabledAt == nil || !h.DisabledAt.Equal(disabledAt) {
		return cloneHook(*h), false, nil
	}
	old := cloneHook(*h)
	now := s.utcNow()
	h.DisabledAt, h.Probe, h.ModifiedAt = nil, nil, now
	h.Health = hook.Health{LastSuccessAt: now}
	h.Audit = append(slices.Clone(h.Audit), hook.Change{At: now, By: hook.Service, Action: hook.ActionAutoEnabled})
	delete(s.counted, hookKey{clientID, hookID})
	return old, true, nil
}

// SkipLoad is store.Store.SkipLoad.
func (s *Store) SkipLoad(_ context.Context, l delivery.Load, hookIDs []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SkipLoad"); err != nil {
		return err
	}
	if len(hookIDs) == 0 {
		return nil
	}
	digest := delivery.BodyDigest(l.Body)
	lk := loadKey{l.ClientID, l.LoadID}
	item := s.loads[lk]
	if item == nil {
		l.Body, l.Tables = slices.Clone(l.Body), slices.Clone(l.Tables)
		item = &loadItem{load: l, digest: digest, created: s.utcNow(), entries: map[int64]*deliveryItem{}}
		s.loads[lk] = item
	}
	if item.digest != digest {
		return nil
	}
	item.indexed = true
	for _, id := range hookIDs {
		if item.entries[id] == nil {
			s.newEntry(item, id).rec.Status = delivery.StatusSkipped
		}
	}
	return nil
}

// RecoverableDeliveries is store.Store.RecoverableDeliveries.
func (s *Store) RecoverableDeliveries(_ context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("RecoverableDeliveries"); err != nil {
		return nil, err
	}
	out := []delivery.Delivery{}
	for _, l := range s.indexed(clientID) {
		if len(out) == max {
			break
		}
		if l.created.Before(since) || !l.created.Before(until) || strings.HasPrefix(l.load.LoadID, delivery.TestLoadPrefix) {
			continue
		}
		if d, ok := l.asDelivery(hookID, false); ok && (d.Status == delivery.StatusExhausted || d.Status == delivery.StatusSkipped) {
			out = append(out, d)
		}
	}
	return out, nil
}
