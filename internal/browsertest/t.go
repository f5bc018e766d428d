package browsertest

// T is the part of testing.TB that the helpers need; *testing.T satisfies it.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}
