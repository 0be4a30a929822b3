package main

import (
	"context"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
)

// fakeWeb is the fake store's sign-in state, with the documented semantics
// of *store.Store's sign-in methods (links once and within signin.LinkTTL,
// signin.LinksPerHour per address and window, sessions that end when idle,
// too old, signed out or their member deleted).
type fakeWeb struct {
	links    map[string]fakeLink // by hash of token
	rate     map[string]int      // by email key + window
	sessions map[string]signin.Session
}

type fakeLink struct {
	emailKey string
	expires  int64
}

func (f *fakeStore) webState() *fakeWeb {
	if f.web.links == nil {
		f.web = fakeWeb{links: map[string]fakeLink{}, rate: map[string]int{}, sessions: map[string]signin.Session{}}
	}
	return &f.web
}

func (f *fakeStore) Memberships(_ context.Context, emailKey string) ([]hook.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return nil, err
	}
	var out []hook.Principal
	for cid, ms := range f.members {
		for _, m := range ms {
			if signin.EmailKey(m.Email) == emailKey {
				out = append(out, hook.Principal{ClientID: cid, MemberID: m.ID})
			}
		}
	}
	return out, nil
}

func (f *fakeStore) CreateSignInLink(_ context.Context, email string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return "", err
	}
	w := f.webState()
	now := f.now()
	rk := signin.EmailKey(email) + "#" + now.Truncate(signin.RateWindow).String()
	if w.rate[rk] >= signin.LinksPerHour {
		return "", signin.ErrRateLimited
	}
	w.rate[rk]++
	token := signin.NewLinkToken()
	w.links[signin.Hash(token)] = fakeLink{emailKey: signin.EmailKey(email), expires: now.Add(signin.LinkTTL).Unix()}
	return token, nil
}

func (f *fakeStore) UseSignInLink(_ context.Context, token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return "", err
	}
	w := f.webState()
	l, ok := w.links[signin.Hash(token)]
	delete(w.links, signin.Hash(token))
	if !ok || l.expires <= f.now().Unix() {
		return "", signin.ErrLinkInvalid
	}
	return l.emailKey, nil
}

func (f *fakeStore) CreateSession(_ context.Context, emailKey string, p hook.Principal) (string, signin.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return "", signin.Session{}, err
	}
	id := signin.NewSessionID()
	now := f.now().UTC()
	s := signin.Session{IDHash: signin.Hash(id), EmailKey: emailKey, ClientID: p.ClientID, MemberID: p.MemberID, CreatedAt: now, SeenAt: now}
	f.webState().sessions[s.IDHash] = s
	return id, s, nil
}

func (f *fakeStore) Session(_ context.Context, id string) (signin.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return signin.Session{}, err
	}
	w := f.webState()
	s, ok := w.sessions[signin.Hash(id)]
	now := f.now()
	if !ok || !s.Live(now) {
		return signin.Session{}, signin.ErrNoSession
	}
	if s.ClientID != 0 {
		if _, ok := f.members[s.ClientID][s.MemberID]; !ok {
			return signin.Session{}, signin.ErrNoSession
		}
	}
	if s.NeedsTouch(now) {
		s.SeenAt = now.UTC()
		w.sessions[s.IDHash] = s
	}
	return s, nil
}

func (f *fakeStore) BindSession(_ context.Context, s signin.Session, p hook.Principal) (signin.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return signin.Session{}, err
	}
	w := f.webState()
	if _, ok := w.sessions[s.IDHash]; !ok {
		return signin.Session{}, signin.ErrNoSession
	}
	s.ClientID, s.MemberID = p.ClientID, p.MemberID
	w.sessions[s.IDHash] = s
	return s, nil
}

func (f *fakeStore) DeleteSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(); err != nil {
		return err
	}
	delete(f.webState().sessions, signin.Hash(id))
	return nil
}
