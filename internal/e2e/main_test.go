// Package e2e runs the dbtdbx binary end to end against real parts: Ory
// Hydra behind a Databricks-shaped front, the Secret Service of the private
// D-Bus session (scripts/with-keyring.sh), and headless Chromium as the
// user's browser.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/browsertest"
	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
	"github.com/dbtdbx/dbtdbx/internal/realpart"
	"github.com/dbtdbx/dbtdbx/token"
)

// binary is the dbtdbx built for this run, with the race detector, and
// dbtdbx-core beside it, where dbtdbx finds it.
var binary string

func TestMain(m *testing.M) {
	if mode := os.Getenv("E2E_CHILD"); mode != "" {
		os.Exit(child(mode))
	}
	dir, err := os.MkdirTemp("", "dbtdbx-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dbtdbx")
	build := exec.Command("go", "build", "-race", "-o", dir+string(filepath.Separator), "github.com/dbtdbx/dbtdbx", "github.com/dbtdbx/dbtdbx/cmd/dbtdbx-core")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dbtdbx:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is one user's machine: a home directory, a browser and a workspace.
type world struct {
	t      *testing.T
	srv    *oauthtest.Server
	home   string
	shim   string
	host   string
	client string
	port   int
	env    map[string]string
	// dir is where dbtdbx runs (the home directory unless a test moves it
	// into a dbt project); flags come before every command's own arguments.
	dir   string
	flags []string
	// fileStore is set when dbtdbx keeps tokens in its file, not the keyring.
	fileStore bool
	mu        sync.Mutex
	outputs   []string // every byte dbtdbx printed, except token's stdout
}

func newWorld(t *testing.T, opts oauthtest.Options) *world {
	t.Helper()
	realpart.RequireKeyring(t)
	w := &world{t: t, srv: oauthtest.Start(t, opts), home: t.TempDir(), shim: browsertest.ShimDir(t)}
	w.host = w.srv.URL
	w.port = oauthtest.FreePort(t)
	w.dir = w.home
	w.flags = []string{"--redirect-url", w.redirect()}
	w.client = w.srv.CreateClient(t, oauthtest.Client{RedirectURIs: []string{w.redirect()}})
	w.env = map[string]string{
		"PATH":                     w.shim + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME":                     w.home,
		"XDG_CONFIG_HOME":          filepath.Join(w.home, ".config"),
		"XDG_CACHE_HOME":           filepath.Join(w.home, ".cache"),
		"XDG_STATE_HOME":           filepath.Join(w.home, ".local/state"),
		"TMPDIR":                   filepath.Join(w.home, "tmp"),
		"DBUS_SESSION_BUS_ADDRESS": os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
		"NO_COLOR":                 "1",
		// The race detector's binaries wait a second at exit for late
		// reports; races are reported as they happen all the same.
		"GORACE":               "atexit_sleep_ms=0",
		"DBTDBX_DEBUG":         "1",
		"DATABRICKS_HOST":      w.host,
		"DATABRICKS_CLIENT_ID": w.client,
	}
	if err := os.MkdirAll(w.env["TMPDIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = keyringStore().Delete(w.key())
		_ = keyringStore().Delete(token.Key{Host: w.host, ClientID: "dbt-databricks"})
		if !t.Failed() {
			w.assertNoSecretsLeaked()
		}
	})
	return w
}

// useClient registers c and makes it the client dbtdbx is run with.
func (w *world) useClient(c oauthtest.Client) {
	w.t.Helper()
	_ = keyringStore().Delete(w.key())
	w.client = w.srv.CreateClient(w.t, c)
	w.env["DATABRICKS_CLIENT_ID"] = w.client
}

func (w *world) redirect() string { return fmt.Sprintf("http://localhost:%d", w.port) }

func (w *world) key() token.Key { return token.Key{Host: w.host, ClientID: w.client} }

func (w *world) environ(extra ...string) []string {
	var env []string
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

func (w *world) args(args []string) []string {
	return append(append([]string(nil), w.flags...), args...)
}

func (w *world) record(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outputs = append(w.outputs, s)
}

// result is one finished dbtdbx run.
type result struct {
	stdout, stderr string
	code           int
}

// run runs dbtdbx to the end. extraEnv entries are KEY=VALUE.
func (w *world) run(extraEnv []string, args ...string) result {
	w.t.Helper()
	r, err := w.tryRun(extraEnv, args...)
	if err != nil {
		w.t.Fatalf("running dbtdbx %v: %v", args, err)
	}
	return r
}

// parallel runs n dbtdbx processes with args at once and returns their
// results when all have ended.
func (w *world) parallel(n int, args ...string) []result {
	w.t.Helper()
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			var err error
			if results[i], err = w.tryRun(nil, args...); err != nil {
				w.t.Errorf("running dbtdbx %v: %v", args, err)
				results[i].code = -1
			}
		})
	}
	wg.Wait()
	return results
}

// tryRun is run, safe to call from any goroutine: it returns an error
// instead of failing the test when dbtdbx cannot be run.
func (w *world) tryRun(extraEnv []string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, binary, w.args(args)...)
	c.Env = w.environ(extraEnv...)
	c.Dir = w.dir
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		return r, err
	}
	// token and env print the token by design, exec the child's output.
	if len(args) == 0 || args[0] != "token" && args[0] != "env" && args[0] != "exec" {
		w.record(r.stdout)
	}
	w.record(r.stderr)
	return r, nil
}

// login runs `dbtdbx login` with the headless browser and requires success.
func (w *world) login(args ...string) result {
	w.t.Helper()
	r := w.run(nil, append([]string{"login"}, args...)...)
	if r.code != 0 {
		w.t.Fatalf("login exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		w.t.Errorf("login wrote to stdout: %q", r.stdout)
	}
	return r
}

// token runs `dbtdbx token` and returns the token, checking that stdout is
// exactly the token and one newline.
func (w *world) token(args ...string) string {
	w.t.Helper()
	r := w.run(nil, append([]string{"token"}, args...)...)
	if r.code != 0 {
		w.t.Fatalf("token exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	tok := strings.TrimSuffix(r.stdout, "\n")
	if tok == "" || strings.ContainsAny(tok, " \n\t") || r.stdout != tok+"\n" {
		w.t.Fatalf("token stdout is not exactly one token and a newline: %q", r.stdout)
	}
	return tok
}

// tokenFile is where dbtdbx keeps tokens when it uses a file.
func (w *world) tokenFile() string {
	return filepath.Join(w.env["XDG_CONFIG_HOME"], "dbtdbx", "tokens.json")
}

// store is the store dbtdbx keeps w's login in.
func (w *world) store() token.Store {
	if w.fileStore {
		return &token.File{Path: w.tokenFile()}
	}
	return keyringStore()
}

// keyringStore is the keyring as dbtdbx opens it: the Secret Service of the
// tests' bus, with the kernel keyring cache in front.
func keyringStore() token.Store {
	return token.WithKernelCache(&token.Keyring{}, true, nil, nil)
}

// stored reads the entry dbtdbx keeps.
func (w *world) stored() *token.Entry {
	w.t.Helper()
	e, err := w.store().Load(w.key())
	if err != nil {
		w.t.Fatalf("reading the stored login: %v", err)
	}
	return e
}

// makeDue rewrites the stored login so that its access token, still valid
// at the server, is due for a refresh: two minutes left of an hour.
func (w *world) makeDue() {
	w.t.Helper()
	e := w.stored()
	now := time.Now()
	e.Obtained, e.Expiry = now.Add(-58*time.Minute), now.Add(2*time.Minute)
	if err := w.store().Save(e); err != nil {
		w.t.Fatal(err)
	}
}

// assertNoSecretsLeaked searches everything dbtdbx printed (but token's
// stdout) and every file under its home for each secret the server saw.
func (w *world) assertNoSecretsLeaked() {
	w.t.Helper()
	secrets := w.srv.Secrets()
	if len(secrets) == 0 {
		w.t.Error("the server saw no secrets: the leak check would check nothing")
	}
	w.mu.Lock()
	all := strings.Join(w.outputs, "\n")
	w.mu.Unlock()
	var files []string
	_ = filepath.Walk(w.home, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && !strings.HasPrefix(path, w.shim) && path != w.tokenFile() {
			files = append(files, path)
		}
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(all, s) {
			w.t.Errorf("a secret (%d bytes, starting %.6q) appears in dbtdbx output", len(s), s)
		}
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(s)) {
				w.t.Errorf("a secret appears in file %s", f)
			}
		}
	}
}

// waitingLogin is a `dbtdbx login` started with BROWSER=none, waiting for
// a callback.
type waitingLogin struct {
	w       *world
	cmd     *exec.Cmd
	authURL string
	matched string         // the line that made it ready
	stdin   io.WriteCloser // where a user pastes the address the browser ends on
	stderr  *syncBuffer
	done    chan struct{}
	err     error
}

// startLogin starts a login that opens no browser and returns once it has
// printed the URL to open (so its listener is bound).
func (w *world) startLogin(args ...string) *waitingLogin {
	w.t.Helper()
	l := w.spawnLogin([]string{"BROWSER=none"}, func(line string) bool {
		return strings.HasPrefix(line, "http") && strings.Contains(line, "/oidc/v1/authorize")
	}, args...)
	l.authURL = l.matched
	return l
}

// startLoginWaiting starts a login that opens no browser and returns once it
// has printed a line containing marker.
func (w *world) startLoginWaiting(marker string, args ...string) *waitingLogin {
	w.t.Helper()
	return w.spawnLogin([]string{"BROWSER=none"}, func(line string) bool { return strings.Contains(line, marker) }, args...)
}

// spawnLogin starts `dbtdbx login` with extraEnv and returns once a line of
// its stderr (trimmed) satisfies ready.
func (w *world) spawnLogin(extraEnv []string, ready func(line string) bool, args ...string) *waitingLogin {
	w.t.Helper()
	c := exec.Command(binary, w.args(append([]string{"login"}, args...))...)
	c.Env = w.environ(extraEnv...)
	c.Dir = w.dir
	pipe, err := c.StderrPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	stdin, err := c.StdinPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	var out bytes.Buffer
	c.Stdout = &out
	if err := c.Start(); err != nil {
		w.t.Fatal(err)
	}
	l := &waitingLogin{w: w, cmd: c, stdin: stdin, stderr: &syncBuffer{}, done: make(chan struct{})}
	matched := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = l.stderr.Write([]byte(line + "\n"))
			if s := strings.TrimSpace(line); ready(s) {
				select {
				case matched <- s:
				default:
				}
			}
		}
		close(matched)
		l.err = c.Wait()
		w.record(out.String())
		if out.Len() != 0 {
			w.t.Errorf("login wrote to stdout: %q", out.String())
		}
		close(l.done)
	}()
	m, ok := <-matched
	if !ok {
		<-l.done
		w.t.Fatalf("login ended before it was ready: %v\n%s", l.err, l.stderr)
	}
	l.matched = m
	w.t.Cleanup(func() { _ = c.Process.Kill(); <-l.done })
	return l
}

// syncBuffer is a bytes.Buffer safe for one writer and other readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wait waits for the login to end and returns its exit code and stderr.
func (l *waitingLogin) wait() (int, string) {
	l.w.t.Helper()
	select {
	case <-l.done:
	case <-time.After(time.Minute):
		l.w.t.Fatal("login did not end within a minute")
	}
	l.w.record(l.stderr.String())
	code := 0
	if ee, ok := l.err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if l.err != nil {
		l.w.t.Fatal(l.err)
	}
	return code, l.stderr.String()
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.NewDecoder(strings.NewReader(s)).Decode(v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}
