package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
	"github.com/dbtdbx/dbtdbx/token"
)

// envServeChild makes this test binary, started by dbtdbx exec, ask the
// token service it was given for a token and report what it saw.
const envServeChild = "E2E_SERVE_CHILD"

func init() {
	// init runs before TestMain, so this child needs no case in child().
	if os.Getenv(envServeChild) == "fetch" {
		os.Exit(fetchChild())
	}
}

// fetched is what a fetch child reports on stdout.
type fetched struct {
	Env    map[string]string `json:"env"`
	Status int               `json:"status"`
	Body   metadataAnswer    `json:"body"`
	Error  string            `json:"error"`
}

// metadataAnswer is a token service's answer, success or error.
type metadataAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresOn   int64  `json:"expires_on"`
	ErrorCode   string `json:"error_code"`
	Message     string `json:"message"`
}

func fetchChild() int {
	f := fetched{Env: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "DATABRICKS_") {
			f.Env[k] = v
		}
	}
	var err error
	f.Status, f.Body, err = askService(http.MethodGet, os.Getenv("DATABRICKS_METADATA_SERVICE_URL"), map[string]string{
		token.MetadataVersionHeader: token.MetadataVersion,
		token.MetadataHostHeader:    os.Getenv("DATABRICKS_HOST"),
	})
	if err != nil {
		f.Error = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(f)
	return 0
}

// askService sends one request to a token service.
func askService(method, u string, header map[string]string) (int, metadataAnswer, error) {
	var a metadataAnswer
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return 0, a, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, a, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, a, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return resp.StatusCode, a, fmt.Errorf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, a, nil
}

// sdkHeaders are the headers the Databricks SDKs send to a token service.
func sdkHeaders(host string) map[string]string {
	return map[string]string{token.MetadataVersionHeader: token.MetadataVersion, token.MetadataHostHeader: host}
}

// serving is a running `dbtdbx serve`.
type serving struct {
	w      *world
	cmd    *exec.Cmd
	vars   map[string]string // what it printed, by variable
	stdout string
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// startServe starts `dbtdbx serve -o json` and returns once it has printed
// its variables and closed its stdout, which it does once it is listening.
func (w *world) startServe(args ...string) *serving {
	w.t.Helper()
	c := exec.Command(binary, w.args(append([]string{"serve", "-o", "json"}, args...))...)
	c.Env = w.environ()
	c.Dir = w.dir
	stdout, err := c.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	s := &serving{w: w, cmd: c, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.Stderr = s.stderr
	if err := c.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = c.Process.Kill(); <-s.done })
	// Reading to the end returns only when serve has closed its stdout.
	out, err := io.ReadAll(stdout)
	go func() { s.err = c.Wait(); close(s.done) }()
	if err != nil {
		w.t.Fatal(err)
	}
	s.stdout = string(out)
	if err := json.Unmarshal(out, &s.vars); err != nil {
		<-s.done
		w.t.Fatalf("serve printed %q (%v)\nstderr:\n%s", out, s.err, s.stderr)
	}
	return s
}

// stop sends sig to serve and returns its exit code once it has ended.
func (s *serving) stop(sig syscall.Signal) int {
	s.w.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.w.t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.w.t.Fatalf("serve did not end within 30s of %v", sig)
	}
	s.w.record(s.stderr.String())
	var ee *exec.ExitError
	switch {
	case s.err == nil:
		return 0
	case errors.As(s.err, &ee):
		return ee.ExitCode()
	}
	s.w.t.Fatal(s.err)
	return -1
}

// secretOf is the secret part of a token service URL: its path.
func secretOf(t *testing.T, serviceURL string) string {
	t.Helper()
	u, err := url.Parse(serviceURL)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || len(u.Path) != 44 {
		t.Fatalf("token service URL %q is not http://127.0.0.1:PORT/<43-character secret>", serviceURL)
	}
	return u.Path[1:]
}

// assertRefused checks that nothing answers at serviceURL any more.
func assertRefused(t *testing.T, serviceURL, host string) {
	t.Helper()
	if status, _, err := askService(http.MethodGet, serviceURL, sdkHeaders(host)); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("the token service still answers after it should have stopped (status %d, %v)", status, err)
	}
}

