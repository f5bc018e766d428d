package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/browsertest"
	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

// Fifty processes ask for a token that is due, under hydra's strict
// refresh-token rotation (reusing a refresh token revokes the whole chain):
// one refresh reaches the server, every process prints an accepted token,
// and the stored login still works.
func TestParallelTokensRefreshOnce(t *testing.T) {
	t.Parallel()
	for _, storage := range []string{"keyring", "file"} {
		t.Run(storage, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, oauthtest.Options{})
			if storage == "file" {
				w.env["DBTDBX_STORAGE"], w.fileStore = "file", true
			}
			w.login()
			w.makeDue()
			due := w.stored().AccessToken

			results := w.parallel(50, "token")
			tokens := map[string]int{}
			for _, r := range results {
				if r.code != 0 {
					t.Errorf("a parallel token exited %d: %s", r.code, r.stderr)
					continue
				}
				tokens[strings.TrimSpace(r.stdout)]++
			}
			if n := w.srv.TokenRequests()["refresh_token"]; n != 1 {
				t.Errorf("%d refreshes reached the server, want 1", n)
			}
			for tok, n := range tokens {
				if tok == due || !w.srv.TokenAccepted(t, tok) {
					t.Errorf("%d processes printed a token that is not a fresh, accepted one", n)
				}
			}
			if tok := w.token("--refresh"); !w.srv.TokenAccepted(t, tok) {
				t.Error("the stored login does not work after the parallel refresh")
			}

			// Forced refreshes take turns: each uses the refresh token the previous one stored.
			for _, r := range w.parallel(20, "token", "--refresh") {
				if r.code != 0 {
					t.Errorf("a parallel token --refresh exited %d: %s", r.code, r.stderr)
				}
			}
			if n := w.srv.TokenRequests()["refresh_token"]; n != 22 {
				t.Errorf("%d refreshes reached the server, want 22", n)
			}
			if tok := w.token(); tok != w.stored().AccessToken || !w.srv.TokenAccepted(t, tok) {
				t.Error("the stored login does not work after 20 forced refreshes")
			}
		})
	}
}

// A second login for the same workspace and client waits for the first
// instead of failing on the listener's port, and then has nothing to do.
func TestSecondLoginWaitsForTheFirst(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	first := w.startLogin()
	second := w.startLoginWaiting("in progress")
	if _, err := browsertest.Open(t, first.authURL); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if code, stderr := first.wait(); code != 0 {
		t.Fatalf("first login exited %d\n%s", code, stderr)
	}
	code, stderr := second.wait()
	if code != 0 || !strings.Contains(stderr, "The other login finished") || strings.Contains(stderr, "in use") {
		t.Errorf("second login: exit %d\n%s", code, stderr)
	}
	if n := w.srv.TokenRequests()["authorization_code"]; n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
}

// The keyring is one per user, so processes whose environments differ (a
// Flatpak IDE's XDG_CACHE_HOME beside a terminal's) still take turns.
func TestRefreshLockIgnoresTheEnvironment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	codes := make(chan result, 20)
	var wg sync.WaitGroup
	for i := range 20 {
		cache := fmt.Sprintf("XDG_CACHE_HOME=%s/cache-%d", w.home, i%2)
		wg.Go(func() {
			r, err := w.tryRun([]string{cache}, "token", "--refresh")
			if err != nil {
				t.Errorf("running dbtdbx: %v", err)
			}
			codes <- r
		})
	}
	wg.Wait()
	close(codes)
	for r := range codes {
		if r.code != 0 {
			t.Errorf("a token --refresh exited %d: %s", r.code, r.stderr)
		}
	}
	if tok := w.token(); !w.srv.TokenAccepted(t, tok) || w.srv.TokenRequests()["refresh_token"] != 20 {
		t.Errorf("after 20 refreshes from two environments: accepted %v, refreshes %v", w.srv.TokenAccepted(t, tok), w.srv.TokenRequests())
	}
}
