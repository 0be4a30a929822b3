package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 15, 14, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		values []string
		want   time.Duration
		wantOK bool
	}{
		{"none", nil, 0, false},
		{"seconds", []string{"120"}, 2 * time.Minute, true},
		{"seconds with spaces", []string{" 30 "}, 30 * time.Second, true},
		{"zero", []string{"0"}, 0, true},
		{"leading zeros", []string{"0060"}, time.Minute, true},
		{"the most", []string{"900"}, 15 * time.Minute, true},
		{"past the most: capped", []string{"901"}, 15 * time.Minute, true},
		{"a day: capped", []string{"86400"}, 15 * time.Minute, true},
		{"beyond uint64: capped", []string{"99999999999999999999999999"}, 15 * time.Minute, true},
		{"negative", []string{"-5"}, 0, false},
		{"plus sign", []string{"+5"}, 0, false},
		{"fraction", []string{"1.5"}, 0, false},
		{"unit", []string{"30s"}, 0, false},
		{"empty", []string{""}, 0, false},
		{"blank", []string{"  "}, 0, false},
		{"garbage", []string{"soon"}, 0, false},
		{"a list in one field", []string{"120, 60"}, 0, false},
		{"HTTP date", []string{date(90 * time.Second)}, 90 * time.Second, true},
		{"RFC 850 date", []string{now.Add(2 * time.Minute).Format(time.RFC850)}, 2 * time.Minute, true},
		{"asctime date", []string{now.Add(3 * time.Minute).Format(time.ANSIC)}, 3 * time.Minute, true},
		{"date now", []string{date(0)}, 0, true},
		{"date in the past", []string{date(-time.Hour)}, 0, true},
		{"date next year: capped", []string{date(365 * 24 * time.Hour)}, 15 * time.Minute, true},
		{"date not in GMT", []string{"Wed, 15 Jul 2026 14:01:00 +0200"}, 0, false},
		{"two fields alike", []string{"60", " 60"}, time.Minute, true},
		{"two fields that differ", []string{"60", "120"}, 0, false},
		{"a date and seconds", []string{date(time.Minute), "60"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.values, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tt.values, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestParseRetryAfterRoundsUp: a date a fraction of a second ahead of the
// clock waits the whole second.
func TestParseRetryAfterRoundsUp(t *testing.T) {
	now := time.Date(2026, 7, 15, 14, 0, 0, 250_000_000, time.UTC)
	if got, ok := ParseRetryAfter([]string{"Wed, 15 Jul 2026 14:00:10 GMT"}, now); got != 10*time.Second || !ok {
		t.Errorf("ParseRetryAfter = %v, %v, want 10s, true", got, ok)
	}
}

// TestRetryAfterMeasuresFromDate: an HTTP date counts from the response's
// own Date (the receiver's clock), else from the attempt's time.
func TestRetryAfterMeasuresFromDate(t *testing.T) {
	at := time.Date(2026, 7, 15, 14, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("Retry-After", at.Add(time.Hour+time.Minute).Format(http.TimeFormat))
	h.Set("Date", at.Add(time.Hour).Format(http.TimeFormat)) // the receiver's clock is an hour ahead
	if got := retryAfter(h, at); got != time.Minute {
		t.Errorf("with Date: %v, want 1m0s", got)
	}
	h.Set("Date", "yesterday")
	if got := retryAfter(h, at); got != 15*time.Minute {
		t.Errorf("with an invalid Date: %v, want the cap 15m0s (measured from the attempt)", got)
	}
}
