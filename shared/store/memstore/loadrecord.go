package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// Load records (store/loadrecord.go), decided with the rules of package
// delivery as the store's conditions are.

type loadKey struct {
	clientID int64
	loadID   string
}

type loadItem struct {
	load    delivery.Load
	seq     int64 // recorded with the first result that carries it
	digest  string
	created time.Time
	indexed bool // in the index by_created: a result has been written
	entries map[int64]*deliveryItem
}

func (l *loadItem) entry(id int64) *delivery.Record {
	e := l.entries[id]
	if e == nil {
		return nil
	}
	r := cloneRecord(e.rec)
	r.Sequence = l.seq
	return &r
}

func (l *loadItem) asDelivery(id int64, withBody bool) (delivery.Delivery, bool) {
	e := l.entry(id)
	if e == nil {
		return delivery.Delivery{}, false
	}
	d := delivery.Delivery{
		Key: e.Key, Status: delivery.ShownStatus(e.Status, e.Attempt, l.entries[id].claim != ""), WebhookID: e.WebhookID,
		IntegrationName: l.load.IntegrationName, Tables: slices.Clone(l.load.Tables),
		CreatedAt: l.created, Attempts: e.Attempts,
	}
	if withBody {
		d.Body = slices.Clone(l.load.Body)
	}
	return d, true
}

func (s *Store) newEntry(l *loadItem, id int64) *deliveryItem {
	e := &deliveryItem{rec: delivery.Record{
		Key:       delivery.Key{ClientID: l.load.ClientID, LoadID: l.load.LoadID, HookID: id},
		WebhookID: hook.WebhookID(l.load.ClientID, l.load.LoadID, id), BodyDigest: l.digest,
	}}
	l.entries[id] = e
	return e
}

func claimEntry(e *deliveryItem, n int, token string, leaseUntil time.Time) {
	e.rec.Status, e.rec.Attempt, e.claim = delivery.StatusAttempting, n, token
	e.rec.LeaseUntil = time.UnixMilli(leaseUntil.UnixMilli()).UTC()
}

// ClaimLoad is store.Store.ClaimLoad.
func (s *Store) ClaimLoad(_ context.Context, l delivery.Load, hookIDs []int64, token string, lease time.Duration) ([]delivery.Claim, map[int64]*delivery.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ClaimLoad"); err != nil {
		return nil, nil, err
	}
	claims, _, conflicts := s.claimLoad(l, hookIDs, nil, token, lease)
	return claims, conflicts, nil
}

// ClaimLoadDeferring is store.Store.ClaimLoadDeferring.
func (s *Store) ClaimLoadDeferring(_ context.Context, l delivery.Load, hookIDs, deferIDs []int64, token string, lease time.Duration) ([]delivery.Claim, []int64, map[int64]*delivery.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ClaimLoad"); err != nil {
		return nil, nil, nil, err
	}
	claims, deferred, conflicts := s.claimLoad(l, hookIDs, deferIDs, token, lease)
	return claims, deferred, conflicts, nil
}

