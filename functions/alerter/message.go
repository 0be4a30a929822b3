package main

import (
	"encoding/json"
	"errors"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/notify"
)

// parseAlert reads and checks one alert message. Unknown fields are
// ignored, so a newer dispatcher can add some. Its errors are safe to log:
// they name fields, never their values.
func parseAlert(body string) (delivery.AlertMessage, error) {
	var m delivery.AlertMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return m, errors.New("field " + typeErr.Field + ": wrong type")
		}
		return m, errors.New("not a JSON object")
	}
	switch {
	case m.Kind != delivery.KindExhausted:
		return m, errors.New("kind is not " + delivery.KindExhausted)
	case m.ClientID <= 0:
		return m, errors.New("client_id missing or not positive")
	case notify.CheckLoadID(m.LoadID) != nil: // the loader's rule (SPEC section 5)
		return m, errors.New("load_id missing, too long or not UTF-8")
	case m.HookID <= 0:
		return m, errors.New("hook_id missing or not positive")
	case m.HookURL == "":
		return m, errors.New("hook_url missing")
	case len(m.Attempts) == 0:
		return m, errors.New("attempts missing")
	}
	return m, nil
}
