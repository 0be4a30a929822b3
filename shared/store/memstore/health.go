package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Hook health, as store.Store keeps it (shared/store/health.go). lastLoad
// is the last load counted per hook (the store's hf_load).

// NoteHookExhausted is store.Store.NoteHookExhausted.
func (s *Store) NoteHookExhausted(_ context.Context, clientID, hookID int64, loadID string, at time.Time) (hook.Hook, error) {
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
	k := hookKey{clientID, hookID}
	if ok := h.Health.LastSuccessAt; (!ok.IsZero() && !ok.Before(at)) || s.lastLoad[k] == loadID {
		return cloneHook(*h), nil
	}
	if h.Health.FailingSince.IsZero() {
		h.Health.FailingSince = at
	}
	h.Health.Exhausted++
	s.lastLoad[k] = loadID
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
	delete(s.lastLoad, hookKey{clientID, hookID})
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
	delete(s.lastLoad, hookKey{clientID, hookID})
	return old, true, nil
}
