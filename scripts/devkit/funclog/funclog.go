// Package funclog reads the functions' local output (their JSON log
// lines, and the "<function>: <error>" line a function that cannot start
// prints) and says in one line what a person running them locally needs to
// know: an error, a delivery, a load that sent nothing and why, a load kept
// as skipped for a hook disabled for failing, a probe of such a hook, a
// message dead-lettered. scripts/dev (devkit logs) and scripts/invoke use it. It is
// a development tool.
package funclog

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// ChecksumNote explains the SDK warning DynamoDB Local's error responses
// cause.
const ChecksumNote = `note: the AWS SDK warns "response did not match expected checksum" after DynamoDB Local's error responses (a failed condition, for instance): DynamoDB Local's CRC32 header does not match them. Harmless here; not shown again.`

// IsChecksumWarning reports the SDK line ChecksumNote explains.
func IsChecksumWarning(line string) bool {
	return strings.Contains(line, "did not match expected checksum")
}

// skipReasons explain the dispatcher's "notification skipped" reasons.
var skipReasons = map[string]string{
	"unknown_client":       "no account has this client_id",
	"plan_without_feature": "the account's plan does not include hooks",
	"no_enabled_hooks":     "the account has no enabled hook (scripts/listen creates one)",
	"load_failed":          "the load failed, and no hook asked for failed loads",
}

// Summarize returns the one line to print for a log line of the functions
// (their JSON logs, or a plain "name: error" line at start-up), and false
// for lines that only go to the log file.
func Summarize(name, line string) (string, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		// A function that cannot start prints "<function>: <error>" and exits.
		if rest, ok := strings.CutPrefix(line, name+": "); ok {
			return "error: " + rest, true
		}
		return "", false
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return fmt.Sprintf("%.0f", v)
		}
		return ""
	}
	msg := str("message")
	if msg == "" {
		msg = str("msg")
	}
	load := fmt.Sprintf("load %q of client %s", str("loadId"), str("clientId"))
	switch msg {
	case "notification skipped":
		why := skipReasons[str("reason")]
		if why == "" {
			why = str("reason")
		}
		return fmt.Sprintf("%s sent nothing: %s", load, why), true
	case "attempt not claimed":
		if st := str("status"); st == delivery.StatusDelivered || st == delivery.StatusExhausted || st == delivery.StatusCancelled {
			return fmt.Sprintf("%s to hook %s sent nothing: it was already handled (status %s); the same load_id is sent once per hook (sendload makes a new one unless -keep-load-id)", load, str("hookId"), st), true
		}
		return "", false
	case "delivery attempt":
		code := str("statusCode")
		if code == "" || code == "0" {
			code = "no answer"
		}
		return fmt.Sprintf("%s -> hook %s, attempt %s: %s (%s) in %sms, next: %s", load, str("hookId"), str("attempt"), str("outcome"), code, str("durationMs"), str("next")), true
	case "deliveries skipped: hook disabled for failing":
		return fmt.Sprintf("%s kept as skipped for %s hook(s) disabled for failing: not sent now, sent again after a successful probe", load, str("hooks")), true
	case "probe sent":
		code := str("statusCode")
		if code == "" || code == "0" {
			code = "no answer"
		}
		return fmt.Sprintf("hook %s of client %s, probe %s (ping): %s (%s) in %sms", str("hookId"), str("clientId"), str("step"), str("outcome"), code, str("durationMs")), true
	case "malformed message":
		return fmt.Sprintf("message %s went to the dead-letter queue: %s", str("messageId"), str("reason")), true
	case "alert sent":
		return "alert sent (see the mail store)", true
	}
	if lvl := str("level"); lvl == "ERROR" || lvl == "WARN" {
		detail := str("error")
		if detail == "" {
			detail = str("reason")
		}
		if detail == "" {
			detail = str("detail")
		}
		s := strings.ToLower(lvl) + ": " + msg
		if detail != "" {
			s += ": " + detail
		}
		return s, true
	}
	return "", false
}

// FirstError is the first error among a function's output lines (see
// Summarize), or "" when there is none.
func FirstError(name string, lines []string) string {
	for _, l := range lines {
		if s, ok := Summarize(name, l); ok {
			if rest, isErr := strings.CutPrefix(s, "error: "); isErr {
				return rest
			}
		}
	}
	return ""
}
