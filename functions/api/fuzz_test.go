package main

// Fuzz targets for the API's body decoders. Seed corpora live in
// testdata/fuzz/<Target>/; scripts/fuzz runs every target for a bounded
// time. Each target checks the decoder against an independent token-level
// read of the body (encoding/json Decoder.Token, keeping every key in
// order, duplicates included): a body is accepted exactly when that read
// finds one JSON object of the documented shape, and an accepted body
// re-marshals to exactly the documented shape.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/hook"
)

// jsonNode is a JSON value as the independent scan reads it: objects keep
// every key in order, repeated keys included.
type jsonNode struct {
	kind  byte // '{', '[', '"', 'n' (number), 'b' (bool), '0' (null)
	pairs []jsonPair
	items []jsonNode
	str   string
	num   json.Number
	b     bool
}

type jsonPair struct {
	key string
	val jsonNode
}

// scanDepthLimit stops the scan's recursion; no documented body nests
// deeper than 3, so a deeper body is of no documented shape anyway.
const scanDepthLimit = 64

// scanJSON reads data as exactly one JSON value in valid UTF-8 with only
// whitespace after it. ok is false for anything else.
func scanJSON(data []byte) (n jsonNode, ok bool) {
	if !utf8.Valid(data) {
		return jsonNode{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, ok = scanNode(dec, 0)
	if !ok {
		return jsonNode{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonNode{}, false
	}
	return n, true
}

func scanNode(dec *json.Decoder, depth int) (jsonNode, bool) {
	if depth > scanDepthLimit {
		return jsonNode{}, false
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonNode{}, false
	}
	switch v := tok.(type) {
	case json.Delim:
		n := jsonNode{kind: byte(v)}
		for dec.More() {
			if v == '{' {
				k, err := dec.Token()
				key, isKey := k.(string)
				if err != nil || !isKey {
					return jsonNode{}, false
				}
				val, ok := scanNode(dec, depth+1)
				if !ok {
					return jsonNode{}, false
				}
				n.pairs = append(n.pairs, jsonPair{key, val})
				continue
			}
			item, ok := scanNode(dec, depth+1)
			if !ok {
				return jsonNode{}, false
			}
			n.items = append(n.items, item)
		}
		if end, err := dec.Token(); err != nil || end == nil {
			return jsonNode{}, false
		}
		return n, true
	case string:
		return jsonNode{kind: '"', str: v}, true
	case json.Number:
		return jsonNode{kind: 'n', num: v}, true
	case bool:
		return jsonNode{kind: 'b', b: v}, true
	case nil:
		return jsonNode{kind: '0'}, true
	}
	return jsonNode{}, false
}

// keyClash reports whether any object in n, at any depth, has two keys
// that are equal or differ only in case.
func keyClash(n jsonNode) bool {
	for i, p := range n.pairs {
		for _, q := range n.pairs[:i] {
			if strings.EqualFold(p.key, q.key) {
				return true
			}
		}
		if keyClash(p.val) {
			return true
		}
	}
	return slices.ContainsFunc(n.items, keyClash)
}

// keys returns an object's keys in order.
func (n jsonNode) keys() []string {
	out := make([]string, len(n.pairs))
	for i, p := range n.pairs {
		out[i] = p.key
	}
	return out
}

// field returns the value of key when n is an object holding key once.
func (n jsonNode) field(key string) (jsonNode, bool) {
	var found []jsonNode
	for _, p := range n.pairs {
		if p.key == key {
			found = append(found, p.val)
		}
	}
	if len(found) != 1 {
		return jsonNode{}, false
	}
	return found[0], true
}

// exactKeys reports whether n is an object whose keys are exactly want,
// each once, in any order.
func (n jsonNode) exactKeys(want ...string) bool {
	got := n.keys()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	return n.kind == '{' && slices.Equal(got, want)
}

// checkAcceptedShape checks the invariants every accepted body shares:
// the independent scan reads it as one object with no repeated or
// case-variant key, and re-marshalling it gives exactly want.
func checkAcceptedShape(t *testing.T, data []byte, want any) {
	t.Helper()
	n, ok := scanJSON(data)
	if !ok || n.kind != '{' {
		t.Fatalf("accepted %q, which is not exactly one JSON object", data)
	}
	if keyClash(n) {
		t.Fatalf("accepted %q, which repeats a key or has case-variant keys", data)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		t.Fatalf("accepted %q, which does not decode: %v", data, err)
	}
	got, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantJSON) {
		t.Fatalf("accepted %q re-marshals to %s, want %s", data, got, wantJSON)
	}
}

func postRequest(method, target string, data []byte) (*httptest.ResponseRecorder, *http.Request) {
	return httptest.NewRecorder(), httptest.NewRequest(method, target, bytes.NewReader(data))
}

func FuzzCreateHookBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeCreateHook(postRequest("POST", hooksPath, data))

		if len(data) > spec64KiB {
			if !errors.Is(err, errBodyTooLarge) {
				t.Fatalf("%d-byte body: got %v, want errBodyTooLarge", len(data), err)
			}
			return
		}
		n, scanned := scanJSON(data)
		typ, _ := n.field("type")
		dest, _ := n.field("destination_id")
		destID, destErr := strconv.ParseInt(string(dest.num), 10, 64)
		cfg, _ := n.field("config")
		url, _ := cfg.field("url")
		wantOK := scanned && n.exactKeys("type", "destination_id", "config") &&
			typ.kind == '"' && typ.str == hook.TypePostLoad &&
			dest.kind == 'n' && destErr == nil &&
			cfg.exactKeys("url") && url.kind == '"'

		if err != nil {
			if !errors.Is(err, errInvalidPostBody) {
				t.Fatalf("body %q: error %v, want errInvalidPostBody", data, err)
			}
			if wantOK {
				t.Fatalf("refused %q, a body of the documented shape", data)
			}
			return
		}
		if !wantOK {
			t.Fatalf("accepted %q, which is not of the documented shape", data)
		}
		if got.url != url.str || got.destinationID != destID {
			t.Fatalf("body %q: decoded %+v, the scan read url %q and destination %d", data, got, url.str, destID)
		}
		checkAcceptedShape(t, data, map[string]any{
			"type": hook.TypePostLoad, "destination_id": json.Number(strconv.FormatInt(got.destinationID, 10)),
			"config": map[string]any{"url": got.url},
		})
	})
}

func FuzzSetEnabledBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		enable, err := decodeSetEnabled(postRequest("PUT", hooksPath+"/1", data))

		if len(data) > spec64KiB {
			if !errors.Is(err, errBodyTooLarge) {
				t.Fatalf("%d-byte body: got %v, want errBodyTooLarge", len(data), err)
			}
			return
		}
		n, scanned := scanJSON(data)
		v, _ := n.field("enable")
		wantOK := scanned && n.exactKeys("enable") && v.kind == 'b'

		if err != nil {
			if !errors.Is(err, errInvalidPutBody) {
				t.Fatalf("body %q: error %v, want errInvalidPutBody", data, err)
			}
			if wantOK {
				t.Fatalf("refused %q, a body of the documented shape", data)
			}
			return
		}
		if !wantOK {
			t.Fatalf("accepted %q, which is not of the documented shape", data)
		}
		if enable != v.b {
			t.Fatalf("body %q: decoded enable=%v, the scan read %v", data, enable, v.b)
		}
		checkAcceptedShape(t, data, map[string]any{"enable": enable})
	})
}

// checkAdminRefusal checks a refused admin body's response: a 413 for an
// oversized body, else a 400 InvalidBody with a message.
func checkAdminRefusal(t *testing.T, data []byte, status int, body string) {
	t.Helper()
	if len(data) > spec64KiB {
		checkResponse(t, status, body, http.StatusRequestEntityTooLarge, bodyTooLarge)
		return
	}
	var e struct {
		Data struct {
			Message string `json:"message"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if status != http.StatusBadRequest || json.Unmarshal([]byte(body), &e) != nil || e.Error != "InvalidBody" || e.Data.Message == "" {
		t.Fatalf("body %q: got %d %s, want 400 InvalidBody with a message", data, status, body)
	}
}

// adminAccepted runs the invariants common to accepted admin bodies and
// returns the scan, whose top-level keys are all in allowed.
func adminAccepted(t *testing.T, data []byte, allowed ...string) jsonNode {
	t.Helper()
	n, ok := scanJSON(data)
	if !ok || n.kind != '{' || keyClash(n) {
		t.Fatalf("accepted %q: not one object without repeated or case-variant keys", data)
	}
	for _, k := range n.keys() {
		if !slices.Contains(allowed, k) {
			t.Fatalf("accepted %q with key %q; allowed: %v", data, k, allowed)
		}
	}
	return n
}

// accountFields is what a create or update body may set, as the response
// shows it; alert_emails only when the body had it.
func accountFields(n jsonNode, a accountJSON) map[string]any {
	m := map[string]any{}
	if _, ok := n.field("plan"); ok {
		m["plan"] = a.Plan
	}
	if _, ok := n.field("alert_emails"); ok {
		m["alert_emails"] = a.AlertEmails
	}
	if _, ok := n.field("destinations"); ok {
		m["destinations"] = a.Destinations
	}
	return m
}

func FuzzCreateAccountBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		api := newTestAPI(t)
		before := len(api.store.ClientIDs())
		status, body := api.do(t, "POST", "/admin/v1/accounts", bearer(adminToken), string(data))

		switch status {
		case http.StatusCreated:
			n := adminAccepted(t, data, accountKeys...)
			var a accountJSON
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatal(err)
			}
			want := accountFields(n, a)
			want["client_id"] = json.Number(strconv.FormatInt(a.ClientID, 10))
			checkAcceptedShape(t, data, want)
			if len(api.store.ClientIDs()) != before+1 {
				t.Fatalf("accepted %q but %d accounts were added", data, len(api.store.ClientIDs())-before)
			}
			return
		case http.StatusConflict:
			checkResponse(t, status, body, http.StatusConflict, bodyConflict)
		default:
			checkAdminRefusal(t, data, status, body)
		}
		if len(api.store.ClientIDs()) != before {
			t.Fatalf("refused %q but the store changed", data)
		}
	})
}

func FuzzUpdateAccountBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		api := newTestAPI(t)
		api.store.seedHook(clientA, urlA, false)
		beforeAccount, beforeHooks := api.store.account(clientA), slices.Clone(api.store.Hooks(clientA))
		status, body := api.do(t, "PATCH", "/admin/v1/accounts/116078", bearer(adminToken), string(data))

		if status == http.StatusConflict {
			// Only a change leaving out the destination of the seeded hook.
			checkResponse(t, status, body, http.StatusConflict,
				`{"error":{"message":"Destination 12345 still has 1 hook(s); delete them before removing it."}}`)
			if diff := cmp.Diff(api.store.account(clientA), beforeAccount); diff != "" {
				t.Fatalf("refused %q but the account changed (-got +want):\n%s", data, diff)
			}
			return
		}
		if status == http.StatusOK {
			n := adminAccepted(t, data, patchKeys...)
			if len(n.pairs) == 0 {
				t.Fatalf("accepted %q, which sets nothing", data)
			}
			var a accountJSON
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatal(err)
			}
			checkAcceptedShape(t, data, accountFields(n, a))
			return
		}
		checkAdminRefusal(t, data, status, body)
		if diff := cmp.Diff(api.store.account(clientA), beforeAccount); diff != "" {
			t.Fatalf("refused %q but the account changed (-got +want):\n%s", data, diff)
		}
		if diff := cmp.Diff(api.store.Hooks(clientA), beforeHooks); diff != "" {
			t.Fatalf("refused %q but the hooks changed (-got +want):\n%s", data, diff)
		}
	})
}

func FuzzCreateMemberBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		api := newTestAPI(t)
		before := len(api.store.Members(clientA))
		status, body := api.do(t, "POST", "/admin/v1/accounts/116078/members", bearer(adminToken), string(data))

		if status == http.StatusCreated {
			adminAccepted(t, data, memberKeys...)
			var m memberJSON
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			checkAcceptedShape(t, data, map[string]any{"email": m.Email})
			if strings.ContainsAny(m.Email, "\r\n\x00<>,;\" ") {
				t.Fatalf("accepted email %q, which could inject headers or name several recipients", m.Email)
			}
			if len(api.store.Members(clientA)) != before+1 {
				t.Fatalf("accepted %q but %d members were added", data, len(api.store.Members(clientA))-before)
			}
			return
		}
		checkAdminRefusal(t, data, status, body)
		if len(api.store.Members(clientA)) != before {
			t.Fatalf("refused %q but the store changed", data)
		}
	})
}
