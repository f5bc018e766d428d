package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type loginRun struct {
	authURL chan string
	done    chan error
	codes   chan string
}

// startLogin runs a Login against a token endpoint that accepts any code
// with the verifier and reports each code it saw.
func startLogin(t *testing.T, ctx context.Context, redirect string, timeout time.Duration, opts ...func(*Login)) *loginRun {
	t.Helper()
	r := &loginRun{authURL: make(chan string, 1), done: make(chan error, 1), codes: make(chan string, 1)}
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		if req.PostForm.Get("code_verifier") == "" {
			t.Errorf("exchange without a verifier")
		}
		r.codes <- req.PostForm.Get("code")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}`)
	}))
	t.Cleanup(tokenSrv.Close)
	l := &Login{
		Client:      &Client{ClientID: "cid", Endpoints: Endpoints{AuthURL: "https://auth.example/authorize", TokenURL: tokenSrv.URL}},
		RedirectURL: redirect,
		Scopes:      []string{"all-apis", "offline_access"},
		Timeout:     timeout,
		Ready:       func(u string) { r.authURL <- u },
	}
	for _, o := range opts {
		o(l)
	}
	go func() { _, err := l.Run(ctx); r.done <- err }()
	return r
}

func (r *loginRun) state(t *testing.T) (state string, authURL *url.URL) {
	t.Helper()
	select {
	case s := <-r.authURL:
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("state"), u
	case err := <-r.done:
		t.Fatalf("login ended before it was ready: %v", err)
	}
	return "", nil
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoginIgnoresStrangersAndCompletes(t *testing.T) {
	port := freePort(t)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	r := startLogin(t, context.Background(), redirect, time.Minute)
	state, au := r.state(t)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(state) < 40 {
		t.Fatalf("authorization URL lacks PKCE S256 or a strong state: %s", au)
	}
	if q.Get("redirect_uri") != redirect || q.Get("client_id") != "cid" || q.Get("scope") != "all-apis offline_access" {
		t.Fatalf("authorization URL parameters: %v", q)
	}
	if code, _ := get(t, redirect+"?code=evil&state=wrong"); code != 400 {
		t.Errorf("wrong state answered %d, want 400", code)
	}
	if code, _ := get(t, redirect+"?code=evil"); code != 400 {
		t.Errorf("missing state answered %d, want 400", code)
	}
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/favicon.ico", port)); code != 404 {
		t.Errorf("other path answered %d, want 404", code)
	}
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/callback/x?code=c&state=%s", port, state)); code != 404 {
		t.Errorf("longer path answered %d, want 404", code)
	}
	status, body := get(t, redirect+"?code=good&state="+url.QueryEscape(state))
	if status != 200 || !strings.Contains(body, "Signed in") || strings.Contains(body, "good") {
		t.Errorf("callback page: %d %q", status, body)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("login: %v", err)
	}
	if c := <-r.codes; c != "good" {
		t.Errorf("exchanged code %q, want the one from the valid callback", c)
	}
	// The listener is closed once the login is over.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Errorf("port still held after login: %v", err)
	} else {
		l.Close()
	}
}

func TestLoginServerError(t *testing.T) {
	redirect := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	r := startLogin(t, context.Background(), redirect, time.Minute)
	state, _ := r.state(t)
	desc := `The user said no <script>alert("x")</script>`
	status, body := get(t, redirect+"/?error=access_denied&error_description="+url.QueryEscape(desc)+"&state="+url.QueryEscape(state))
	if status != 200 || !strings.Contains(body, "access_denied") {
		t.Errorf("page: %d %q", status, body)
	}
	// What the server sent is shown as text, never as markup.
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("the page does not escape the server's description: %q", body)
	}
	err := <-r.done
	var se *ServerError
	if !errors.As(err, &se) || se.Code != "access_denied" || !strings.Contains(err.Error(), "The user said no") {
		t.Fatalf("err = %v, want the server's error and description", err)
	}
}

func TestLoginMissingCode(t *testing.T) {
	redirect := fmt.Sprintf("http://127.0.0.1:%d/", freePort(t))
	r := startLogin(t, context.Background(), redirect, time.Minute)
	state, _ := r.state(t)
	get(t, redirect+"?state="+url.QueryEscape(state))
	if err := <-r.done; err == nil || !strings.Contains(err.Error(), "without an authorization code") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoginTimeoutAndCancel(t *testing.T) {
	r := startLogin(t, context.Background(), fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), 50*time.Millisecond)
	r.state(t)
	if err := <-r.done; !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r = startLogin(t, ctx, fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), time.Minute)
	r.state(t)
	cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestListenPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err = Listen(fmt.Sprintf("http://%s:%d", host, port))
		if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), fmt.Sprint(port)) || !strings.Contains(err.Error(), "--redirect-url") {
			t.Errorf("%s: err = %v, want ErrPortInUse naming the port and --redirect-url", host, err)
		}
	}
}

func TestListenLocalhostBindsBothFamilies(t *testing.T) {
	port := freePort(t)
	ls, err := Listen(fmt.Sprintf("http://localhost:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	for _, l := range ls {
		if ip := l.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("bound non-loopback %s", ip)
		}
	}
	if v6, err := net.Listen("tcp", "[::1]:0"); err == nil {
		v6.Close()
		if len(ls) != 2 {
			t.Errorf("IPv6 is available but only %d listener(s) bound", len(ls))
		}
	}
}

func TestParseDiscovery(t *testing.T) {
	ep, err := ParseDiscovery([]byte(`{"authorization_endpoint":"https://h/oidc/v1/authorize","token_endpoint":"https://h/oidc/v1/token"}`), "x")
	if err != nil || ep.TokenURL != "https://h/oidc/v1/token" {
		t.Fatalf("%+v %v", ep, err)
	}
	for _, bad := range []string{`<html>`, `{}`, `{"authorization_endpoint":"https://h/a","token_endpoint":"/relative"}`, `{"authorization_endpoint":"javascript:x","token_endpoint":"https://h/t"}`} {
		if _, err := ParseDiscovery([]byte(bad), "x"); err == nil {
			t.Errorf("ParseDiscovery(%q) accepted", bad)
		}
	}
}

func TestRedaction(t *testing.T) {
	u, _ := url.Parse("https://h/cb?code=SECRETCODE&state=SECRETSTATE&x=1")
	if s := RedactURL(u); strings.Contains(s, "SECRET") || !strings.Contains(s, "x=1") {
		t.Errorf("RedactURL = %s", s)
	}
	if s := redactJSON([]byte(`{"access_token":"SECRETA","refresh_token":"SECRETR","expires_in":3600}`)); strings.Contains(s, "SECRET") || !strings.Contains(s, "3600") {
		t.Errorf("redactJSON = %s", s)
	}
}