func TestServeSpeaksTheMetadataProtocol(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	s := w.startServe()
	svcURL := s.vars["DATABRICKS_METADATA_SERVICE_URL"]
	secret := secretOf(t, svcURL)
	if len(s.vars) != 3 || s.vars["DATABRICKS_HOST"] != w.host || s.vars["DATABRICKS_AUTH_TYPE"] != "metadata-service" {
		t.Errorf("serve -o json printed %v", s.vars)
	}

	status, a, err := askService(http.MethodGet, svcURL, sdkHeaders(w.host))
	e := w.stored()
	if err != nil || status != 200 || a.AccessToken != e.AccessToken || a.TokenType != "Bearer" {
		t.Fatalf("the service answered %d %+v (%v), want the stored token", status, a.ErrorCode, err)
	}
	// A client asks again when the token is due, as `token` has it.
	if ahead := token.Threshold(e, token.DefaultMinTTL, token.MetadataMargin); a.ExpiresOn != e.Expiry.Add(-ahead).Unix() {
		t.Errorf("expires_on %v, want the expiry less %v: %v", time.Unix(a.ExpiresOn, 0), ahead, e.Expiry.Add(-ahead))
	}
	if !w.srv.TokenAccepted(t, a.AccessToken) {
		t.Error("the workspace does not accept the service's token")
	}
	// The host as people spell it names the same workspace.
	if status, _, _ := askService(http.MethodGet, svcURL, sdkHeaders(w.host+"/")); status != 200 {
		t.Errorf("host with a trailing slash: %d", status)
	}

	other, _ := token.NewMetadataPath()
	base := strings.TrimSuffix(svcURL, "/"+secret)
	refusals := []struct {
		name, method, url string
		header            map[string]string
		code              int
	}{
		{"no version header", "GET", svcURL, map[string]string{token.MetadataHostHeader: w.host}, 400},
		{"version 2", "GET", svcURL, map[string]string{token.MetadataVersionHeader: "2", token.MetadataHostHeader: w.host}, 400},
		{"no host header", "GET", svcURL, map[string]string{token.MetadataVersionHeader: "1"}, 400},
		{"another workspace", "GET", svcURL, sdkHeaders("https://adb-9.9.azuredatabricks.net"), 403},
		{"root path", "GET", base + "/", sdkHeaders(w.host), 404},
		{"another secret", "GET", base + other, sdkHeaders(w.host), 404},
		{"longer path", "GET", svcURL + "/token", sdkHeaders(w.host), 404},
		{"POST", "POST", svcURL, sdkHeaders(w.host), 405},
	}
	for _, r := range refusals {
		status, a, err := askService(r.method, r.url, r.header)
		if err != nil || status != r.code || a.AccessToken != "" || a.Message == "" {
			t.Errorf("%s: %d %+v (%v), want %d with a message and no token", r.name, status, a, err, r.code)
		}
	}

	// Its stdin is /dev/null, as a shell gives its background jobs: Ctrl-C
	// at the prompt must not stop it, SIGTERM does.
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0\n%s", code, s.stderr)
	}
	assertRefused(t, svcURL, w.host)
	errOut := s.stderr.String()
	if !strings.Contains(errOut, "token service stopping") || strings.Contains(errOut, "interrupt") {
		t.Errorf("serve in the background did not ignore SIGINT:\n%s", errOut)
	}
	if strings.Contains(errOut, secret) || !strings.Contains(errOut, "token service request") {
		t.Errorf("serve's --debug log holds the URL's secret, or logs no requests:\n%s", errOut)
	}
}

func TestServeShellOutputAndFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	if r := w.run(nil, "serve"); r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "dbtdbx login") {
		t.Errorf("serve without a login: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::1]:0", "127.0.0.1"} {
		if r := w.run(nil, "serve", "--listen", listen); r.code != 2 || r.stdout != "" {
			t.Errorf("serve --listen %s: exit %d, stdout %q", listen, r.code, r.stdout)
		}
	}
	w.login()

	c := exec.Command(binary, w.args([]string{"serve"})...)
	c.Env = w.environ()
	c.Dir = w.dir
	c.Stdin = strings.NewReader("") // a pipe: Ctrl-C stops it
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb syncBuffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill() })
	out, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("sh", "-c", string(out)+`printf '%s %s %s' "$DATABRICKS_HOST" "$DATABRICKS_AUTH_TYPE" "$DATABRICKS_METADATA_SERVICE_URL"`)
	got, err := sh.Output()
	fields := strings.Fields(string(got))
	if err != nil || len(fields) != 3 || fields[0] != w.host || fields[1] != "metadata-service" || !strings.HasPrefix(string(out), "export DATABRICKS_HOST=") {
		t.Fatalf("eval of serve's output %q gave %q (%v)", out, got, err)
	}
	secret := secretOf(t, fields[2])
	if status, a, err := askService("GET", fields[2], sdkHeaders(w.host)); status != 200 || a.AccessToken != w.stored().AccessToken {
		t.Errorf("the printed URL answered %d (%v)", status, err)
	}
	if err := c.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Errorf("serve ended with %v after Ctrl-C, want exit 0\n%s", err, errb.String())
	}
	w.record(errb.String())
	assertRefused(t, fields[2], w.host)
	if strings.Contains(errb.String(), secret) {
		t.Error("serve's stderr holds the URL's secret")
	}
	for shell, prefix := range map[string]string{"fish": "set -gx DATABRICKS_HOST '", "powershell": "$env:DATABRICKS_HOST = '"} {
		s := w.startServeText("--shell", shell)
		if !strings.HasPrefix(s, prefix) || !strings.Contains(s, "DATABRICKS_METADATA_SERVICE_URL") {
			t.Errorf("serve --shell %s printed %q", shell, s)
		}
	}
}

