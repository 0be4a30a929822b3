package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/postloadhooks/hooks/shared/hook"
)

// History cursors leave the service only through the API, and sealed: the
// store's cursor (its position in one hook's listing, bound to the client,
// hook and status) followed by "." and the base64url HMAC-SHA256 of
// "cursor.v1." + that cursor, under a key only the API holds
// (HOOKS_CURSOR_KEY). The store's own checks refuse a cursor of another
// listing; the seal refuses one the API did not make: hand-written, altered
// or made under another key. Either is Invalid cursor, before the store
// reads anything.

// minCursorKeyBytes is the shortest HOOKS_CURSOR_KEY accepted.
const minCursorKeyBytes = 32

// cursorSeal seals and opens the history's cursors under one key.
type cursorSeal struct{ key []byte }

// processCursorKey is the key of a function given none: random, so its
// cursors work only in this process (locally and in tests; the template
// gives every instance the same key). See hooksConfig.cursorSeal.
var processCursorKey = sync.OnceValue(func() []byte {
	key := make([]byte, minCursorKeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return key
})

// newCursorSeal is the seal of HOOKS_CURSOR_KEY, at least
// minCursorKeyBytes long.
func newCursorSeal(key []byte) (cursorSeal, error) {
	if len(key) < minCursorKeyBytes {
		return cursorSeal{}, fmt.Errorf("cursor key shorter than %d bytes", minCursorKeyBytes)
	}
	return cursorSeal{key: key}, nil
}

// seal is the cursor the API shows for the store's cursor next ("" stays "").
func (c cursorSeal) seal(next string) string {
	if next == "" {
		return ""
	}
	return next + "." + c.mac(next)
}

// open returns the store's cursor inside a sealed one, or
// hook.ErrInvalidCursor when the seal does not hold.
func (c cursorSeal) open(sealed string) (string, error) {
	i := strings.LastIndexByte(sealed, '.')
	if i <= 0 || !hmac.Equal([]byte(sealed[i+1:]), []byte(c.mac(sealed[:i]))) {
		return "", hook.ErrInvalidCursor
	}
	return sealed[:i], nil
}

func (c cursorSeal) mac(next string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("cursor.v1."))
	m.Write([]byte(next))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
