package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
	"github.com/dbtdbx/dbtdbx/token"
)

func TestConfidentialClient(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	const secret = "confidential-app-secret-0123456789"
	w.useClient(oauthtest.Client{Secret: secret, RedirectURIs: []string{w.redirect()}})

	r := w.run(nil, "login")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_client") || !strings.Contains(r.stderr, "DBTDBX_CLIENT_SECRET") {
		t.Fatalf("login of a confidential app without %s: exit %d\n%s", "DBTDBX_CLIENT_SECRET", r.code, r.stderr)
	}
	w.env["DBTDBX_CLIENT_SECRET"] = secret
	w.login()
	if tok := w.token("--refresh"); !w.srv.TokenAccepted(t, tok) {
		t.Error("refresh with the client secret gave a token the server refuses")
	}
	if r := w.run(nil, "status"); !strings.Contains(r.stdout, "Client secret: set") || strings.Contains(r.stdout, secret) {
		t.Errorf("status must say a secret is set without showing it:\n%s", r.stdout)
	}
}

func TestStoredLoginWithoutRequestedScopes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login("--scopes", "sql")
	r := w.run(nil, "token")
	if r.code != 4 || !strings.Contains(r.stderr, "not granted all-apis") || !strings.Contains(r.stderr, "dbtdbx login --host") {
		t.Errorf("token asking for all-apis after a sql login: exit %d\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "status"); r.code != 4 {
		t.Errorf("status asking for all-apis after a sql login exited %d, want 4", r.code)
	}
	if tok := w.token("--scopes", "sql"); !w.srv.TokenAccepted(t, tok) {
		t.Error("token --scopes sql refused")
	}
}

func TestRejectedRefreshTokenNeedsLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	stale, err := keyring.Get(token.KeyringService, w.key().String())
	if err != nil {
		t.Fatal(err)
	}
	w.token("--refresh")
	// Put back the login as it was before the rotation: its refresh token
	// is spent, and reusing it makes the server revoke the chain.
	if err := keyring.Set(token.KeyringService, w.key().String(), stale); err != nil {
		t.Fatal(err)
	}
	r := w.run(nil, "token", "--refresh")
	if r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "refresh token rejected") || !strings.Contains(r.stderr, "dbtdbx login --host "+w.host) {
		t.Fatalf("token with a spent refresh token: exit %d stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	w.login()
	if tok := w.token("--refresh"); !w.srv.TokenAccepted(t, tok) {
		t.Error("a new login does not work after a rejected refresh token")
	}
}

func TestCachedTokenMakesNoRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	before, _ := w.srv.Requests()
	w.token()
	w.token("-o", "json")
	w.run(nil, "status")
	if after, _ := w.srv.Requests(); after != before {
		t.Errorf("token and status on a valid cached login made %d requests", after-before)
	}
}

func TestDebugLogsExchangesRedacted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	r := w.login()
	for _, want := range []string{"http request", "/oidc/.well-known/oauth-authorization-server", "/oidc/v1/token", "[REDACTED]", "login stored"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--debug login output lacks %q:\n%s", want, r.stderr)
		}
	}
	// The leak check in newWorld's cleanup searches this output for every secret.
}

func TestDiscoveryNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	r := w.run(nil, "login", "--host", nf.URL)
	if r.code != 1 || !strings.Contains(r.stderr, "OAuth is not enabled") || !strings.Contains(r.stderr, nf.URL+"/oidc/.well-known/oauth-authorization-server") {
		t.Errorf("login against a host without OAuth: exit %d\n%s", r.code, r.stderr)
	}
	w.login()
}

func TestKeyringThatNeverAnswers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	// A bus that accepts connections and never speaks: what a hung keyring
	// daemon looks like to a client.
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	env := []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + sock, "DBTDBX_KEYRING_TIMEOUT=500ms"}
	for _, cmd := range []string{"token", "login", "status"} {
		start := time.Now()
		r := w.run(env, cmd)
		if r.code != 1 || !strings.Contains(r.stderr, "Secret Service keyring did not answer within 500ms") || !strings.Contains(r.stderr, "DBTDBX_KEYRING_TIMEOUT") {
			t.Errorf("%s with a silent keyring: exit %d\n%s", cmd, r.code, r.stderr)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s took %s with a 500ms keyring timeout", cmd, d)
		}
	}
	w.login()
}