// startServeText starts `dbtdbx serve` with args, returns what it printed,
// and stops it.
func (w *world) startServeText(args ...string) string {
	w.t.Helper()
	c := exec.Command(binary, w.args(append([]string{"serve"}, args...))...)
	c.Env = w.environ()
	c.Dir = w.dir
	stdout, err := c.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	var errb syncBuffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		w.t.Fatal(err)
	}
	out, _ := io.ReadAll(stdout)
	_ = c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		w.t.Errorf("serve %v ended with %v\n%s", args, err, errb.String())
	}
	w.record(errb.String())
	return string(out)
}

func TestExecStartsATokenServiceForTheChild(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	self, _ := os.Executable()
	ambient := []string{envServeChild + "=fetch", "DATABRICKS_AUTH_TYPE=pat", "DATABRICKS_METADATA_SERVICE_URL=http://127.0.0.1:1/stale"}

	r := w.run(ambient, "exec", "--", self)
	var f fetched
	decodeJSON(t, r.stdout, &f)
	if r.code != 0 || f.Error != "" {
		t.Fatalf("exec: exit %d, child error %q\n%s", r.code, f.Error, r.stderr)
	}
	svcURL := f.Env["DATABRICKS_METADATA_SERVICE_URL"]
	secret := secretOf(t, svcURL)
	if f.Env["DATABRICKS_AUTH_TYPE"] != "metadata-service" || f.Env["DATABRICKS_HOST"] != w.host {
		t.Errorf("child env %v", f.Env)
	}
	tok := f.Env["DATABRICKS_TOKEN"]
	if f.Status != 200 || f.Body.AccessToken == "" || f.Body.AccessToken != tok || f.Body.TokenType != "Bearer" {
		t.Errorf("the child's token service answered %d %q, want DATABRICKS_TOKEN", f.Status, f.Body.ErrorCode+f.Body.Message)
	}
	if !w.srv.TokenAccepted(t, f.Body.AccessToken) {
		t.Error("the workspace does not accept the token service's token")
	}
	// The service lived as long as the child, no longer.
	assertRefused(t, svcURL, w.host)
	if strings.Contains(r.stderr, secret) || !strings.Contains(r.stderr, "token service request") {
		t.Errorf("exec's --debug log holds the service's secret, or logs no requests:\n%s", r.stderr)
	}

	r = w.run([]string{envServeChild + "=fetch"}, "exec", "--no-token-service", "--", self)
	f = fetched{}
	decodeJSON(t, r.stdout, &f)
	if _, ok := f.Env["DATABRICKS_METADATA_SERVICE_URL"]; ok || f.Env["DATABRICKS_AUTH_TYPE"] != "" || f.Env["DATABRICKS_TOKEN"] == "" {
		t.Errorf("exec --no-token-service gave the child %v", f.Env)
	}
}

// TestTokenJSONMatchesDatabricksAuthToken: scripts written for the JSON of
// `databricks auth token` (an oauth2.Token) read `dbtdbx token -o json`.
func TestTokenJSONMatchesDatabricksAuthToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	r := w.run(nil, "token", "-o", "json")
	var fields map[string]any
	decodeJSON(t, r.stdout, &fields)
	var tok oauth2.Token
	decodeJSON(t, r.stdout, &tok)
	e := w.stored()
	if len(fields) != 3 || tok.AccessToken != e.AccessToken || tok.TokenType != "Bearer" || !tok.Expiry.Equal(e.Expiry) || tok.RefreshToken != "" {
		t.Errorf("token -o json = %v fields; as an oauth2.Token: type %q, expiry %v (want %v)", len(fields), tok.TokenType, tok.Expiry, e.Expiry)
	}
}

