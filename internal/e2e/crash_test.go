package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
	"github.com/dbtdbx/dbtdbx/internal/realpart"
	"github.com/dbtdbx/dbtdbx/token"
)

// Killing dbtdbx at any moment of a refresh leaves a store that reads back
// a complete login, the old one or a newer one, never a broken one. The
// token endpoint here is a stand-in that accepts every refresh token: the
// test is about what a killed process leaves in the store, and the real
// server cannot be told to answer at the instant a kill lands.
func TestKilledRefreshLeavesACompleteLogin(t *testing.T) {
	t.Parallel()
	for _, storage := range []string{"keyring", "file"} {
		t.Run(storage, func(t *testing.T) {
			t.Parallel()
			realpart.RequireKeyring(t)
			var issued atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "refresh_token" || !strings.HasPrefix(r.PostForm.Get("refresh_token"), "rt-") {
					http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
					return
				}
				n := issued.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":"rt-%d","token_type":"Bearer","expires_in":3600,"scope":"all-apis offline_access"}`, n, n)
			}))
			t.Cleanup(srv.Close)

			d := newDirectStore(t, storage, srv.URL, "crash")
			home, env, key, store := d.home, d.env, d.key, d.store
			now := time.Now()
			if err := store.Save(&token.Entry{Host: key.Host, ClientID: key.ClientID, Scopes: []string{"all-apis", "offline_access"},
				AccessToken: "at-0", RefreshToken: "rt-0", Obtained: now, Expiry: now.Add(time.Hour), TokenURL: srv.URL + "/oidc/v1/token"}); err != nil {
				t.Fatal(err)
			}

			// Kill points spread over the whole run, from start-up to the
			// write; the keyring makes a run slower.
			step := time.Millisecond
			if storage == "keyring" {
				step = 3 * time.Millisecond
			}
			killed := 0
			for i := range 40 {
				c := exec.Command(binary, "token", "--refresh", "--host", key.Host, "--client-id", key.ClientID)
				c.Env = env
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				kill := time.AfterFunc(time.Duration(i)*step, func() { _ = c.Process.Kill() })
				err := c.Wait()
				kill.Stop()
				if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == -1 {
					killed++
				}
				e, err := store.Load(key)
				if err != nil {
					t.Fatalf("after a kill at %s: the store does not read back: %v", time.Duration(i)*step, err)
				}
				if !strings.HasPrefix(e.AccessToken, "at-") || !strings.HasPrefix(e.RefreshToken, "rt-") || e.TokenURL == "" {
					t.Fatalf("after a kill at %s: an incomplete login is stored", time.Duration(i)*step)
				}
			}
			t.Logf("%d of 40 runs killed; %d refreshes reached the server", killed, issued.Load())
			if killed == 0 {
				t.Error("no run was killed before it ended: the kill points missed the refresh")
			}
			r := exec.Command(binary, "token", "--refresh", "--host", key.Host, "--client-id", key.ClientID)
			r.Env = env
			out, err := r.Output()
			if err != nil || !strings.HasPrefix(string(out), "at-") {
				t.Fatalf("token --refresh after the kills: %q, %v", out, err)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(home, ".config", "dbtdbx", "*.tmp-*")); len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
		})
	}
}

// Killing a login at any moment after the browser came back (during the
// code exchange or the write) leaves the previous login or the new one,
// complete, in the store.
func TestKilledLoginLeavesACompleteLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	killed, replaced := 0, 0
	for i := range 15 {
		before := w.stored().AccessToken
		l := w.startLogin("--no-browser")
		final := oauthtest.Authorize(t, l.authURL, w.redirect())
		if _, err := io.WriteString(l.stdin, final.String()+"\n"); err != nil {
			t.Fatal(err)
		}
		kill := time.AfterFunc(time.Duration(i)*3*time.Millisecond, func() { _ = l.cmd.Process.Kill() })
		code, _ := l.wait()
		kill.Stop()
		if code != 0 {
			killed++
		}
		e, err := w.store().Load(w.key())
		if err != nil || e.AccessToken == "" || e.RefreshToken == "" || e.TokenURL == "" {
			t.Fatalf("after a login killed at %dms: the store holds no complete login (%v)", i*3, err)
		}
		if e.AccessToken != before {
			replaced++
		}
	}
	t.Logf("%d of 15 logins killed; %d stored a new login", killed, replaced)
	if tok := w.token("--refresh"); !w.srv.TokenAccepted(t, tok) {
		t.Error("the stored login does not work after the killed logins")
	}
}
