package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/scripts/devkit/funclog"
)

func TestLogsPrintWhatMattersOnce(t *testing.T) {
	in := strings.Join([]string{
		`time="2026-12-01T10:00:00Z" level=info msg="exec '/var/runtime/bootstrap'"`,
		`START RequestId: 1 Version: $LATEST`,
		`{"timestamp":"t","level":"INFO","message":"notification skipped","messageId":"m1","clientId":116078,"loadId":"l1","reason":"no_enabled_hooks"}`,
		`{"timestamp":"t","level":"WARN","message":"aws sdk","detail":"failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum"}`,
		`{"timestamp":"t","level":"INFO","message":"attempt not claimed","clientId":116078,"loadId":"l1","hookId":3,"attempt":1,"status":"delivered","action":"ack"}`,
		`{"timestamp":"t","level":"WARN","message":"aws sdk","detail":"failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum"}`,
		`{"timestamp":"t","level":"INFO","message":"delivery attempt","clientId":116078,"loadId":"l2","hookId":3,"attempt":1,"outcome":"success","statusCode":200,"durationMs":12,"next":"done"}`,
		`{"timestamp":"t","level":"ERROR","message":"claim failed","error":"store: boom"}`,
		`{"timestamp":"t","level":"INFO","message":"deliveries skipped: hook disabled for failing","messageId":"m3","clientId":116078,"loadId":"l3","hooks":1}`,
		`{"timestamp":"t","level":"INFO","message":"probe sent","messageId":"m4","clientId":116078,"hookId":1,"step":2,"outcome":"http_status","statusCode":503,"durationMs":0}`,
		`dispatcher: config: missing environment variables: HOOKS_TABLE`,
	}, "\n") + "\n"
	var file, out bytes.Buffer
	filterLogs(strings.NewReader(in), &file, &out, "dispatcher", false)
	want := strings.Join([]string{
		`dispatcher: load "l1" of client 116078 sent nothing: the account has no enabled hook (scripts/listen creates one)`,
		`dispatcher: ` + funclog.ChecksumNote,
		`dispatcher: load "l1" of client 116078 to hook 3 sent nothing: it was already handled (status delivered); the same load_id is sent once per hook (sendload makes a new one unless -keep-load-id)`,
		`dispatcher: load "l2" of client 116078 -> hook 3, attempt 1: success (200) in 12ms, next: done`,
		`dispatcher: error: claim failed: store: boom`,
		`dispatcher: load "l3" of client 116078 kept as skipped for 1 hook(s) disabled for failing: not sent now, sent again after a successful probe`,
		`dispatcher: hook 1 of client 116078, probe 2 (ping): http_status (503) in 0ms`,
		`dispatcher: error: config: missing environment variables: HOOKS_TABLE`,
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	if n := strings.Count(file.String(), "did not match expected checksum"); n != 1 || !strings.Contains(file.String(), funclog.ChecksumNote) {
		t.Errorf("the log file holds the checksum warning %d times, want once, as the note:\n%s", n, file.String())
	}
	if !strings.Contains(file.String(), "START RequestId") {
		t.Error("the log file lost the emulator's lines")
	}
	out.Reset()
	filterLogs(strings.NewReader(in), &bytes.Buffer{}, &out, "dispatcher", true)
	if !strings.Contains(out.String(), "START RequestId") {
		t.Errorf("-v printed\n%s\nwant every line", out.String())
	}
}
