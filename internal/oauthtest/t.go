package oauthtest

import "context"

// T is the part of testing.TB that the server needs. *testing.T and
// *testing.B satisfy it; so can a program that runs the server outside a
// test (internal/devworkspace).
type T interface {
	Helper()
	Cleanup(func())
	Context() context.Context
	Failed() bool
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}
