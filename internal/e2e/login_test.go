package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/browsertest"
	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

func TestLoginTokenStatusLogout(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})

	if r := w.run(nil, "token"); r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "dbtdbx login --host "+w.host) {
		t.Fatalf("token before login: exit %d, stdout %q, stderr %q; want exit 4 naming the login command", r.code, r.stdout, r.stderr)
	}
	r := w.login()
	if !strings.Contains(r.stderr, "Logged in to "+w.host) {
		t.Errorf("login stderr lacks the success line:\n%s", r.stderr)
	}
	e := w.stored()
	if e.RefreshToken == "" || !strings.Contains(strings.Join(e.Scopes, " "), "offline_access") || e.TokenURL != w.host+"/oidc/v1/token" {
		t.Errorf("stored entry: scopes %v, token URL %q, refresh token stored %v", e.Scopes, e.TokenURL, e.RefreshToken != "")
	}

	before := w.srv.TokenRequests()
	tok := w.token()
	if tok != e.AccessToken || !w.srv.TokenAccepted(t, tok) {
		t.Fatalf("token is not the stored access token, or the server refuses it")
	}
	if again := w.token(); again != tok {
		t.Errorf("a valid cached token was replaced")
	}
	if after := w.srv.TokenRequests(); after["refresh_token"] != before["refresh_token"] {
		t.Errorf("token on a valid cached token called the token endpoint: %v -> %v", before, after)
	}

	var j map[string]any
	r = w.run(nil, "token", "-o", "json")
	decodeJSON(t, r.stdout, &j)
	if j["access_token"] != tok || j["token_type"] != "bearer" && j["token_type"] != "Bearer" || len(j) != 3 {
		t.Errorf("token -o json = %v", j)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(j["expiry"])); err != nil {
		t.Errorf("expiry is not RFC 3339: %v", j["expiry"])
	}

	r = w.run(nil, "status")
	if r.code != 0 || !strings.Contains(r.stdout, w.host) || !strings.Contains(r.stdout, "Secret Service") || strings.Contains(r.stdout, tok) {
		t.Errorf("status: exit %d\n%s", r.code, r.stdout)
	}
	var st struct {
		LoggedIn bool       `json:"logged_in"`
		Expiry   *time.Time `json:"expiry"`
		Store    string     `json:"store"`
	}
	r = w.run(nil, "status", "-o", "json")
	decodeJSON(t, r.stdout, &st)
	if r.code != 0 || !st.LoggedIn || st.Expiry == nil || time.Until(*st.Expiry) < 50*time.Minute {
		t.Errorf("status -o json: exit %d %+v", r.code, st)
	}

	if r = w.run(nil, "logout"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
	if r = w.run(nil, "status"); r.code != 4 {
		t.Errorf("status after logout exited %d, want 4", r.code)
	}
	if r = w.run(nil, "token"); r.code != 4 || r.stdout != "" {
		t.Errorf("token after logout exited %d with stdout %q", r.code, r.stdout)
	}
}

func TestForcedRefreshUnderStrictRotation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	first := w.stored()

	tok := w.token("--refresh")
	second := w.stored()
	if tok == first.AccessToken || tok != second.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Fatalf("--refresh did not store a new access and refresh token")
	}
	if w.srv.RefreshTokenActive(t, first.RefreshToken) {
		t.Errorf("the old refresh token is still active after rotation")
	}
	if !w.srv.RefreshTokenActive(t, second.RefreshToken) || !w.srv.TokenAccepted(t, tok) {
		t.Fatalf("the stored refresh token or the new access token is not accepted")
	}
	// The stored, rotated refresh token works.
	if third := w.token("--refresh"); third == tok || !w.srv.TokenAccepted(t, third) {
		t.Errorf("a second forced refresh did not produce a new accepted token")
	}
	if n := w.srv.TokenRequests()["refresh_token"]; n != 2 {
		t.Errorf("%d refreshes reached the server, want 2", n)
	}
}