func (s *Store) claimLoad(l delivery.Load, hookIDs, deferIDs []int64, token string, lease time.Duration) ([]delivery.Claim, []int64, map[int64]*delivery.Record) {
	now := s.utcNow()
	digest := delivery.BodyDigest(l.Body)
	lk := loadKey{l.ClientID, l.LoadID}
	item := s.loads[lk]
	if item == nil {
		l.Body, l.Tables = slices.Clone(l.Body), slices.Clone(l.Tables)
		item = &loadItem{load: l, digest: digest, created: now, entries: map[int64]*deliveryItem{}}
		s.loads[lk] = item
	}
	var claims []delivery.Claim
	conflicts := map[int64]*delivery.Record{}
	for _, id := range hookIDs {
		c := delivery.Claim{Key: delivery.Key{ClientID: l.ClientID, LoadID: l.LoadID, HookID: id}, Attempt: 1, Token: token, Sequence: item.seq}
		e := item.entry(id)
		switch {
		case item.digest != digest:
			conflicts[id] = e
		case e != nil && delivery.HeldBy(*e, item.entries[id].claim, c, delivery.StatusAttempting):
			claims = append(claims, c)
		case delivery.CanClaim(e, 1, digest, now):
			ent := item.entries[id]
			if ent == nil {
				ent = s.newEntry(item, id)
			}
			claimEntry(ent, 1, token, now.Add(lease))
			claims = append(claims, c)
		default:
			conflicts[id] = e
		}
	}
	var deferred []int64
	for _, id := range deferIDs {
		switch e := item.entry(id); {
		case item.digest != digest:
			conflicts[id] = e
		case e == nil:
			ent := s.newEntry(item, id)
			ent.rec.Status = delivery.StatusWaiting
			deferred = append(deferred, id)
		case delivery.CanClaim(e, 1, digest, now):
			deferred = append(deferred, id) // left for the deferral message
		default:
			conflicts[id] = e
		}
	}
	return claims, deferred, conflicts
}

// ClaimHook is store.Store.ClaimHook.
func (s *Store) ClaimHook(_ context.Context, c delivery.Claim, bodyDigest string, lease time.Duration) (bool, *delivery.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ClaimHook"); err != nil {
		return false, nil, err
	}
	now := s.utcNow()
	item := s.loads[loadKey{c.ClientID, c.LoadID}]
	if item == nil {
		return false, nil, nil
	}
	e := item.entry(c.HookID)
	if e == nil {
		return false, nil, nil
	}
	if item.digest != bodyDigest || !delivery.CanClaim(e, c.Attempt, bodyDigest, now) {
		if delivery.HeldBy(*e, item.entries[c.HookID].claim, c, delivery.StatusAttempting) {
			return true, e, nil
		}
		return false, e, nil
	}
	claimEntry(item.entries[c.HookID], c.Attempt, c.Token, now.Add(lease))
	return true, item.entry(c.HookID), nil
}

// RecordResults is store.Store.RecordResults.
func (s *Store) RecordResults(_ context.Context, rs []delivery.Result) ([]delivery.Record, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, errs := make([]delivery.Record, len(rs)), make([]error, len(rs))
	if err := s.enter("RecordResults"); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return recs, errs
	}
	for i, r := range rs {
		c := r.Claim
		lost := func() error {
			return fmt.Errorf("record delivery %s hook %d attempt %d: %w", c.LoadID, c.HookID, c.Attempt, delivery.ErrClaimLost)
		}
		item := s.loads[loadKey{c.ClientID, c.LoadID}]
		if item == nil || item.entries[c.HookID] == nil {
			errs[i] = lost()
			continue
		}
		d := item.entries[c.HookID]
		if r.Status != delivery.StatusAttempting && delivery.HeldBy(d.rec, d.claim, c, r.Status) {
			recs[i] = *item.entry(c.HookID) // written by an earlier try of this call
			continue
		}
		if !delivery.HeldBy(d.rec, d.claim, c, delivery.StatusAttempting) {
			errs[i] = lost()
			continue
		}
		a := r.Attempt.Stored()
		if item.seq == 0 {
			item.seq = c.Sequence
		}
		d.rec.Status, d.rec.LeaseUntil = r.Status, time.Time{}
		d.rec.Attempts = append(slices.Clone(d.rec.Attempts), a)
		item.indexed = true
		recs[i] = *item.entry(c.HookID)
	}
	return recs, errs
}

// CancelHook is store.Store.CancelHook.
func (s *Store) CancelHook(_ context.Context, c delivery.Claim) error {
	return s.endHook("CancelHook", "cancel", c, delivery.StatusCancelled)
}

// SkipHook is store.Store.SkipHook.
func (s *Store) SkipHook(_ context.Context, c delivery.Claim) error {
	return s.endHook("SkipHook", "skip", c, delivery.StatusSkipped)
}

