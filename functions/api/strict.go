package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Request bodies are read with readBody and parsed with
// strictjson.ParseBody, the service's one strict JSON reader (the same that
// reads the queue messages): one object of valid UTF-8, nothing after it,
// no key repeated at any depth, keys exact. Each route then asks for its
// exact keys and maps any failure to its own error body.

// maxBodyBytes is the largest request body accepted (64 KiB).
const maxBodyBytes = 64 << 10

// readBody reads the whole request body, refusing more than maxBodyBytes
// (by Content-Length up front, and by counting what is actually read).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// readNoBody is nil when the request has no body (or an empty one), as the
// body-less POST routes require; errInvalidPostBody when it has one
// (errBodyTooLarge for an oversized one).
func readNoBody(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(b) != 0 {
		return errInvalidPostBody
	}
	return nil
}