func TestRefreshWhenDue(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{AccessTokenTTL: 90 * time.Second})
	w.login()
	e := w.stored()
	if l := e.Lifetime(); l < 80*time.Second || l > 95*time.Second {
		t.Fatalf("stored lifetime %s, want the server's 90s", l)
	}
	if tok := w.token(); tok != e.AccessToken {
		t.Fatalf("a fresh 90 s token was refreshed at once")
	}
	// A 90 s token is due when less than half its lifetime (45 s) is left.
	due := e.Expiry.Add(-e.Lifetime() / 2)
	time.Sleep(time.Until(due) + time.Second) // waiting for the clock, not for another process
	tok := w.token()
	if tok == e.AccessToken {
		t.Fatalf("a due token was handed out without a refresh")
	}
	if !w.srv.TokenAccepted(t, tok) || w.srv.TokenRequests()["refresh_token"] != 1 {
		t.Errorf("after the due refresh: accepted %v, refreshes %v", w.srv.TokenAccepted(t, tok), w.srv.TokenRequests())
	}
	if w.stored().AccessToken != tok {
		t.Errorf("the refreshed token was not stored")
	}
}

func TestLoginIgnoresWrongStateThenCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	l := w.startLogin()
	bad := []struct {
		url  string
		want int
	}{
		{w.redirect() + "/?code=forged&state=forged", http.StatusBadRequest},
		{w.redirect() + "/?code=forged", http.StatusBadRequest},
		{w.redirect() + "/favicon.ico", http.StatusNotFound},
		{w.redirect() + "/other?code=forged&state=" + stateOf(t, l.authURL), http.StatusNotFound},
	}
	for _, b := range bad {
		resp, err := http.Get(b.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != b.want {
			t.Errorf("GET %s answered %d, want %d", b.url, resp.StatusCode, b.want)
		}
	}
	dom, err := browsertest.Open(t, l.authURL)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(dom, "Signed in") {
		t.Errorf("the browser's final page does not say it worked:\n%s", dom)
	}
	if code, stderr := l.wait(); code != 0 {
		t.Fatalf("login exited %d after a wrong-state request and a good callback:\n%s", code, stderr)
	}
	if w.token() == "" {
		t.Error("no token after login")
	}
}

func stateOf(t *testing.T, authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return url.QueryEscape(u.Query().Get("state"))
}

func TestLoginAccessDenied(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.srv.SetConsent(false)
	r := w.run(nil, "login")
	if r.code != 1 || !strings.Contains(r.stderr, "access_denied") {
		t.Fatalf("denied login: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r = w.run(nil, "status"); r.code != 4 {
		t.Errorf("status after a denied login exited %d, want 4", r.code)
	}
	w.srv.SetConsent(true)
	w.login()
}

func TestLoginMissingCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	l := w.startLogin()
	resp, err := http.Get(w.redirect() + "/?state=" + stateOf(t, l.authURL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, stderr := l.wait(); code != 1 || !strings.Contains(stderr, "without an authorization code") {
		t.Fatalf("login with a code-less callback: exit %d\n%s", code, stderr)
	}
	w.login() // leaves the server with secrets to search for
}

func TestLoginPortTaken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", w.port))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := w.run(nil, "login")
	busy.Close()
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("port %d", w.port)) || !strings.Contains(r.stderr, "--redirect-url") {
		t.Fatalf("login on a taken port: exit %d\n%s", r.code, r.stderr)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("a taken port took %s to report: it must fail at once", time.Since(start))
	}
	w.login()
}

func TestLoginTimeoutAndInterrupt(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	r := w.run([]string{"BROWSER=none"}, "login", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "timed out") {
		t.Fatalf("login timeout: exit %d\n%s", r.code, r.stderr)
	}
	assertPortFree(t, w.port)

	l := w.startLogin()
	if err := l.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code, stderr := l.wait(); code != 130 || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("login after Ctrl-C: exit %d\n%s", code, stderr)
	}
	assertPortFree(t, w.port)
	w.login()
}

func assertPortFree(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Errorf("the listener's port %d is still held after login ended: %v", port, err)
		return
	}
	l.Close()
}