func (s *Store) endHook(method, verb string, c delivery.Claim, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(method); err != nil {
		return err
	}
	var d *deliveryItem
	if item := s.loads[loadKey{c.ClientID, c.LoadID}]; item != nil {
		d = item.entries[c.HookID]
	}
	if d != nil && delivery.HeldBy(d.rec, d.claim, c, status) {
		return nil // ended by an earlier try of this call
	}
	if d == nil || !delivery.HeldBy(d.rec, d.claim, c, delivery.StatusAttempting) {
		return fmt.Errorf("%s delivery %s hook %d attempt %d: %w", verb, c.LoadID, c.HookID, c.Attempt, delivery.ErrClaimLost)
	}
	d.rec.Status, d.rec.LeaseUntil = status, time.Time{}
	if status == delivery.StatusSkipped {
		s.loads[loadKey{c.ClientID, c.LoadID}].indexed = true // the replay after a recovery finds it
	}
	return nil
}

// LoadEntry returns the entry of hook k.HookID in the record of k's load, as
// stored (for tests).
func (s *Store) LoadEntry(k delivery.Key) (delivery.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	item := s.loads[loadKey{k.ClientID, k.LoadID}]
	if item == nil || item.entries[k.HookID] == nil {
		return delivery.Record{}, false
	}
	return *item.entry(k.HookID), true
}

// --- History ---

// indexed returns the client's records in the index, in index order (sort
// key ascending).
func (s *Store) indexed(clientID int64) []*loadItem {
	var out []*loadItem
	for k, l := range s.loads {
		if k.clientID == clientID && l.indexed {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *loadItem) int {
		return cmp.Compare(store.CreatedKey(a.created, a.load.LoadID), store.CreatedKey(b.created, b.load.LoadID))
	})
	return out
}

// ListDeliveries is store.Store.ListDeliveries: Limit records of the index
// are read, newest first, and filtered.
func (s *Store) ListDeliveries(_ context.Context, q delivery.ListQuery) (delivery.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ListDeliveries"); err != nil {
		return delivery.Page{}, err
	}
	all := s.indexed(q.ClientID)
	slices.Reverse(all)
	if q.Cursor != "" {
		c, ok := delivery.DecodeCursor(q.Cursor, q)
		if !ok {
			return delivery.Page{}, fmt.Errorf("list deliveries of hook %d: %w", q.HookID, hook.ErrInvalidCursor)
		}
		i := 0
		for i < len(all) && store.CreatedKey(all[i].created, all[i].load.LoadID) >= c.After {
			i++
		}
		all = all[i:]
	}
	page := delivery.Page{Deliveries: []delivery.Delivery{}}
	read := all[:min(q.Limit, len(all))]
	for _, l := range read {
		d, ok := l.asDelivery(q.HookID, false)
		if ok && (q.Status == "" || d.Status == q.Status) {
			page.Deliveries = append(page.Deliveries, d)
		}
	}
	if len(read) == q.Limit && len(read) > 0 {
		last := read[len(read)-1]
		// DynamoDB sets a last key when a page is full, even if nothing
		// follows; so does this store.
		page.Next = delivery.Cursor{ClientID: q.ClientID, HookID: q.HookID, Status: q.Status,
			After: store.CreatedKey(last.created, last.load.LoadID), LoadID: last.load.LoadID}.Encode()
	}
	return page, nil
}

