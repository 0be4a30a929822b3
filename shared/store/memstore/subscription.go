package memstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/postloadhooks/hooks/shared/hook"
)

// SetHookSubscription is store.Store.SetHookSubscription: the filter and
// events changed and recorded in the audit trail, on any plan.
func (s *Store) SetHookSubscription(_ context.Context, p hook.Principal, id int64, u hook.SubscriptionUpdate) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetHookSubscription"); err != nil {
		return hook.Hook{}, err
	}
	var events []string
	if u.Events != nil {
		ev, ok := hook.NormalizeEvents(u.Events)
		if !ok {
			return hook.Hook{}, fmt.Errorf("set subscription of hook %d: invalid events", id)
		}
		events = ev
	}
	h, i := s.hookAt(p.ClientID, id)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("set subscription of hook %d: %w", id, hook.ErrNotFound)
	}
	if u.SetFilter {
		h.Filter = nil
		if u.Filter != nil && (u.Filter.Integrations != nil || u.Filter.Tables != nil) {
			h.Filter = u.Filter.Clone()
		}
	}
	if u.Events != nil {
		h.EventTypes = events
	}
	now := s.utcNow()
	h.ModifiedAt = now
	h.Audit = append(slices.Clone(h.Audit), hook.Change{At: now, By: auditBy(p), Action: hook.ActionSubscriptionChanged})
	return cloneHook(*h), nil
}
