package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/postloadhooks/hooks/shared/apigw"
	"github.com/postloadhooks/hooks/shared/hook"
)

// maxTokenBytes bounds what is looked up: real tokens are 47 bytes.
const maxTokenBytes = 256

// bearerToken returns the token of the request's single
// "Authorization: Bearer <token>" header (scheme case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenBytes || strings.ContainsAny(token, " \t,") {
		return "", false
	}
	return token, true
}

// authenticator is the part of the store that checks member tokens.
type authenticator interface {
	Authenticate(ctx context.Context, token string) (hook.Principal, error)
}

// memberAuth is the part of the store that checks a member's token and
// whether the member's account allows the API.
type memberAuth interface {
	authenticator
	accountGetter
}

// authenticate returns the member and account of the request's token. The
// account comes from the token only. It fails with hook.ErrUnauthorized,
// then with hook.ErrNoAPIAccess when the account's API access is off.
func authenticate(r *http.Request, auth memberAuth) (hook.Principal, error) {
	token, ok := bearerToken(r)
	if !ok {
		return hook.Principal{}, hook.ErrUnauthorized
	}
	p, err := auth.Authenticate(r.Context(), token)
	if err != nil {
		return hook.Principal{}, err
	}
	a, err := auth.Account(r.Context(), p.ClientID)
	switch {
	case errors.Is(err, hook.ErrNotFound):
		// The account is gone: the hooks call itself answers for it.
	case err != nil:
		return hook.Principal{}, err
	case a.NoAPIAccess:
		return hook.Principal{}, hook.ErrNoAPIAccess
	}
	return p, nil
}

// asMember serves h for the member holding the request's token; any other
// request gets the error of authenticate (401) before h reads anything.
func asMember(log *slog.Logger, auth memberAuth, h func(w http.ResponseWriter, r *http.Request, p hook.Principal) error) http.Handler {
	return handle(log, func(w http.ResponseWriter, r *http.Request) error {
		p, err := authenticate(r, auth)
		if err != nil {
			return err
		}
		return h(w, r, p)
	})
}

// asAdmin serves h for requests admin allows; any other request gets its
// error (401) before h reads anything.
func asAdmin(log *slog.Logger, admin adminCheck, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if err := admin(r); err != nil {
			return err
		}
		return h(w, r)
	})
}

// adminCheck decides whether a request may use the admin API. It returns
// hook.ErrUnauthorized when it may not.
type adminCheck func(r *http.Request) error

// iamAdmin is the Lambda-mode check: API Gateway authorized the request with
// AWS_IAM (SigV4), which shows as requestContext.authorizer.iam. The bearer
// token is not read.
func iamAdmin(r *http.Request) error {
	rc, ok := apigw.RequestContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN == "" {
		return hook.ErrUnauthorized
	}
	return nil
}

// tokenAdmin is the local-mode check: "Authorization: Bearer <want>",
// compared in constant time. An empty want refuses every request.
func tokenAdmin(want string) adminCheck {
	wantSum := sha256.Sum256([]byte(want))
	return func(r *http.Request) error {
		if want == "" {
			return hook.ErrUnauthorized
		}
		got, ok := bearerToken(r)
		if !ok {
			return hook.ErrUnauthorized
		}
		// Comparing fixed-size digests keeps the token's length secret too.
		gotSum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(gotSum[:], wantSum[:]) != 1 {
			return hook.ErrUnauthorized
		}
		return nil
	}
}
