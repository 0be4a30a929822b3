package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// placeholders are the expected string values that match a class of values
// instead of themselves: fields that differ on every run.
var placeholders = map[string]*regexp.Regexp{
	"<time>":   regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`),
	"<secret>": regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`),
}

// numberPlaceholder, as a string value in want, matches any number (a
// latency, say).
const numberPlaceholder = "<number>"

// anyWebhook, in a step's webhooks, matches any one webhook-id (a test
// notification's, made from a fresh load id).
const anyWebhook = "<any>"

// compareJSON compares got with want token by token: the same keys in the
// same order, the same values (numbers by their literal), whitespace
// ignored, a placeholder string value in want matching by its pattern. It
// returns "" when they match, else where and how they first differ.
func compareJSON(got, want []byte) string {
	gd := json.NewDecoder(bytes.NewReader(got))
	wd := json.NewDecoder(bytes.NewReader(want))
	gd.UseNumber()
	wd.UseNumber()
	var w jsonWalker
	for {
		wt, werr := wd.Token()
		gt, gerr := gd.Token()
		switch {
		case errors.Is(werr, io.EOF) && errors.Is(gerr, io.EOF):
			return ""
		case werr != nil && !errors.Is(werr, io.EOF):
			return fmt.Sprintf("expected body is not JSON: %v", werr)
		case gerr != nil && !errors.Is(gerr, io.EOF):
			return fmt.Sprintf("at %s: not JSON: %v", w.path(), gerr)
		case errors.Is(werr, io.EOF):
			return fmt.Sprintf("after the end: unexpected %s", describe(gt))
		case errors.Is(gerr, io.EOF):
			return fmt.Sprintf("at %s: body ends, want %s", w.path(), describe(wt))
		}
		key := w.isKey()
		if !key {
			if ws, ok := wt.(string); ok {
				if re, ok := placeholders[ws]; ok {
					if gs, ok := gt.(string); ok && re.MatchString(gs) {
						w.step(wt)
						continue
					}
				}
				if _, ok := gt.(json.Number); ok && ws == numberPlaceholder {
					w.step(wt)
					continue
				}
			}
		}
		if !tokensEqual(gt, wt) {
			what := "value"
			if key {
				what = "key"
			}
			return fmt.Sprintf("at %s: %s %s, want %s", w.path(), what, describe(gt), describe(wt))
		}
		w.step(wt)
	}
}

// jsonWalker follows the position of a token stream: the containers open
// around it and, in objects, whether the next token is a key.
type jsonWalker struct {
	stack []frame
}

type frame struct {
	object  bool
	wantKey bool
	key     string
	index   int
}

func (w *jsonWalker) isKey() bool {
	return len(w.stack) > 0 && w.stack[len(w.stack)-1].object && w.stack[len(w.stack)-1].wantKey
}

// step records that t was read.
func (w *jsonWalker) step(t json.Token) {
	if d, ok := t.(json.Delim); ok && (d == '}' || d == ']') {
		w.stack = w.stack[:len(w.stack)-1]
		return
	}
	if w.isKey() {
		top := &w.stack[len(w.stack)-1]
		top.key, _ = t.(string)
		top.wantKey = false
		return
	}
	if len(w.stack) > 0 { // a value (or the start of one) at this level
		top := &w.stack[len(w.stack)-1]
		if top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	if d, ok := t.(json.Delim); ok {
		w.stack = append(w.stack, frame{object: d == '{', wantKey: d == '{', index: -1})
	}
}

// path is where the next token is, as $.key[index]...
func (w *jsonWalker) path() string {
	var b strings.Builder
	b.WriteString("$")
	for i, f := range w.stack {
		last := i == len(w.stack)-1
		switch {
		case f.object && !(last && f.wantKey):
			b.WriteString("." + f.key)
		case !f.object && last:
			fmt.Fprintf(&b, "[%d]", f.index+1)
		case !f.object:
			fmt.Fprintf(&b, "[%d]", f.index)
		}
	}
	return b.String()
}

func tokensEqual(a, b json.Token) bool {
	switch av := a.(type) {
	case json.Delim:
		bv, ok := b.(json.Delim)
		return ok && av == bv
	case json.Number:
		bv, ok := b.(json.Number)
		return ok && av == bv
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case nil:
		return b == nil
	}
	return false
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return string(v)
	case string:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return strings.TrimSpace(b.String())
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

// compareFailures compares a function's SQS batch response with the
// expected batchItemFailures item identifiers, in order.
func compareFailures(body []byte, want []string) string {
	if doc := functionError(body); doc != "" {
		return doc
	}
	var r struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	trimmed := bytes.TrimSpace(body)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		return fmt.Sprintf("response is not a batch response: %s", snippet(body))
	}
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return fmt.Sprintf("response is not a batch response: %v: %s", err, snippet(body))
	}
	got := []string{}
	for _, f := range r.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		return "batchItemFailures (-got +want):\n" + diff
	}
	return ""
}

// compareWebhooks compares webhook ids as multisets.
func compareWebhooks(got, want []string) string {
	g, w := slices.Clone(got), []string{}
	anyOf := 0
	for _, id := range want {
		if id == anyWebhook {
			anyOf++
			continue
		}
		w = append(w, id)
	}
	// Each "<any>" takes one received id that no named one claims.
	rest := slices.Clone(g)
	for _, id := range w {
		if i := slices.Index(rest, id); i >= 0 {
			rest = slices.Delete(rest, i, i+1)
		}
	}
	for range anyOf {
		if len(rest) == 0 {
			w = append(w, anyWebhook) // missing: shown in the diff
			continue
		}
		w = append(w, rest[0])
		rest = rest[1:]
	}
	slices.Sort(g)
	slices.Sort(w)
	if g == nil {
		g = []string{}
	}
	if diff := cmp.Diff(g, w); diff != "" {
		return "webhook-ids received (-got +want):\n" + diff
	}
	return ""
}

// functionError describes the error document the emulator returns for a
// function that failed, or "".
func functionError(body []byte) string {
	var doc struct {
		ErrorType    *string `json:"errorType"`
		ErrorMessage *string `json:"errorMessage"`
	}
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("Task timed out")) {
		return "function timed out: " + snippet(trimmed)
	}
	if json.Unmarshal(trimmed, &doc) == nil && (doc.ErrorType != nil || doc.ErrorMessage != nil) {
		return "function failed: " + snippet(trimmed)
	}
	return ""
}

// compareAPI compares an API Gateway payload 2.0 response with want.
func compareAPI(body []byte, want apiResponse) []string {
	if doc := functionError(body); doc != "" {
		return []string{doc}
	}
	var r struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return []string{fmt.Sprintf("response is not an HTTP API response: %v: %s", err, snippet(body))}
	}
	var problems []string
	if r.StatusCode != want.Status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", r.StatusCode, want.Status))
	}
	for _, k := range slices.Sorted(maps.Keys(want.Headers)) {
		if got := headerValue(r.Headers, k); got != want.Headers[k] {
			problems = append(problems, fmt.Sprintf("header %s: %q, want %q", k, got, want.Headers[k]))
		}
	}
	if r.IsBase64Encoded {
		problems = append(problems, "body is base64-encoded, want plain JSON")
	} else if d := compareJSON([]byte(r.Body), want.Body); d != "" {
		problems = append(problems, fmt.Sprintf("body %s\n  got  %s\n  want %s", d, strings.TrimSpace(r.Body), compact(want.Body)))
	}
	return problems
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func compact(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
