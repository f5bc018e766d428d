package e2e

import (
	"io"
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
