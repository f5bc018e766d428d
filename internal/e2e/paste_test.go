package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

// The browser runs on another machine (dbtdbx over SSH): it cannot reach the
// listener, so the user pastes the address it ends on.
func TestLoginTakesThePastedRedirect(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	l := w.startLogin("--no-browser")
	final := oauthtest.Authorize(t, l.authURL, w.redirect())

	other := *final
	q := other.Query()
	q.Set("state", "from-another-login")
	other.RawQuery = q.Encode()
	for _, line := range []string{"", "ssh: what?", other.String(), "  " + final.String() + "  "} {
		if _, err := io.WriteString(l.stdin, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	code, stderr := l.wait()
	if code != 0 || !strings.Contains(stderr, "paste the whole URL") || !strings.Contains(stderr, "state does not match") ||
		!strings.Contains(stderr, "Logged in to "+w.host) {
		t.Fatalf("login with pasted addresses: exit %d\n%s", code, stderr)
	}
	if tok := w.token(); !w.srv.TokenAccepted(t, tok) || w.srv.TokenRequests()["authorization_code"] != 1 {
		t.Errorf("after the pasted login: token accepted %v, requests %v", w.srv.TokenAccepted(t, tok), w.srv.TokenRequests())
	}
}

// When no browser can be opened (an SSH session, a container), login says
// so and takes the pasted address, without --no-browser.
func TestLoginWithoutABrowserTakesThePastedRedirect(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	broken := t.TempDir()
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		writeFile(t, filepath.Join(broken, name), "#!/bin/sh\necho 'no display' >&2\nexit 3\n")
		if err := os.Chmod(filepath.Join(broken, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.env["PATH"] = broken + string(os.PathListSeparator) + os.Getenv("PATH")
	l := w.spawnLogin(nil, func(line string) bool { return strings.Contains(line, "paste here") }, "--timeout", "1m")
	authURL := ""
	for _, line := range strings.Split(l.stderr.String(), "\n") {
		if strings.HasPrefix(line, "Opening ") {
			authURL = strings.TrimSuffix(strings.TrimPrefix(line, "Opening "), " in your browser.")
		}
	}
	if !strings.Contains(l.stderr.String(), "Could not open a browser") || authURL == "" {
		t.Fatalf("login without a browser did not say so:\n%s", l.stderr)
	}
	final := oauthtest.Authorize(t, authURL, w.redirect())
	if _, err := io.WriteString(l.stdin, final.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	if code, stderr := l.wait(); code != 0 || !strings.Contains(stderr, "Logged in to "+w.host) {
		t.Fatalf("login after pasting: exit %d\n%s", code, stderr)
	}
}

func TestLoginSkipsAnOverlongPastedLine(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	l := w.startLogin("--no-browser")
	final := oauthtest.Authorize(t, l.authURL, w.redirect())
	if _, err := io.WriteString(l.stdin, strings.Repeat("x", 70000)+"\n"+final.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	if code, stderr := l.wait(); code != 0 || !strings.Contains(stderr, "too long") || !strings.Contains(stderr, "Logged in") {
		t.Fatalf("login after an overlong line: exit %d\n%s", code, stderr)
	}
}