// GetDelivery is store.Store.GetDelivery.
func (s *Store) GetDelivery(_ context.Context, k delivery.Key) (delivery.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("GetDelivery"); err != nil {
		return delivery.Delivery{}, err
	}
	if l := s.loads[loadKey{k.ClientID, k.LoadID}]; l != nil {
		if d, ok := l.asDelivery(k.HookID, true); ok {
			return d, nil
		}
	}
	return delivery.Delivery{}, fmt.Errorf("get delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrNotFound)
}

// Resend is store.Store.Resend.
func (s *Store) Resend(_ context.Context, k delivery.Key) (delivery.Restart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("Resend"); err != nil {
		return delivery.Restart{}, err
	}
	l := s.loads[loadKey{k.ClientID, k.LoadID}]
	var d delivery.Delivery
	ok := false
	if l != nil {
		d, ok = l.asDelivery(k.HookID, true)
	}
	if !ok {
		return delivery.Restart{}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrNotFound)
	}
	if delivery.IsTest(k.LoadID) {
		return delivery.Restart{Delivery: d}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrTestDelivery)
	}
	if !delivery.IsFinal(d.Status) {
		return delivery.Restart{Delivery: d}, fmt.Errorf("resend delivery %s hook %d: %w", k.LoadID, k.HookID, hook.ErrDeliveryInProgress)
	}
	e := l.entries[k.HookID]
	ended := delivery.Ended{Status: e.rec.Status, Attempt: e.rec.Attempt}
	e.rec.Status, e.rec.Attempt, e.claim = delivery.StatusWaiting, 0, "restarted"
	l.indexed = true
	d.Status = delivery.ShownStatus(e.rec.Status, e.rec.Attempt, true)
	m := delivery.RetryMessage{Kind: delivery.KindRetry, ClientID: k.ClientID, LoadID: k.LoadID, HookID: k.HookID,
		Attempt: 1, WebhookID: d.WebhookID, Body: d.Body}
	return delivery.Restart{Message: m, Delivery: d, Ended: ended}, nil
}

// UndoResend is store.Store.UndoResend.
func (s *Store) UndoResend(_ context.Context, k delivery.Key, ended delivery.Ended) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("UndoResend"); err != nil {
		return err
	}
	l := s.loads[loadKey{k.ClientID, k.LoadID}]
	if l == nil || l.entries[k.HookID] == nil {
		return nil
	}
	if e := l.entries[k.HookID]; e.rec.Status == delivery.StatusWaiting && e.rec.Attempt == 0 {
		e.rec.Status, e.rec.Attempt, e.claim = ended.Status, ended.Attempt, ""
	}
	return nil
}

// ExhaustedDeliveries is store.Store.ExhaustedDeliveries.
func (s *Store) ExhaustedDeliveries(_ context.Context, clientID, hookID int64, since, until time.Time, max int) ([]delivery.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ExhaustedDeliveries"); err != nil {
		return nil, err
	}
	out := []delivery.Delivery{}
	for _, l := range s.indexed(clientID) {
		if len(out) == max {
			break
		}
		if l.created.Before(since) || !l.created.Before(until) || delivery.IsTest(l.load.LoadID) {
			continue
		}
		if d, ok := l.asDelivery(hookID, false); ok && d.Status == delivery.StatusExhausted {
			out = append(out, d)
		}
	}
	return out, nil
}

// RecordTest is store.Store.RecordTest.
func (s *Store) RecordTest(_ context.Context, k delivery.Key, body []byte, a delivery.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("RecordTest"); err != nil {
		return err
	}
	integration, tables := delivery.Names(body)
	l := &loadItem{
		load:   delivery.Load{ClientID: k.ClientID, LoadID: k.LoadID, IntegrationName: integration, Tables: tables, Body: slices.Clone(body)},
		digest: delivery.BodyDigest(body), created: s.utcNow(), indexed: true, entries: map[int64]*deliveryItem{},
	}
	e := s.newEntry(l, k.HookID)
	e.rec.Status, e.rec.Attempt = delivery.StatusExhausted, 1
	if a.Outcome == delivery.OutcomeSuccess {
		e.rec.Status = delivery.StatusDelivered
	}
	e.rec.Attempts = []delivery.Attempt{a.Stored()}
	s.loads[loadKey{k.ClientID, k.LoadID}] = l
	return nil
}
