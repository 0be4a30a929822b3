package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// ParseRetryAfter reads the Retry-After values of a response (every field
// of that name, as http.Header.Values returns them) made at now, and
// returns how long the receiver asked to be left alone, rounded up to whole
// seconds and at most delivery.MaxDelay. ok is false when there is nothing
// to honour:
//
//   - no value, or an empty one;
//   - neither delta-seconds (digits only: no sign, no fraction) nor an
//     HTTP date (the three forms of http.ParseTime);
//   - several fields that do not all say the same (ambiguous).
//
// A date in the past, or "0", is honoured as no wait (0, true). A value
// past delivery.MaxDelay (also one too large for any integer type, or a
// date years ahead) is capped to it: the receiver wants as long a pause as
// the service gives.
func ParseRetryAfter(values []string, now time.Time) (d time.Duration, ok bool) {
	if len(values) == 0 {
		return 0, false
	}
	v := strings.TrimSpace(values[0])
	for _, other := range values[1:] {
		if strings.TrimSpace(other) != v {
			return 0, false
		}
	}
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(delivery.MaxDelay/time.Second) {
			return delivery.MaxDelay, true // out of range: digits only, so huge
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = at.Sub(now)
	switch {
	case d <= 0:
		return 0, true
	case d >= delivery.MaxDelay:
		return delivery.MaxDelay, true
	}
	return (d + time.Second - 1).Truncate(time.Second), true
}

// retryAfter is the wait a response's Retry-After asks for (zero when none
// or when it cannot be honoured). An HTTP date is measured from the
// response's own Date header when it has a valid one, so a receiver whose
// clock is off still gets the pause it meant, else from the attempt's time.
func retryAfter(h http.Header, at time.Time) time.Duration {
	now := at
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	d, _ := ParseRetryAfter(h.Values("Retry-After"), now)
	return d
}
