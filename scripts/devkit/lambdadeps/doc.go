// Package lambdadeps holds the check that shared/ is exactly what runs in
// Lambda: its test lists, with `go list -deps`, every package each
// functions/<name> binary is built from (for the deployment's platform and
// build tags, as scripts/build builds it) and fails when one of them is
// development code (anything under scripts/) or the testing package, or
// HTTP/2 (which no function speaks; scripts/build leaves it out).
//
// There is nothing to import here; the package exists for its test, which
// scripts/test runs with the others.
package lambdadeps
