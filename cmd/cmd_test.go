package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbtdbx/dbtdbx/config"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := config.Env{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Dir: t.TempDir(), Home: t.TempDir()}
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, e)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args    []string
		env     map[string]string
		code    int
		mention string
	}{
		{[]string{"token", "--bogus"}, nil, ExitUsage, "unknown flag"},
		{[]string{"token", "extra"}, nil, ExitUsage, "takes no arguments"},
		{[]string{"nosuchcommand"}, nil, ExitUsage, "unknown command"},
		{[]string{"token", "-o", "yaml"}, nil, ExitUsage, "output format"},
		{[]string{"status", "-o", "yaml"}, nil, ExitUsage, "output format"},
		{[]string{"login", "--timeout", "0s", "--host", "h.example"}, nil, ExitUsage, "--timeout"},
		{[]string{"token"}, nil, ExitError, "DATABRICKS_HOST"},
		{[]string{"status", "--host", "http://dbc-x.cloud.databricks.com"}, nil, ExitError, "plain http"},
		{[]string{"token"}, map[string]string{"DATABRICKS_HOST": "ftp://x"}, ExitError, "env DATABRICKS_HOST"},
		{[]string{"login", "--host", "h.example", "--redirect-url", "http://example.com:8020"}, nil, ExitError, "this machine"},
		{[]string{"status", "--host", "h.example"}, map[string]string{"DBTDBX_KEYRING_TIMEOUT": "soon"}, ExitError, "DBTDBX_KEYRING_TIMEOUT"},
	}
	for _, c := range cases {
		code, stdout, stderr := runCLI(t, c.env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.mention) || stdout != "" {
			t.Errorf("dbtdbx %v: exit %d, stdout %q, stderr %q; want exit %d mentioning %q", c.args, code, stdout, stderr, c.code, c.mention)
		}
	}
}

func TestHelpDocumentsExitCodesAndExamples(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "--help")
	for _, want := range []string{"Exit codes:", "4    login required", "130"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, c := range []string{"login", "token", "status", "logout", "version"} {
		if _, stdout, _ := runCLI(t, nil, c, "--help"); !strings.Contains(stdout, "Examples:") {
			t.Errorf("%s --help has no example", c)
		}
	}
}

func TestVersion(t *testing.T) {
	if code, stdout, _ := runCLI(t, nil, "version"); code != 0 || stdout != "dbtdbx dev\n" {
		t.Errorf("version: %d %q", code, stdout)
	}
}

func TestWaitingPlainWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	w := startWaiting(&b, time.Now().Add(5*time.Minute), true)
	w.Stop()
	w.Stop()
	if got := b.String(); !strings.Contains(got, "times out in 5m0s") || strings.Contains(got, "\033") {
		t.Errorf("waiting display on a non-terminal: %q", got)
	}
}
