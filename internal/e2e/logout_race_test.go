package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
	"github.com/dbtdbx/dbtdbx/token"
)

// A logout does not race a refresh of the same login: it takes the refresh
// lock, so a refresh in flight finishes and saves first, and what it saved
// is removed, with the kernel keyring's copy of the access token; a refresh
// that starts after the logout finds no login. The test holds the refresh
// lock itself and stands in for the refresh in flight: it saves the rotated
// login while it holds the lock, as a refresh does.
func TestLogoutWaitsForARefreshInFlight(t *testing.T) {
	t.Parallel()
	for _, storage := range []string{"keyring", "file"} {
		t.Run(storage, func(t *testing.T) {
			t.Parallel()
			realpart.RequireKeyring(t)
			// No request may reach the workspace: nothing here needs one.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("unexpected request %s %s", r.Method, r.URL)
				http.Error(w, "no", http.StatusInternalServerError)
			}))
			t.Cleanup(srv.Close)

			d := newDirectStore(t, storage, srv.URL, "logout-race")
			env, key, store := d.env, d.key, d.store
			entry := func(n int) *token.Entry {
				now := time.Now()
				return &token.Entry{Host: key.Host, ClientID: key.ClientID, Scopes: []string{"all-apis", "offline_access"},
					AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: fmt.Sprintf("rt-%d", n), Obtained: now, Expiry: now.Add(time.Hour),
					TokenURL: srv.URL + "/oidc/v1/token"}
			}
			if err := store.Save(entry(0)); err != nil {
				t.Fatal(err)
			}
			command := func(args ...string) *exec.Cmd {
				c := exec.Command(binary, append(args, "--host", key.Host, "--client-id", key.ClientID)...)
				c.Env = env
				return c
			}
			run := func(args ...string) (int, string) {
				t.Helper()
				c := command(args...)
				var errb bytes.Buffer
				c.Stderr = &errb
				err := c.Run()
				var ee *exec.ExitError
				if err != nil && !errors.As(err, &ee) {
					t.Fatalf("running dbtdbx %v: %v", args, err)
				}
				return c.ProcessState.ExitCode(), errb.String()
			}

			// The refresh lock, taken as the dbtdbx binary takes it: the
			// lock directory is the user's, whatever the environment says.
			dir, err := token.DefaultLockDir(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			const holder = "e2e refresh in flight"
			lock, err := token.Acquire(context.Background(), token.LockPath(dir, "refresh", key), 10*time.Second, holder)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(lock.Release)

			// While the refresh holds the lock, a logout that cannot wait
			// long enough fails, says who holds the lock, and removes nothing.
			code, stderr := run("logout", "--lock-timeout", "200ms")
			if code != 1 || !strings.Contains(stderr, fmt.Sprintf("%s (pid %d", holder, os.Getpid())) || !strings.Contains(stderr, "nothing was removed") {
				t.Errorf("logout while a refresh holds the lock: exit %d, want 1 naming the holder\n%s", code, stderr)
			}
			if e, err := store.Load(key); err != nil || e.AccessToken != "at-0" {
				t.Fatalf("logout removed the login while a refresh held the lock: %v", err)
			}

			// A logout that can wait says so and waits; the refresh then
			// saves the rotated login and ends.
			logout := command("logout")
			pipe, err := logout.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := logout.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = logout.Process.Kill() })
			var out syncBuffer
			waiting, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				sc := bufio.NewScanner(pipe)
				said := false
				for sc.Scan() {
					_, _ = out.Write([]byte(sc.Text() + "\n"))
					if !said && strings.Contains(sc.Text(), "waiting up to") {
						said = true
						close(waiting)
					}
				}
			}()
			select {
			case <-waiting:
			case <-done:
				_ = logout.Wait()
				t.Fatalf("logout did not wait for the refresh holding the lock: exit %d\n%s", logout.ProcessState.ExitCode(), out.String())
			}
			if err := store.Save(entry(1)); err != nil {
				t.Fatal(err)
			}
			lock.Release()
			<-done
			if err := logout.Wait(); err != nil || !strings.Contains(out.String(), "Logged out of") {
				t.Errorf("logout after the refresh: %v\n%s", err, out.String())
			}

			// What the refresh saved is gone, with the kernel keyring's copy.
			if _, err := store.Load(key); !errors.Is(err, token.ErrNotFound) {
				t.Errorf("after the logout the store still reads: %v", err)
			}
			if p, ok := store.(token.Peeker); ok {
				if e, found := p.Peek(key); found {
					t.Errorf("after the logout the kernel keyring still has the access token %q", e.AccessToken)
				}
			}
			// A refresh that starts after the logout finds no login.
			if code, stderr := run("token", "--refresh"); code != 4 {
				t.Errorf("token --refresh after logout: exit %d, want 4\n%s", code, stderr)
			}
			if code, stderr := run("status"); code != 4 {
				t.Errorf("status after logout: exit %d, want 4\n%s", code, stderr)
			}
		})
	}
}
