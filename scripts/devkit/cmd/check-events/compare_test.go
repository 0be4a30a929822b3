package main

import (
	"strings"
	"testing"
)

func TestCompareJSON(t *testing.T) {
	const hook = `{"id":8,"client_id":116078,"config":{"url":"https://h.example/x"},"created_at":"<time>","disabled_at":null,"secret":"<secret>"}`
	tests := map[string]struct {
		got, want string
		wantDiff  string // substring of the difference; "" for a match
	}{
		"identical":                       {`{"error":"NotFound"}`, `{"error":"NotFound"}`, ""},
		"whitespace ignored":              {"{\"error\": \"NotFound\"}\n", `{"error":"NotFound"}`, ""},
		"placeholders match":              {`{"id":8,"client_id":116078,"config":{"url":"https://h.example/x"},"created_at":"2026-07-16T16:47:54Z","disabled_at":null,"secret":"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, hook, ""},
		"key order matters":               {`{"error":"InvalidBody","data":{"message":"Invalid URI"}}`, `{"data":{"message":"Invalid URI"},"error":"InvalidBody"}`, `at $: key "error", want "data"`},
		"value differs":                   {`{"data":{"message":"Invalid URI"},"error":"InvalidBody"}`, `{"data":{"message":"Duplicate URI"},"error":"InvalidBody"}`, `at $.data.message: value "Invalid URI", want "Duplicate URI"`},
		"extra key":                       {`{"error":"NotFound","x":1}`, `{"error":"NotFound"}`, `key "x", want }`},
		"missing key":                     {`{}`, `{"error":"NotFound"}`, `key }, want "error"`},
		"trailing data":                   {`{"error":"NotFound"}{}`, `{"error":"NotFound"}`, "after the end"},
		"number literal":                  {`{"id":8.0}`, `{"id":8}`, `at $.id: value 8.0, want 8`},
		"string is not number":            {`{"id":"8"}`, `{"id":8}`, `value "8", want 8`},
		"null vs time":                    {`{"disabled_at":null}`, `{"disabled_at":"<time>"}`, `value null, want "<time>"`},
		"time with fraction":              {`{"t":"2026-07-16T16:47:54.5Z"}`, `{"t":"<time>"}`, `want "<time>"`},
		"time not UTC":                    {`{"t":"2026-07-16T16:47:54+02:00"}`, `{"t":"<time>"}`, `want "<time>"`},
		"short secret":                    {`{"s":"whsec_abc"}`, `{"s":"<secret>"}`, `want "<secret>"`},
		"placeholder key":                 {`{"x":1}`, `{"<time>":1}`, `key "x", want "<time>"`},
		"number placeholder":              {`{"latency_ms":12}`, `{"latency_ms":"<number>"}`, ""},
		"number placeholder is no string": {`{"latency_ms":"12"}`, `{"latency_ms":"<number>"}`, `want "<number>"`},
		"array index":                     {`[{"id":1},{"id":9}]`, `[{"id":1},{"id":8}]`, `at $[1].id: value 9, want 8`},
		"shorter array":                   {`[1]`, `[1,2]`, `at $[1]: value ], want 2`},
		"not JSON":                        {`<html>`, `{}`, "not JSON"},
		"empty body":                      {``, `{}`, "body ends"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := compareJSON([]byte(tt.got), []byte(tt.want))
			if tt.wantDiff == "" {
				if got != "" {
					t.Errorf("compareJSON = %q, want a match", got)
				}
				return
			}
			if !strings.Contains(got, tt.wantDiff) {
				t.Errorf("compareJSON = %q, want it to contain %q", got, tt.wantDiff)
			}
		})
	}
}

func TestCompareFailures(t *testing.T) {
	tests := map[string]struct {
		body     string
		want     []string
		wantDiff string
	}{
		"empty list":          {`{"batchItemFailures":[]}`, []string{}, ""},
		"null list is empty":  {`{"batchItemFailures":null}`, []string{}, ""},
		"one failure":         {`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, []string{"m2"}, ""},
		"unexpected failure":  {`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, []string{}, "m2"},
		"missing failure":     {`{"batchItemFailures":[]}`, []string{"m1"}, "m1"},
		"function error":      {`{"errorMessage":"boom","errorType":"errorString"}`, []string{}, "function failed"},
		"timeout":             {`Task timed out after 60.00 seconds`, []string{}, "timed out"},
		"no response at all":  {`null`, []string{}, "not a batch response"},
		"not a batch payload": {`[1]`, []string{}, "not a batch response"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := compareFailures([]byte(tt.body), tt.want)
			if (tt.wantDiff == "") != (got == "") || !strings.Contains(got, tt.wantDiff) {
				t.Errorf("compareFailures = %q, want %q", got, tt.wantDiff)
			}
		})
	}
}

func TestCompareAPI(t *testing.T) {
	want := apiResponse{Status: 404, Headers: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"error":"NotFound"}`)}
	tests := map[string]struct {
		body     string
		wantDiff []string
	}{
		"match": {`{"statusCode":404,"headers":{"content-type":"application/json"},"body":"{\"error\":\"NotFound\"}\n"}`, nil},
		"status and body differ": {`{"statusCode":400,"headers":{"Content-Type":"application/json"},"body":"{\"error\":\"Bad\"}"}`,
			[]string{"status 400, want 404", `value "Bad", want "NotFound"`}},
		"header missing": {`{"statusCode":404,"headers":{},"body":"{\"error\":\"NotFound\"}"}`, []string{`header Content-Type: "", want "application/json"`}},
		"base64 body":    {`{"statusCode":404,"headers":{"Content-Type":"application/json"},"body":"e30=","isBase64Encoded":true}`, []string{"base64"}},
		"function error": {`{"errorMessage":"boom","errorType":"errorString"}`, []string{"function failed"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := compareAPI([]byte(tt.body), want)
			if len(got) != len(tt.wantDiff) {
				t.Fatalf("compareAPI = %q, want %d problems %q", got, len(tt.wantDiff), tt.wantDiff)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.wantDiff[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.wantDiff[i])
				}
			}
		})
	}
}

func TestCompareWebhooks(t *testing.T) {
	if d := compareWebhooks([]string{"b", "a"}, []string{"a", "b"}); d != "" {
		t.Errorf("order should not matter: %s", d)
	}
	if d := compareWebhooks(nil, []string{}); d != "" {
		t.Errorf("nil and empty are both none: %s", d)
	}
	if d := compareWebhooks([]string{"a", "a"}, []string{"a"}); d == "" {
		t.Error("a duplicate delivery must not match one expected delivery")
	}
	if d := compareWebhooks([]string{"msg_x", "a"}, []string{"a", "<any>"}); d != "" {
		t.Errorf("<any> should take the unnamed id: %s", d)
	}
	for _, got := range [][]string{nil, {"a"}, {"x", "y"}} {
		if d := compareWebhooks(got, []string{"<any>"}); (len(got) == 1) != (d == "") {
			t.Errorf("%v against one <any>: %q", got, d)
		}
	}
}