// sdkClient is the Databricks SDK client of ./sdkclient, built once.
var sdkClient struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildSDKClient builds ./sdkclient (a module of its own, with the
// Databricks SDK for Go from the module proxy) and returns its path.
func buildSDKClient(t *testing.T) string {
	t.Helper()
	sdkClient.once.Do(func() {
		sdkClient.path = filepath.Join(filepath.Dir(binary), "sdkclient")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", sdkClient.path, ".")
		c.Dir = "sdkclient"
		c.Env = append(os.Environ(), "GOWORK=off")
		sdkClient.out, sdkClient.err = c.CombinedOutput()
	})
	if sdkClient.err != nil {
		msg := fmt.Sprintf("building the Databricks SDK client: %v\n%s", sdkClient.err, sdkClient.out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return sdkClient.path
}

// sdkCall is one line of the SDK client's output.
type sdkCall struct {
	N        int    `json:"n"`
	Time     int64  `json:"time_ms"`
	AuthType string `json:"auth_type"`
	User     string `json:"user"`
	Token    string `json:"token_sha256"`
	Error    string `json:"error"`
}

// readCalls parses the SDK client's output.
func readCalls(t *testing.T, who, out string) []sdkCall {
	t.Helper()
	var calls []sdkCall
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c sdkCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s printed a line that is not JSON: %q", who, sc.Text())
		}
		calls = append(calls, c)
	}
	return calls
}

// checkCalls checks that every call of an SDK client run for span
// succeeded with the metadata service, adds the digests of the tokens it
// used to seen, and returns how many it used.
func checkCalls(t *testing.T, who string, calls []sdkCall, span time.Duration, seen map[string]bool) int {
	t.Helper()
	if len(calls) < 2 {
		t.Errorf("%s made %d calls", who, len(calls))
		return 0
	}
	tokens := map[string]bool{}
	for _, c := range calls {
		seen[c.Token] = true
		if c.Error != "" || c.User != "user@example.com" || c.AuthType != "metadata-service" {
			t.Errorf("%s: call %d at %s: auth %q, user %q, error %q", who, c.N, time.UnixMilli(c.Time).Format(time.TimeOnly), c.AuthType, c.User, c.Error)
		}
		tokens[c.Token] = true
	}
	if got := time.Duration(calls[len(calls)-1].Time-calls[0].Time) * time.Millisecond; got < span-5*time.Second {
		t.Errorf("%s's calls span %v, want %v", who, got, span)
	}
	return len(tokens)
}

// digest is how sdkclient names a token: the first 12 hex digits of its
// SHA-256.
func digest(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])[:12]
}

// introspectExpiry asks hydra when an access token really expires.
func introspectExpiry(t *testing.T, srv *oauthtest.Server, accessToken string) time.Time {
	t.Helper()
	resp, err := http.PostForm(srv.AdminURL+"/admin/oauth2/introspect", url.Values{"token": {accessToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Active bool  `json:"active"`
		Exp    int64 `json:"exp"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || !info.Active {
		t.Errorf("hydra says the token is not active (%v)", err)
	}
	return time.Unix(info.Exp, 0)
}

// TestServiceOverThreeLifetimes runs for three lifetimes of a
// 90-second access token: the Databricks SDK for Go under `dbtdbx exec`,
// the same against `dbtdbx serve`, and a client polling serve's URL keep
// getting tokens the workspace accepts. Both dbtdbx processes share the
// stored login and the refresh lock, so tokens are refreshed once per
// token lifetime in all, not once per client, and hydra's strict rotation
// of refresh tokens never sees a refresh token used twice.
func TestServiceOverThreeLifetimes(t *testing.T) {
	t.Parallel()
	const ttl = 90 * time.Second
	const span = 3 * ttl
	sdk := buildSDKClient(t)
	w := newWorld(t, oauthtest.Options{AccessTokenTTL: ttl})
	w.login()
	s := w.startServe()
	svcURL := s.vars["DATABRICKS_METADATA_SERVICE_URL"]
	ctx, cancel := context.WithTimeout(context.Background(), span+3*time.Minute)
	defer cancel()
	sdkArgs := []string{"-duration", span.String(), "-interval", "1s"}

	type run struct {
		stdout, stderr string
		err            error
	}
	var wg sync.WaitGroup
	var underExec, againstServe run
	// The SDK under exec, configured only by what exec gives it on top of
	// an ordinary environment. It starts first: exec refreshes the token at
	// its start when it would not last (its DATABRICKS_TOKEN must), and a
	// server that revokes the old token on refresh, as hydra does, would
	// otherwise take it from under the other clients.
	c := exec.CommandContext(ctx, binary, w.args(append([]string{"exec", "--", sdk}, sdkArgs...))...)
	c.Env = w.environ()
	c.Dir = w.dir
	pipe, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var execErr bytes.Buffer
	c.Stderr = &execErr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(pipe)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("the SDK under exec printed nothing: %v\n%s", err, execErr.String())
	}
	wg.Go(func() {
		rest, _ := io.ReadAll(lines)
		underExec.err = c.Wait()
		underExec.stdout, underExec.stderr = first+string(rest), execErr.String()
	})
	wg.Go(func() {
		c := exec.CommandContext(ctx, sdk, sdkArgs...)
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.home, "TMPDIR=" + w.env["TMPDIR"]}
		for k, v := range s.vars {
			c.Env = append(c.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		againstServe.err = c.Run()
		againstServe.stdout, againstServe.stderr = out.String(), errb.String()
	})
	clientsDone := make(chan struct{})
	go func() { wg.Wait(); close(clientsDone) }()

	// The polling client, until both SDK clients are done.
	polled := map[string]bool{}
	polls := 0
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
poll:
	for {
		status, a, err := askService(http.MethodGet, svcURL, sdkHeaders(w.host))
		now := time.Now()
		polls++
		switch {
		case err != nil || status != 200:
			t.Errorf("poll %d: %d %s (%v)", polls, status, a.Message, err)
		case time.Unix(a.ExpiresOn+1, 0).Before(now): // expires_on is rounded down
			t.Errorf("poll %d: handed out a token that expires_on %v, in the past", polls, time.Unix(a.ExpiresOn, 0))
		default:
			if !polled[a.AccessToken] {
				polled[a.AccessToken] = true
				// The client stops using a token at expires_on: the
				// workspace must accept it for Floor more at least.
				if exp := introspectExpiry(t, w.srv, a.AccessToken); exp.Sub(time.Unix(a.ExpiresOn, 0)) < token.Floor {
					t.Errorf("poll %d: expires_on %v is less than %v before the real expiry %v", polls, time.Unix(a.ExpiresOn, 0), token.Floor, exp)
				}
			}
			// A token must be accepted until its expires_on; after, it may
			// have been refreshed, which hydra revokes it for.
			if !w.srv.TokenAccepted(t, a.AccessToken) && !time.Now().After(time.Unix(a.ExpiresOn, 0)) {
				t.Errorf("poll %d: the workspace rejects the service's token before its expires_on", polls)
			}
		}
		select {
		case <-clientsDone:
			break poll
		case <-ctx.Done():
			t.Fatal("the SDK clients did not finish in time")
		case <-tick.C:
		}
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	w.record(underExec.stderr)

	seen := map[string]bool{} // token digests, the login's included
	for _, c := range []struct {
		who string
		r   run
	}{{"the SDK under dbtdbx exec", underExec}, {"the SDK against dbtdbx serve", againstServe}} {
		if c.r.err != nil {
			t.Errorf("%s ended with %v\nstderr:\n%s", c.who, c.r.err, c.r.stderr)
		}
		// Each lifetime needs a new token: the client refreshed by itself.
		if n := checkCalls(t, c.who, readCalls(t, c.who, c.r.stdout), span, seen); n < 3 {
			t.Errorf("%s used %d tokens in %v, want one per %v lifetime at least", c.who, n, span, ttl)
		}
	}
	if len(polled) < 3 {
		t.Errorf("the polling client saw %d tokens in %v", len(polled), span)
	}
	// A token is refreshed when less than half its lifetime is left, so
	// each lives at least ttl/2 in use; exec may refresh once more at its
	// start for DATABRICKS_TOKEN, which must last.
	refreshes := w.srv.TokenRequests()["refresh_token"]
	if most := int(span/(ttl/2)) + 2; refreshes < 3 || refreshes > most {
		t.Errorf("%d refreshes in %v for three clients in two processes, want 3 to %d: one per token lifetime, shared", refreshes, span, most)
	}
	// Every refresh made a token some client used (but exec's own, for
	// DATABRICKS_TOKEN): no process refreshed what another just had.
	for tok := range polled {
		seen[digest(tok)] = true
	}
	if refreshes > len(seen) {
		t.Errorf("%d refreshes, but the clients used only %d tokens, the login's included", refreshes, len(seen))
	}
	t.Logf("%d refreshes; %d tokens used, %d of them seen by the poller", refreshes, len(seen), len(polled))
	for _, out := range []string{underExec.stderr, s.stderr.String()} {
		if strings.Contains(out, secretOf(t, svcURL)) {
			t.Error("dbtdbx's --debug output holds serve's URL secret")
		}
	}
}
