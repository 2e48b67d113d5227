// Package vendorkit is the plumbing vendor adapters share: backoff with jitter,
// a priority rate limiter, an instrumented HTTP client that never leaks secrets
// in errors, a reconnecting session loop for streams, an atomic file store, a
// log redactor, a one-pass JSON decoder for the per-event paths, and a bounded
// table of shared strings (Interner).
package vendorkit
