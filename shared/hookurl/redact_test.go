package hookurl

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"https://hooks.example.com/catch/abc", "https://hooks.example.com/catch/abc"},
		{"https://hooks.example.com/catch/abc?token=s3cret", "https://hooks.example.com/catch/abc?[redacted]"},
		{"https://hooks.example.com/catch?", "https://hooks.example.com/catch?[redacted]"},
		{"https://user:pa55@hooks.example.com:8443/x#frag-secret", "https://hooks.example.com:8443/x"},
		{"https://hooks.example.com/a%2Fb?k=v#f", "https://hooks.example.com/a%2Fb?[redacted]"},
		{"https://[2001:db8::1]:443/p?q", "https://[2001:db8::1]:443/p?[redacted]"},
		{"not a url", "(not shown: not a valid absolute URL)"},
		{"https://exa mple.com/?token=s3cret", "(not shown: not a valid absolute URL)"},
		{"", "(not shown: not a valid absolute URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := Redact(tt.raw); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if got := Redact(tt.want); got != tt.want && !strings.HasPrefix(tt.want, "(") {
				t.Errorf("Redact(Redact(%q)) = %q, want it unchanged", tt.raw, got)
			}
		})
	}
}
