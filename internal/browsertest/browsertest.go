// Package browsertest lets tests use headless Chromium as the user's
// browser.
//
// The product opens the authorization URL with github.com/pkg/browser,
// which on Linux runs xdg-open (or x-www-browser, or www-browser) and waits
// for it to exit. [ShimDir] writes scripts of those names that load the URL
// in headless Chromium instead; put the directory first on the PATH of the
// product's process. Chromium follows every redirect (to the OAuth server,
// its login and consent pages, and back to the product's loopback
// listener), records the page it ends on, and exits.
//
// Tests that open a URL themselves use [Open].
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

// timeoutSeconds bounds one Chromium run; a run that takes longer is
// killed (SIGTERM, then SIGKILL 5 seconds later).
const timeoutSeconds = "60"

// flags are the Chromium flags of every run, before --user-data-dir and
// --dump-dom. Running as root needs --no-sandbox; --password-store=basic
// keeps Chromium out of any Secret Service a test runs on its session bus.
var flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-dev-shm-usage",
	"--password-store=basic",
}

// Chromium returns the path of Chromium: /usr/bin/chromium, or else
// chromium on PATH. When there is none it skips the test, or fails it when
// the environment variable CI is "true".
func Chromium(t T) string {
	t.Helper()
	const debian = "/usr/bin/chromium"
	if fi, err := os.Stat(debian); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return debian
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		realpart.Missing(t, "chromium is not available: %v", err)
	}
	return path
}

// shim is the script written by ShimDir. Its arguments, in order: the
// directory, mkdir, flock, timeout, and the Chromium command line without
// the URL, all quoted for the shell.
const shim = `#!/bin/sh
# Written by browsertest.ShimDir: loads "$1" in headless Chromium and writes
# the page it ends on to dom-<n>.html, Chromium's messages to
# chromium-<n>.log. It prints nothing itself. While Chromium runs, it holds
# a shared lock on .running, so the test can wait for every run to end.
exec </dev/null >/dev/null 2>&1
dir=%s
n=1
while ! %s "$dir/run-$n"; do
	[ -d "$dir" ] && [ "$n" -lt 100000 ] || exit 1
	n=$((n + 1))
done
run=$dir/run-$n
# Keep Chromium off the session bus, which may be a test's.
unset DBUS_SESSION_BUS_ADDRESS
XDG_CONFIG_HOME=$run/config XDG_CACHE_HOME=$run/cache \
	exec %s -s "$dir/.running" %s -k 5 %s %s --user-data-dir="$run/profile" --dump-dom "$1" \
	>"$dir/dom-$n.html" 2>"$dir/chromium-$n.log"
`

// ShimDir writes executable scripts named xdg-open, x-www-browser and
// www-browser into a new temporary directory and returns the directory, to
// be put first on the PATH of a process that opens a browser.
//
// Each run of a script loads its first argument in headless Chromium, with
// a fresh profile and off the session bus, and waits until Chromium exits.
// The n-th run (counting from 1 across the three names) writes the DOM of
// the page Chromium ends on to dom-<n>.html in the directory and
// Chromium's messages to chromium-<n>.log. The scripts print nothing, so nothing Chromium says
// reaches the output of the process that ran them. A script exits with
// Chromium's status.
func ShimDir(t T) string {
	t.Helper()
	chromium := Chromium(t)
	mkdir := lookPath(t, "mkdir")
	flockCmd := lookPath(t, "flock")
	timeout := lookPath(t, "timeout")
	dir := shortTempDir(t)
	// Cleanups run last-in first-out: this one, before the directory is
	// removed, waits for the Chromium runs still writing into it.
	t.Cleanup(func() { waitForRuns(t, filepath.Join(dir, ".running")) })

	quoted := make([]string, len(flags))
	for i, f := range flags {
		quoted[i] = shellQuote(f)
	}
	script := fmt.Sprintf(shim, shellQuote(dir), shellQuote(mkdir), shellQuote(flockCmd), shellQuote(timeout),
		timeoutSeconds, shellQuote(chromium)+" "+strings.Join(quoted, " "))
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatalf("browsertest: %v", err)
		}
	}
	return dir
}

// shortTempDir is a new directory, removed when the test ends, with a short
// path: Chromium puts a Unix socket in its profile directory, and a socket
// path may not be longer than about 100 bytes, which t.TempDir's paths (they
// hold the test's name) can exceed.
func shortTempDir(t T) string {
	dir, err := os.MkdirTemp("", "bt")
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// waitForRuns takes the exclusive lock on running, which every shim run
// holds shared while Chromium runs, so it returns once all runs have ended
// (or after a minute and a half, past every run's own time limit).
func waitForRuns(t T, running string) {
	l := flock.New(running)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if ok, err := l.TryLockContext(ctx, 10*time.Millisecond); !ok {
		t.Logf("browsertest: Chromium runs still going at cleanup: %v", err)
		return
	}
	_ = l.Unlock()
}

// Open loads url in headless Chromium, as a ShimDir script does, and
// returns the DOM of the page Chromium ends on after following redirects.
// It is an error when Chromium fails or loads no page (it then prints
// nothing and exits 0, as it does for a refused connection); the error
// includes the end of Chromium's messages.
func Open(t T, url string) (string, error) {
	t.Helper()
	chromium := Chromium(t)
	timeout := lookPath(t, "timeout")
	dir := shortTempDir(t)

	args := append([]string{"-k", "5", timeoutSeconds, chromium}, flags...)
	args = append(args, "--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", url)
	cmd := exec.Command(timeout, args...)
	cmd.Env = append(environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil && stdout.Len() == 0 {
		// What Chromium does when it cannot load the page at all.
		err = errors.New("no page loaded")
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("chromium --dump-dom %s: %v: %s", url, err, tail(stderr.Bytes(), 2000))
	}
	return stdout.String(), nil
}

// environ returns the environment for Chromium: this process's, but off
// the session bus, which may be a test's.
func environ() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=")
	})
}

// lookPath returns the path of a program the scripts need.
func lookPath(t T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return path
}

// shellQuote quotes s as one word for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tail returns the last n bytes of b, trimmed.
func tail(b []byte, n int) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}
