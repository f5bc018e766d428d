// Package realpart holds the one rule of tests that need a real part (the
// OAuth server, the Secret Service, Chromium, D-Bus tools): when the part is
// missing, the test fails in CI (CI=true), where every part must be present,
// and is skipped elsewhere. It also holds the environment such tests give
// the child processes they start.
package realpart

import (
	"os"
	"slices"
	"strings"

	"github.com/zalando/go-keyring"
)

// T is the part of testing.TB that Missing needs.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Missing reports a part the test needs and does not have: a failure when
// CI is "true", else a skip.
func Missing(t T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: a missing part is a failure)", args...)
	}
	t.Skipf(format, args...)
}

// RequireKeyring checks that a Secret Service answers on the session bus
// (scripts/with-keyring.sh provides one), by writing and removing an entry.
func RequireKeyring(t T) {
	t.Helper()
	if err := keyring.Set("dbtdbx-probe", "probe", "x"); err != nil {
		Missing(t, "no usable Secret Service (%v): run the tests through scripts/with-keyring.sh or scripts/test.sh", err)
		return
	}
	_ = keyring.Delete("dbtdbx-probe", "probe")
}

// ChildEnv is the environment of a test's child process: this one's,
// without the variables drop, plus extra. A child built with the race
// detector would wait a second on exit for late reports; it need not.
func ChildEnv(drop []string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(drop, k) && k != "GORACE" {
			env = append(env, kv)
		}
	}
	env = append(env, strings.TrimSpace("GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE")))
	return append(env, extra...)
}
