package main

import (
	"encoding/json"
	"errors"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/notify"
)

// errMalformed marks an alert message the alerter can never handle. Its
// text is safe to log: it names fields, never their values.
var errMalformed = errors.New("malformed alert message")

// malformed is a reason for errMalformed.
type malformed string

func (m malformed) Error() string { return string(m) }
func (m malformed) Unwrap() error { return errMalformed }

// parseAlert reads and checks one alert message. Unknown fields are
// ignored, so a newer dispatcher can add some.
func parseAlert(body string) (delivery.AlertMessage, error) {
	var m delivery.AlertMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return m, malformed("field " + typeErr.Field + ": wrong type")
		}
		return m, malformed("not a JSON object")
	}
	switch {
	case m.Kind != delivery.KindExhausted:
		return m, malformed("kind is not " + delivery.KindExhausted)
	case m.ClientID <= 0:
		return m, malformed("client_id missing or not positive")
	case notify.CheckLoadID(m.LoadID) != nil: // the loader's rule (SPEC section 5)
		return m, malformed("load_id missing, too long or not UTF-8")
	case m.HookID <= 0:
		return m, malformed("hook_id missing or not positive")
	case m.HookURL == "":
		return m, malformed("hook_url missing")
	case len(m.Attempts) == 0:
		return m, malformed("attempts missing")
	}
	return m, nil
}
