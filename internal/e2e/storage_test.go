package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
	"github.com/dbtdbx/dbtdbx/token"
)

// A machine with no D-Bus at all (a container, CI): login falls back to the
// file, says so once, remembers it, and everything works end to end.
func TestNoKeyringFallsBackToAFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	delete(w.env, "DBUS_SESSION_BUS_ADDRESS")

	r := w.run(nil, "login", "--storage", "keyring")
	if r.code != 1 || !strings.Contains(r.stderr, "no keyring") || !strings.Contains(r.stderr, "--storage file") {
		t.Fatalf("login --storage keyring without a keyring: exit %d\n%s", r.code, r.stderr)
	}
	if len(w.srv.TokenRequests()) != 0 {
		t.Errorf("login went to the server although it had nowhere to keep tokens")
	}

	r = w.login()
	w.fileStore = true
	if !strings.Contains(r.stderr, "warning: no keyring") || !strings.Contains(r.stderr, w.tokenFile()) {
		t.Errorf("login did not say that it keeps tokens in %s:\n%s", w.tokenFile(), r.stderr)
	}
	for path, want := range map[string]os.FileMode{w.tokenFile(): 0o600, filepath.Dir(w.tokenFile()): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %o", path, err, want)
		}
	}
	tok := w.token()
	if tok != w.stored().AccessToken || !w.srv.TokenAccepted(t, tok) {
		t.Fatal("token from the file store is not the stored, accepted token")
	}
	r = w.run(nil, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "file "+w.tokenFile()) || !strings.Contains(r.stdout, "settings.json") || strings.Contains(r.stderr, "warning") {
		t.Errorf("status after the fall back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if fresh := w.token("--refresh"); fresh == tok || !w.srv.TokenAccepted(t, fresh) || w.stored().AccessToken != fresh {
		t.Error("a forced refresh with the file store did not store an accepted token")
	}
	if r := w.run(nil, "logout"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
	if r := w.run(nil, "token"); r.code != 4 {
		t.Errorf("token after logout exited %d, want 4", r.code)
	}
}

func TestStorageModes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	if r := w.run(nil, "login", "--storage", "none"); r.code != 2 || !strings.Contains(r.stderr, "--storage none") {
		t.Errorf("login --storage none: exit %d, %s", r.code, r.stderr)
	}
	// A bad value in the environment is configuration (1), not usage (2).
	if r := w.run([]string{"DBTDBX_STORAGE=vault"}, "token"); r.code != 1 || !strings.Contains(r.stderr, "DBTDBX_STORAGE") {
		t.Errorf("DBTDBX_STORAGE=vault: exit %d, %s", r.code, r.stderr)
	}

	w.env["DBTDBX_STORAGE"] = "file"
	w.fileStore = true
	w.login()
	if _, err := os.Stat(filepath.Join(filepath.Dir(w.tokenFile()), "settings.json")); !os.IsNotExist(err) {
		t.Errorf("an explicit file store was remembered as a fall back: %v", err)
	}
	if r := w.run(nil, "status", "--storage", "keyring"); r.code != 4 {
		t.Errorf("status in the keyring after a file login exited %d, want 4", r.code)
	}

	// A corrupt file is moved aside, reported, and means "not logged in".
	if err := os.WriteFile(w.tokenFile(), []byte("{\"version\": 1, \"entries\": {trunc"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.run(nil, "token")
	if r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "moved it to") || !strings.Contains(r.stderr, "dbtdbx login") {
		t.Errorf("token with a corrupt file: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	aside, _ := filepath.Glob(w.tokenFile() + ".corrupt-*")
	if len(aside) != 1 {
		t.Errorf("corrupt file moved aside to %v, want one file", aside)
	}
	if r := w.run(nil, "token"); r.code != 4 || strings.Contains(r.stderr, "moved") {
		t.Errorf("token after the corrupt file was moved: exit %d\n%s", r.code, r.stderr)
	}

	// A file others can read is refused, not used.
	w.login()
	if err := os.Chmod(w.tokenFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := w.run(nil, "token"); r.code != 1 || !strings.Contains(r.stderr, "chmod 600") || r.stdout != "" {
		t.Errorf("token with a world-readable file: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	if err := os.Chmod(w.tokenFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok := w.token(); !w.srv.TokenAccepted(t, tok) {
		t.Error("token after chmod 600 is not accepted")
	}
	if r := w.run(nil, "logout"); r.code != 0 || !strings.Contains(r.stderr, "moved aside") || !strings.Contains(r.stderr, aside[0]) {
		t.Errorf("logout does not point at the moved-aside file that may hold tokens: exit %d\n%s", r.code, r.stderr)
	}
}

// With the keyring, a valid access token comes from the kernel keyring
// cache: the Secret Service is not read. Writes go through to the cache,
// so a refresh or a logout in one process is what the next process sees.
func TestKeyringCacheInTheKernel(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	r := w.run(nil, "token")
	if r.code != 0 || strings.TrimSpace(r.stdout) != w.stored().AccessToken || !strings.Contains(r.stderr, "access token from the cache") {
		t.Fatalf("token after login: exit %d, not from the cache\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "status"); !strings.Contains(r.stdout, "kernel keyring") {
		t.Errorf("status does not say that access tokens are cached in the kernel keyring:\n%s", r.stdout)
	}

	refreshed := w.token("--refresh")
	if got := w.token(); got != refreshed || !w.srv.TokenAccepted(t, got) {
		t.Fatal("after a refresh in another process, token does not hand out the refreshed token")
	}
	// A process with the cache off still drops the copy when it writes.
	r = w.run([]string{"DBTDBX_KEYRING_CACHE=off"}, "token", "--refresh")
	if r.code != 0 || strings.TrimSpace(r.stdout) == refreshed {
		t.Fatalf("token --refresh with the cache off: exit %d\n%s", r.code, r.stderr)
	}
	refreshed = strings.TrimSpace(r.stdout)
	if got := w.token(); got != refreshed || !w.srv.TokenAccepted(t, got) {
		t.Fatal("after a refresh with the cache off, token hands out the old copy")
	}

	// That left the cache empty; the next write with it on fills it again.
	refreshed = w.token("--refresh")

	// Remove the login from the Secret Service behind dbtdbx's back: the
	// cache still answers, which shows the Secret Service is not read;
	// with the cache off, the Secret Service is the truth.
	if err := keyring.Delete(token.KeyringService, w.key().String()); err != nil {
		t.Fatal(err)
	}
	if got := w.token(); got != refreshed {
		t.Fatal("token with the cache on read the Secret Service")
	}
	if r := w.run([]string{"DBTDBX_KEYRING_CACHE=off"}, "token"); r.code != 4 || r.stdout != "" {
		t.Errorf("token with DBTDBX_KEYRING_CACHE=off and no login in the Secret Service: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := w.run([]string{"DBTDBX_KEYRING_CACHE=maybe"}, "token"); r.code != 1 || !strings.Contains(r.stderr, "DBTDBX_KEYRING_CACHE") {
		t.Errorf("DBTDBX_KEYRING_CACHE=maybe: exit %d\n%s", r.code, r.stderr)
	}

	// logout drops the cached copy, even of a login the Secret Service
	// no longer holds, and even with the cache off.
	if r := w.run([]string{"DBTDBX_KEYRING_CACHE=off"}, "logout"); r.code != 0 {
		t.Fatalf("logout: exit %d\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "token"); r.code != 4 || r.stdout != "" {
		t.Errorf("token after logout: exit %d, stdout %q", r.code, r.stdout)
	}
	w.login()
	if r := w.run(nil, "logout"); r.code != 0 {
		t.Fatalf("logout: exit %d\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "token"); r.code != 4 || r.stdout != "" {
		t.Errorf("token after logout: exit %d, stdout %q", r.code, r.stdout)
	}
}
