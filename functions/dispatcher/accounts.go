package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/postloadhooks/hooks/shared/hook"
)

// The accounts of one invocation: each client's account and hooks are read
// once (one Query) however many records of the batch are for it, and the
// first record to need them reads them while the others wait.

type accountState struct {
	account hook.Account
	hooks   []hook.Hook
	err     error
}

// accountCache holds the accounts read by one invocation. It lives as long
// as the invocation: the next batch reads them again.
type accountCache struct {
	h  *handler
	mu sync.Mutex
	m  map[int64]*cachedAccount
}

type cachedAccount struct {
	once sync.Once
	st   accountState
}

func newAccountCache(h *handler) *accountCache {
	return &accountCache{h: h, m: map[int64]*cachedAccount{}}
}

// get returns client cid's account and hooks, reading them on first use.
func (c *accountCache) get(ctx context.Context, cid int64) accountState {
	c.mu.Lock()
	e := c.m[cid]
	if e == nil {
		e = &cachedAccount{}
		c.m[cid] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.st = c.h.readAccount(ctx, cid) })
	return e.st
}

// hook returns the account's hook id, if it has one.
func (st accountState) hook(id int64) (hook.Hook, bool) {
	for _, hk := range st.hooks {
		if hk.ID == id {
			return hk, true
		}
	}
	return hook.Hook{}, false
}

// errForeignAccount means the store answered a read of one client with
// another client's account.
var errForeignAccount = errors.New("account read returned another client's account")

// readAccount reads one client's account and hooks and enforces tenant
// isolation on the answer, whatever the store returns: an account of another
// client is an error (the records fail, nothing is sent), and a hook of
// another client is dropped, so nothing is ever sent to it.
func (h *handler) readAccount(ctx context.Context, cid int64) accountState {
	a, hooks, err := h.accounts.AccountWithHooks(ctx, cid)
	if err != nil {
		return accountState{err: err}
	}
	if a.ClientID != cid {
		return accountState{err: fmt.Errorf("read account %d: %w", cid, errForeignAccount)}
	}
	own := make([]hook.Hook, 0, len(hooks))
	for _, hk := range hooks {
		if hk.ClientID != cid {
			h.log.ErrorContext(ctx, "foreign hook dropped", "clientId", cid, "hookId", hk.ID)
			continue
		}
		own = append(own, hk)
	}
	return accountState{account: a, hooks: own}
}
