package vendors

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Result codes: the "error" field of a command result. Adapters may also use a
// cloud's own upper-case error string (e.g. Shelly's DEVICE_INVALID_MODE).
const (
	CodeInvalidJSON   = "INVALID_JSON"
	CodeTooLarge      = "PAYLOAD_TOO_LARGE"
	CodeUnknownDevice = "UNKNOWN_DEVICE"
	CodeUnknownKey    = "UNKNOWN_KEY"
	CodeReadOnly      = "READ_ONLY"
	CodeInvalidValue  = "INVALID_VALUE"
	CodeOutOfRange    = "OUT_OF_RANGE"
	CodeNotSupported  = "NOT_SUPPORTED"
	CodeOffline       = "DEVICE_OFFLINE"
	CodeNoResponse    = "DEVICE_NO_RESPONSE"
	CodeForbidden     = "FORBIDDEN"
	CodeRateLimited   = "RATE_LIMITED"
	CodeQueueFull     = "QUEUE_FULL"
	CodeTimeout       = "TIMEOUT"
	CodeAuth          = "AUTH_REQUIRED"
	CodeCloud         = "CLOUD_ERROR"
	CodeUnavailable   = "CLOUD_UNAVAILABLE"
	CodeInternal      = "INTERNAL_ERROR"
)

// Error is an error with a result code.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match two *Error values by code, so the sentinels below
// match any error carrying the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Errorf makes a coded error.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; they carry only a code.
var (
	ErrUnknownDevice = &Error{Code: CodeUnknownDevice}
	ErrUnknownKey    = &Error{Code: CodeUnknownKey}
	ErrReadOnly      = &Error{Code: CodeReadOnly}
	ErrInvalidValue  = &Error{Code: CodeInvalidValue}
	ErrOffline       = &Error{Code: CodeOffline}
	ErrNoResponse    = &Error{Code: CodeNoResponse}
	ErrNotSupported  = &Error{Code: CodeNotSupported}
	ErrForbidden     = &Error{Code: CodeForbidden}
	ErrAuth          = &Error{Code: CodeAuth}
)

// RateLimitError says the cloud refused for rate reasons; RetryAfter is zero
// when the cloud did not say how long to wait.
type RateLimitError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	msg := "rate limited"
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *RateLimitError) Unwrap() error { return e.Err }

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that retrying cannot fix (bad credentials, revoked
// app key): Run returns it and the bridge stops the account.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Code returns the result code for err.
func Code(err error) string {
	var ce *Error
	var rl *RateLimitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ce):
		return ce.Code
	case errors.As(err, &rl):
		return CodeRateLimited
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case IsPermanent(err):
		return CodeAuth
	}
	return CodeCloud
}
