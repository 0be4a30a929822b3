package hook

import "errors"

// Sentinel errors of the domain. Adapters translate their own errors into
// these at their edge; the HTTP layer maps them to statuses in one place.
var (
	// ErrNotFound: the account, hook or member does not exist (or belongs
	// to another account, which callers must not be able to tell apart).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: no token, or an unknown or revoked one.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNoAccess: the account's plan lacks the feature.
	ErrNoAccess = errors.New("plan lacks post-load hooks")
	// ErrLimit: the account already has MaxHooks hooks.
	ErrLimit = errors.New("hook limit reached")
	// ErrDuplicateURL: the URL is already in the account's list.
	ErrDuplicateURL = errors.New("duplicate hook url")
	// ErrInvalidURL: the URL is not an acceptable hook target.
	ErrInvalidURL = errors.New("invalid hook url")
	// ErrConflict: the account already exists (admin create).
	ErrConflict = errors.New("already exists")
)

// ValidationError says which input was invalid and why. Its Message is safe
// to show to a client.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }
