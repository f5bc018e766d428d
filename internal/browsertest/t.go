package browsertest

// T is the part of testing.TB that the helpers need; *testing.T satisfies it.
type T interface {
	Helper()
	Cleanup(func())
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}
