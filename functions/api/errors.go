package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Errors of the HTTP layer itself. Domain errors come from package hook.
var (
	errInvalidPostBody  = errors.New("invalid POST body")
	errInvalidPutBody   = errors.New("invalid PUT body")
	errBodyTooLarge     = errors.New("request body too large")
	errMethodNotAllowed = errors.New("method not allowed")
)

// Exact response bodies of the hooks and admin APIs.
const (
	bodyNull               = `null`
	bodyInvalidPostBody    = `{"data":{"message":"Invalid POST body"},"error":"InvalidBody"}`
	bodyNoDestination      = `{"error":{"message":"Client does not have a destination."}}`
	bodyInvalidDestination = `{"data":{"message":"Invalid destination_id"},"error":"InvalidBody"}`
	bodyInvalidURI         = `{"data":{"message":"Invalid URI"},"error":"InvalidBody"}`
	bodyDuplicateURI       = `{"data":{"message":"Duplicate URI"},"error":"InvalidBody"}`
	bodyNoAccess           = `{"error":{"message":"Client does not have access to hooks."}}`
	bodyNoAPIAccess        = `{"error":{"message":"Client does not have API access."}}`
	bodyLimit              = `{"error":{"message":"You have exceeded the limit of 10 hooks."}}`
	bodyInvalidPutBody     = `{"data":{"message":"PUT body must only contain boolean 'enable' key"},"error":"InvalidBody"}`
	bodyNotFound           = `{"error":"NotFound"}`
	bodyUnauthorized       = `{"error":{"message":"Unauthorized"}}`
	bodyTooLarge           = `{"error":{"message":"Request body too large"}}`
	bodyConflict           = `{"error":{"message":"Account already exists"}}`
	bodyMethodNotAllowed   = `{"error":"MethodNotAllowed"}`
	bodyInternal           = `{"error":{"message":"Internal server error"}}`
	bodyHookDisabled       = `{"error":{"message":"Hook is disabled."}}`
	bodyInvalidCursor      = `{"data":{"message":"Invalid cursor"},"error":"InvalidBody"}`
	bodyInvalidLimit       = `{"data":{"message":"Invalid limit"},"error":"InvalidBody"}`
	bodyInvalidStatus      = `{"data":{"message":"Invalid status"},"error":"InvalidBody"}`
	bodyTestDelivery       = `{"error":{"message":"A test delivery cannot be resent."}}`
)

// errorResponse is the one place that maps an error to what the client
// sees. known is false for errors it does not recognise: they get a generic
// 500 and their text never reaches the client.
func errorResponse(err error) (status int, body []byte, known bool) {
	var invalid *hook.ValidationError
	var inUse *hook.DestinationInUseError
	switch {
	case errors.Is(err, errInvalidPostBody):
		return http.StatusBadRequest, []byte(bodyInvalidPostBody), true
	case errors.Is(err, hook.ErrNoDestination):
		return http.StatusBadRequest, []byte(bodyNoDestination), true
	case errors.Is(err, hook.ErrInvalidDestination):
		return http.StatusBadRequest, []byte(bodyInvalidDestination), true
	case errors.Is(err, hook.ErrInvalidURL):
		return http.StatusBadRequest, []byte(bodyInvalidURI), true
	case errors.Is(err, hook.ErrDuplicateURL):
		return http.StatusBadRequest, []byte(bodyDuplicateURI), true
	case errors.Is(err, hook.ErrNoAccess):
		return http.StatusBadRequest, []byte(bodyNoAccess), true
	case errors.Is(err, hook.ErrNoAPIAccess):
		return http.StatusForbidden, []byte(bodyNoAPIAccess), true
	case errors.Is(err, hook.ErrDisabled):
		return http.StatusBadRequest, []byte(bodyHookDisabled), true
	case errors.Is(err, hook.ErrTestDelivery):
		return http.StatusBadRequest, []byte(bodyTestDelivery), true
	case errors.Is(err, hook.ErrInvalidCursor):
		return http.StatusBadRequest, []byte(bodyInvalidCursor), true
	case errors.Is(err, errInvalidLimit):
		return http.StatusBadRequest, []byte(bodyInvalidLimit), true
	case errors.Is(err, errInvalidStatus):
		return http.StatusBadRequest, []byte(bodyInvalidStatus), true
	case errors.Is(err, hook.ErrLimit):
		return http.StatusBadRequest, []byte(bodyLimit), true
	case errors.Is(err, errInvalidPatchBody):
		return http.StatusBadRequest, []byte(bodyInvalidPatchBody), true
	case errors.Is(err, errInvalidPutBody):
		return http.StatusBadRequest, []byte(bodyInvalidPutBody), true
	case errors.As(err, &invalid):
		return encodedBody(http.StatusBadRequest, invalidBodyJSON{Data: messageJSON{invalid.Message}, Error: "InvalidBody"})
	case errors.Is(err, hook.ErrNotFound):
		return http.StatusNotFound, []byte(bodyNotFound), true
	case errors.Is(err, hook.ErrUnauthorized):
		return http.StatusUnauthorized, []byte(bodyUnauthorized), true
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, []byte(bodyTooLarge), true
	case errors.Is(err, hook.ErrConflict):
		return http.StatusConflict, []byte(bodyConflict), true
	case errors.As(err, &inUse):
		return messageBody(http.StatusConflict, inUse.Error())
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, []byte(bodyMethodNotAllowed), true
	default:
		return http.StatusInternalServerError, []byte(bodyInternal), false
	}
}

// apiMessage is the message the JSON API's body for err carries ("Invalid
// URI", "Client does not have access to hooks.", ...), for the web app to
// show in the API's own words. known is false for an error the API does not
// recognise (a 500), whose text must not be shown.
func apiMessage(err error) (msg string, known bool) {
	_, body, known := errorResponse(err)
	if !known {
		return "", false
	}
	var b struct {
		Data  *messageJSON    `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return "", false
	}
	if b.Data != nil {
		return b.Data.Message, true
	}
	var m messageJSON
	if json.Unmarshal(b.Error, &m) == nil && m.Message != "" {
		return m.Message, true
	}
	var code string
	_ = json.Unmarshal(b.Error, &code)
	return code, true
}

// messageJSON, invalidBodyJSON and errorMessageJSON are the two shapes of
// the contract's error bodies that carry a message.
type (
	messageJSON struct {
		Message string `json:"message"`
	}
	invalidBodyJSON struct {
		Data  messageJSON `json:"data"`
		Error string      `json:"error"`
	}
	errorMessageJSON struct {
		Error messageJSON `json:"error"`
	}
)

// messageBody is {"error":{"message":msg}} with status.
func messageBody(status int, msg string) (int, []byte, bool) {
	return encodedBody(status, errorMessageJSON{Error: messageJSON{msg}})
}

// encodedBody is v encoded, with status; encoding a struct of strings
// cannot fail, so a failure is answered as an unknown error.
func encodedBody(status int, v any) (int, []byte, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return http.StatusInternalServerError, []byte(bodyInternal), false
	}
	return status, b, true
}

// writeError sends err's response and logs it when it is not a known
// client error (the one place such errors are logged).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, body, known := errorResponse(err)
	if !known {
		log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("route", r.Pattern), slog.Any("error", err))
	}
	writeBody(w, status, body)
}

// handle adapts a handler that returns its error instead of answering it:
// writeError turns the error into the response.
func handle(log *slog.Logger, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	})
}
