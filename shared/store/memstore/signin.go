package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/signin"
)

// The web app's sign-in state: links and sessions by the hash of their
// secret, each address's send times of its rate window, as the store keeps
// them. Expiry is checked on every read, as the store does.
type signinState struct {
	links    map[string]link           // by signin.Hash of the token
	sent     map[string][]int64        // by email key: signin.RecentLinks's times
	sessions map[string]signin.Session // by IDHash
}

type link struct {
	emailKey string
	expires  int64 // Unix seconds
}

// signins returns the sign-in state, made on first use. The caller holds s.mu.
func (s *Store) signins() *signinState {
	if s.web == nil {
		s.web = &signinState{links: map[string]link{}, sent: map[string][]int64{}, sessions: map[string]signin.Session{}}
	}
	return s.web
}

// Memberships is store.Store.Memberships: one principal per account whose
// member has an address with that key.
func (s *Store) Memberships(_ context.Context, emailKey string) ([]hook.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("Memberships"); err != nil {
		return nil, err
	}
	out := []hook.Principal{}
	for cid, ac := range s.accounts {
		for _, m := range ac.members {
			if signin.EmailKey(m.m.Email) == emailKey {
				out = append(out, hook.Principal{ClientID: cid, MemberID: m.m.ID})
			}
		}
	}
	// In the store's order: its sort key MEMBER#<client_id>#<member_id>, as
	// a string.
	sk := func(p hook.Principal) string { return fmt.Sprintf("MEMBER#%d#%s", p.ClientID, p.MemberID) }
	slices.SortFunc(out, func(x, y hook.Principal) int { return cmp.Compare(sk(x), sk(y)) })
	return out, nil
}

// CreateSignInLink is store.Store.CreateSignInLink.
func (s *Store) CreateSignInLink(_ context.Context, email string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateSignInLink"); err != nil {
		return "", err
	}
	w := s.signins()
	now := s.now()
	ek := signin.EmailKey(email)
	sent, ok := signin.RecentLinks(w.sent[ek], now)
	if !ok {
		return "", fmt.Errorf("create sign-in link: %w", signin.ErrRateLimited)
	}
	w.sent[ek] = sent
	token := signin.NewLinkToken()
	w.links[signin.Hash(token)] = link{emailKey: ek, expires: now.Add(ttl).Unix()}
	return token, nil
}

// UseSignInLink is store.Store.UseSignInLink: a link works once, and not
// once expired.
func (s *Store) UseSignInLink(_ context.Context, token string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("UseSignInLink"); err != nil {
		return "", err
	}
	w := s.signins()
	h := signin.Hash(token)
	l, ok := w.links[h]
	if !ok || l.expires <= s.now().Unix() {
		return "", fmt.Errorf("use sign-in link: %w", signin.ErrLinkInvalid)
	}
	delete(w.links, h)
	return l.emailKey, nil
}

// CreateSession is store.Store.CreateSession.
func (s *Store) CreateSession(_ context.Context, emailKey string, p hook.Principal) (string, signin.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateSession"); err != nil {
		return "", signin.Session{}, err
	}
	id := signin.NewSessionID()
	now := s.utcNow()
	sess := signin.Session{IDHash: signin.Hash(id), EmailKey: emailKey, ClientID: p.ClientID, MemberID: p.MemberID, CreatedAt: now, SeenAt: now}
	s.signins().sessions[sess.IDHash] = sess
	return id, sess, nil
}

// Session is store.Store.Session: live, and ended the moment its member is
// deleted.
func (s *Store) Session(_ context.Context, id string) (signin.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("Session"); err != nil {
		return signin.Session{}, err
	}
	w := s.signins()
	sess, ok := w.sessions[signin.Hash(id)]
	now := s.now()
	if !ok || !sess.Live(now) {
		return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
	}
	if sess.ClientID != 0 {
		ac := s.accounts[sess.ClientID]
		if ac == nil {
			return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
		}
		if _, ok := ac.members[sess.MemberID]; !ok {
			return signin.Session{}, fmt.Errorf("session: %w", signin.ErrNoSession)
		}
	}
	if sess.NeedsTouch(now) {
		sess.SeenAt = now.UTC()
		w.sessions[sess.IDHash] = sess
	}
	return sess, nil
}

// BindSession is store.Store.BindSession.
func (s *Store) BindSession(_ context.Context, sess signin.Session, p hook.Principal) (signin.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("BindSession"); err != nil {
		return signin.Session{}, err
	}
	w := s.signins()
	if _, ok := w.sessions[sess.IDHash]; !ok {
		return signin.Session{}, fmt.Errorf("bind session: %w", signin.ErrNoSession)
	}
	sess.ClientID, sess.MemberID = p.ClientID, p.MemberID
	w.sessions[sess.IDHash] = sess
	return sess, nil
}

// DeleteSession is store.Store.DeleteSession.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteSession"); err != nil {
		return err
	}
	delete(s.signins().sessions, signin.Hash(id))
	return nil
}
