package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// ErrSecret means a signing secret is not "whsec_" followed by non-empty
// standard base64.
var ErrSecret = errors.New("malformed signing secret")

// Sign returns the Standard Webhooks signature of one attempt:
// "v1," + base64 of HMAC-SHA256, keyed with the decoded secret, over
// "{webhookID}.{unix seconds of ts}.{body}".
func Sign(secret, webhookID string, ts time.Time, body []byte) (string, error) {
	enc, ok := strings.CutPrefix(secret, hook.SecretPrefix)
	if !ok {
		return "", ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) == 0 {
		return "", ErrSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(webhookID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
