package hook

import (
	"errors"
	"fmt"
)

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
	// ErrNoAPIAccess: the account's members may not use the hooks API with
	// tokens (Account.APIAccess is false).
	ErrNoAPIAccess = errors.New("account has no api access")
	// ErrLimit: the account already has MaxHooks hooks.
	ErrLimit = errors.New("hook limit reached")
	// ErrDuplicateURL: the URL is already in the account's list.
	ErrDuplicateURL = errors.New("duplicate hook url")
	// ErrInvalidURL: the URL is not an acceptable hook target.
	ErrInvalidURL = errors.New("invalid hook url")
	// ErrConflict: the account already exists (admin create).
	ErrConflict = errors.New("already exists")
	// ErrNoDestination: the account has no destination, so no hook can be
	// created or re-enabled.
	ErrNoDestination = errors.New("account has no destination")
	// ErrInvalidDestination: the destination named is not one of the
	// account's.
	ErrInvalidDestination = errors.New("not a destination of the account")
	// ErrDisabled: the hook is disabled, so nothing may be sent to it on
	// request (a test notification).
	ErrDisabled = errors.New("hook is disabled")
	// ErrInvalidCursor: a delivery listing's cursor does not decode, or
	// belongs to another client, hook or status filter.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrDeliveryInProgress: a resend was asked for a delivery that is still
	// attempting or waiting for a retry.
	ErrDeliveryInProgress = errors.New("delivery in progress")
	// ErrTestDelivery: a resend was asked for a test notification's
	// delivery, which is never retried (send another test instead).
	ErrTestDelivery = errors.New("test delivery cannot be resent")
)

// DestinationInUseError refuses the removal of a destination that still has
// hooks. Its message is safe to show to an operator.
type DestinationInUseError struct {
	DestinationID int64
	Hooks         int
}

func (e *DestinationInUseError) Error() string {
	return fmt.Sprintf("Destination %d still has %d hook(s); delete them before removing it.", e.DestinationID, e.Hooks)
}

// ValidationError says which input was invalid and why. Its Message is safe
// to show to a client.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }
