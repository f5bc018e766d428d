package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/oauthtest"
)

// child is what this test binary does when dbtdbx exec runs it (E2E_CHILD
// set): it reports what it sees as JSON on stdout, or plays a failure.
func child(mode string) int {
	switch mode {
	case "report":
		seen := map[string]any{"args": os.Args[1:]}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "DATABRICKS_") || strings.HasPrefix(k, "DBTDBX_") || strings.HasPrefix(k, "ARM_") {
				env[k] = v
			}
		}
		seen["env"] = env
		stdin, _ := io.ReadAll(os.Stdin)
		seen["stdin"] = string(stdin)
		req, _ := http.NewRequest("GET", os.Getenv("DATABRICKS_HOST")+"/api/2.0/preview/scim/v2/Me", nil)
		req.Header.Set("Authorization", "Bearer "+os.Getenv("DATABRICKS_TOKEN"))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			seen["me"] = resp.StatusCode
			resp.Body.Close()
		}
		_ = json.NewEncoder(os.Stdout).Encode(seen)
		return 0
	case "exit":
		n, _ := strconv.Atoi(os.Args[1])
		return n
	case "die":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "wait":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
		fmt.Println("ready")
		sig := <-sigs
		fmt.Println("got", sig)
		return 42
	}
	return 99
}

func TestExecHandsAFreshTokenToTheChild(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	self, _ := os.Executable()
	ambient := []string{"E2E_CHILD=report", "DATABRICKS_TOKEN=stale-ambient-token", "DATABRICKS_CLIENT_SECRET=other-secret",
		"DATABRICKS_AUTH_TYPE=pat", "DATABRICKS_METADATA_SERVICE_URL=http://127.0.0.1:1/x", "DATABRICKS_CONFIG_PROFILE=other", "KEEP_ME=1"}
	c := exec.Command(binary, w.args([]string{"exec", "--", self, "run", "--select", "m"})...)
	c.Env = w.environ(ambient...)
	c.Dir = w.dir
	c.Stdin = strings.NewReader("piped input")
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("exec: %v\n%s", err, errb.String())
	}
	w.record(errb.String())
	var seen struct {
		Args  []string          `json:"args"`
		Env   map[string]string `json:"env"`
		Stdin string            `json:"stdin"`
		Me    int               `json:"me"`
	}
	decodeJSON(t, out.String(), &seen)
	tok := seen.Env["DATABRICKS_TOKEN"]
	if tok == "" || tok == "stale-ambient-token" || tok != w.stored().AccessToken || seen.Me != 200 {
		t.Errorf("the child did not get the stored, accepted token (server said %d)", seen.Me)
	}
	if seen.Env["DATABRICKS_HOST"] != w.host {
		t.Errorf("child DATABRICKS_HOST = %q, want %q", seen.Env["DATABRICKS_HOST"], w.host)
	}
	// DBTDBX_FRONT_VERSION is what dbtdbx tells dbtdbx-core, no one else.
	for _, k := range []string{"DATABRICKS_CLIENT_SECRET", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID", "DBTDBX_FRONT_VERSION"} {
		if v, ok := seen.Env[k]; ok {
			t.Errorf("%s=%q reached the child", k, v)
		}
	}
	// exec points these at its own token service (see serve_test.go).
	if seen.Env["DATABRICKS_AUTH_TYPE"] != "metadata-service" || seen.Env["DATABRICKS_METADATA_SERVICE_URL"] == "http://127.0.0.1:1/x" {
		t.Errorf("the child got DATABRICKS_AUTH_TYPE=%q and the inherited metadata service URL", seen.Env["DATABRICKS_AUTH_TYPE"])
	}
	if strings.Join(seen.Args, " ") != "run --select m" || seen.Stdin != "piped input" {
		t.Errorf("child args %q, stdin %q", seen.Args, seen.Stdin)
	}
	for _, a := range seen.Args {
		if strings.Contains(a, tok) {
			t.Error("the token is on the child's command line")
		}
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	self, _ := os.Executable()
	if r := w.run([]string{"E2E_CHILD=exit"}, "exec", "--", self, "3"); r.code != 4 {
		t.Errorf("exec without a login exited %d, want 4\n%s", r.code, r.stderr)
	}
	w.login()
	notExec := w.home + "/not-executable"
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  string
		args []string
		code int
	}{
		{"E2E_CHILD=exit", []string{self, "0"}, 0},
		{"E2E_CHILD=exit", []string{self, "3"}, 3},
		{"E2E_CHILD=die", []string{self}, 128 + 9},
		{"", []string{"no-such-command-dbtdbx"}, 127},
		{"", []string{notExec}, 126},
	}
	for _, c := range cases {
		r := w.run([]string{c.env}, append([]string{"exec", "--"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("exec %v exited %d, want %d\n%s", c.args, r.code, c.code, r.stderr)
		}
	}
	// Every failure of dbtdbx before the command starts is 125, whatever
	// the command's own codes: usage errors too.
	if r := w.run(nil, "exec"); r.code != 125 || !strings.Contains(r.stderr, "dbtdbx exec --help") {
		t.Errorf("exec without a command exited %d, want 125\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "exec", "--bogus", "--", "true"); r.code != 125 {
		t.Errorf("exec with an unknown flag exited %d, want 125\n%s", r.code, r.stderr)
	}
	if r := w.run(nil, "exec", "--host", "ftp://bad", "--", "true"); r.code != 125 {
		t.Errorf("exec with a bad host exited %d, want 125\n%s", r.code, r.stderr)
	}
}

func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	self, _ := os.Executable()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		c := exec.Command(binary, w.args([]string{"exec", "--", self})...)
		c.Env = w.environ("E2E_CHILD=wait")
		c.Dir = w.dir
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		c.Stderr = &errb
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "ready" {
			t.Fatalf("child did not start: %q\n%s", lines.Text(), errb.String())
		}
		if err := c.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		lines.Scan()
		got := lines.Text()
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			_ = c.Process.Kill()
			t.Fatalf("dbtdbx exec did not end after %v reached the child", sig)
		}
		w.record(errb.String())
		if got != "got "+sig.String() {
			t.Errorf("child saw %q after %v to dbtdbx", got, sig)
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 42 {
			t.Errorf("dbtdbx exec ended with %v after the child exited 42", err)
		}
	}
}

func TestEnvPrintsFreshTokenForEval(t *testing.T) {
	t.Parallel()
	w := newWorld(t, oauthtest.Options{})
	w.login()
	r := w.run(nil, "env")
	tok := w.stored().AccessToken
	want := fmt.Sprintf("export DATABRICKS_HOST=%s DATABRICKS_TOKEN=%s\n", w.host, tok)
	if r.code != 0 || r.stdout != want {
		t.Errorf("env: exit %d\n%q\nwant\n%q", r.code, r.stdout, want)
	}
	sh := exec.Command("sh", "-c", r.stdout+`printf '%s %s' "$DATABRICKS_HOST" "$DATABRICKS_TOKEN"`)
	if got, err := sh.Output(); err != nil || string(got) != w.host+" "+tok {
		t.Errorf("eval of env output gave %q, %v", got, err)
	}
	r = w.run(nil, "env", "-o", "json")
	var j map[string]string
	decodeJSON(t, r.stdout, &j)
	if j["DATABRICKS_HOST"] != w.host || j["DATABRICKS_TOKEN"] != tok || len(j) != 2 {
		t.Errorf("env -o json = %v", j)
	}
	for shell, want := range map[string]string{
		"fish":       fmt.Sprintf("set -gx DATABRICKS_HOST '%s';\nset -gx DATABRICKS_TOKEN '%s';\n", w.host, tok),
		"powershell": fmt.Sprintf("$env:DATABRICKS_HOST = '%s'\n$env:DATABRICKS_TOKEN = '%s'\n", w.host, tok),
	} {
		if r := w.run(nil, "env", "--shell", shell); r.stdout != want {
			t.Errorf("env --shell %s:\n%q\nwant\n%q", shell, r.stdout, want)
		}
	}
}
