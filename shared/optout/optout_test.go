package optout

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 7, 15, 15, 20, 0, 0, time.UTC)

func TestMakeVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Make(116078, " Ana@Example.com ", now)
	if strings.Contains(strings.ToLower(tok), "ana") {
		t.Errorf("token %q carries the address", tok)
	}
	got, err := s.Verify(tok, now.Add(TTL-time.Second))
	if err != nil || got.ClientID != 116078 || got.RecipientKey != RecipientKey("ana@example.com") || got.Nonce == "" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	if again := s.Make(116078, "ana@example.com", now); again == tok {
		t.Error("two links for one address are equal: no nonce")
	}
	if _, err := s.Verify(tok, now.Add(TTL)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	other, _ := NewSigner([]byte("another key of at least thirty-two bytes"))
	parts := strings.Split(tok, ".")
	forgedPayload := b64(strings.Replace(mustDecode(t, parts[1]), "116078", "116079", 1))
	for name, bad := range map[string]string{
		"other key":       other.Make(116078, "ana@example.com", now),
		"payload changed": parts[0] + "." + forgedPayload + "." + parts[2],
		"mac cut":         tok[:len(tok)-4],
		"no version":      strings.TrimPrefix(tok, "v1."),
		"empty":           "",
		"too long":        tok + strings.Repeat("A", maxTokenBytes),
		"two parts":       "v1." + parts[1],
		"not base64":      "v1.!!!." + parts[2],
	} {
		if _, err := s.Verify(bad, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := (Signer{}).Verify(tok, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero Signer: %v, want ErrInvalid", err)
	}
	if _, err := NewSigner([]byte("short")); !errors.Is(err, ErrShortKey) {
		t.Errorf("short key: %v", err)
	}
}

func TestIndex(t *testing.T) {
	list := []string{"ops@example.com", "Ana@example.com"}
	if i := Index(list, RecipientKey("ana@EXAMPLE.com")); i != 1 {
		t.Errorf("Index = %d, want 1", i)
	}
	if i := Index(list, RecipientKey("bob@example.com")); i != -1 {
		t.Errorf("Index = %d, want -1", i)
	}
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func base64Decode(s string) ([]byte, error) { return base64RawURL.DecodeString(s) }

var base64RawURL = base64.RawURLEncoding
