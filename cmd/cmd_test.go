package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/internal/version"
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
		{[]string{"token", "--http-timeout", "0s", "--host", "h.example"}, nil, ExitUsage, "--http-timeout must be positive"},
		{[]string{"token", "--lock-timeout", "-1s", "--host", "h.example"}, nil, ExitUsage, "--lock-timeout must be positive"},
		{[]string{"token", "--min-ttl", "0s", "--host", "h.example"}, nil, ExitUsage, "--min-ttl must be positive"},
		{[]string{"token"}, nil, ExitError, "not in a dbt project"},
		{[]string{"token", "--host", "h.example", "--storage", "none"}, map[string]string{"DATABRICKS_CLIENT_SECRET": "s"}, ExitLoginRequired, "warning: DATABRICKS_CLIENT_SECRET is set without DATABRICKS_CLIENT_ID"},
		{[]string{"token", "--host", "h.example", "--storage", "none"}, nil, ExitLoginRequired, "keeps no login between runs"},
		// A bad value is a usage error on the command line, and one of
		// configuration in the environment or a profile.
		{[]string{"status", "--host", "http://dbc-x.cloud.databricks.com"}, nil, ExitUsage, "plain http"},
		{[]string{"token", "--host", "ftp://x"}, nil, ExitUsage, "flag --host"},
		{[]string{"token", "--host", "h.example", "--client-id", "a b"}, nil, ExitUsage, "flag --client-id"},
		{[]string{"token", "--host", "h.example", "--scopes", "offline_access"}, nil, ExitUsage, "flag --scopes"},
		{[]string{"token"}, map[string]string{"DATABRICKS_HOST": "ftp://x"}, ExitError, "env DATABRICKS_HOST"},
		{[]string{"login", "--host", "h.example", "--redirect-url", "http://example.com:8020"}, nil, ExitUsage, "this machine"},
		{[]string{"status", "--host", "h.example"}, map[string]string{"DBTDBX_KEYRING_TIMEOUT": "soon"}, ExitError, "DBTDBX_KEYRING_TIMEOUT"},
		{[]string{"status", "--host", "h.example"}, map[string]string{"DBTDBX_KEYRING_CACHE": "maybe"}, ExitError, "DBTDBX_KEYRING_CACHE=\"maybe\": use on or off"},
		{[]string{"token", "--host", "h.example"}, map[string]string{"DBTDBX_STORAGE": "bogus"}, ExitError, "DBTDBX_STORAGE \"bogus\" is not a storage mode"},
		{[]string{"token", "--host", "h.example", "--storage", "bogus"}, nil, ExitUsage, "--storage \"bogus\" is not a storage mode"},
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
	// Every command, including those added later and the subcommands of
	// completion, shows an example in its --help.
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden {
				continue
			}
			seen++
			args := append(strings.Fields(sub.CommandPath())[1:], "--help")
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 || !strings.Contains(stdout, "Examples:") {
				t.Errorf("dbtdbx %s: exit %d, no example in %q (stderr %q)", strings.Join(args, " "), code, stdout, stderr)
			}
			walk(sub)
		}
	}
	walk(newRoot(&globals{}, nil))
	if seen < 12 {
		t.Errorf("walked %d commands; the walk misses some", seen)
	}
}

// Only the command named first is built; everything else still sees them
// all: a typo gets a suggestion, and help lists every command.
func TestCommandsBuiltOnDemand(t *testing.T) {
	if root := newRoot(&globals{}, []string{"token", "--help"}); len(root.Commands()) != 1 || root.Commands()[0].Name() != "token" {
		t.Errorf("dbtdbx token builds %d commands", len(root.Commands()))
	}
	if code, _, stderr := runCLI(t, nil, "tokn"); code != 2 || !strings.Contains(stderr, "token") {
		t.Errorf("dbtdbx tokn: exit %d, stderr %q; want a usage error suggesting token", code, stderr)
	}
	code, stdout, _ := runCLI(t, nil, "--help")
	for _, c := range commands {
		if code != 0 || !strings.Contains(stdout, "  "+c.name+" ") {
			t.Errorf("dbtdbx --help: exit %d, %s missing from\n%s", code, c.name, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	if code, stdout, _ := runCLI(t, nil, "version"); code != 0 || stdout != "dbtdbx dev\n" {
		t.Errorf("version: %d %q", code, stdout)
	}
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = "1.2.3"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		if code, stdout, stderr := runCLI(t, nil, args...); code != 0 || stdout != "dbtdbx 1.2.3\n" || stderr != "" {
			t.Errorf("dbtdbx %v: exit %d, stdout %q, stderr %q; want dbtdbx 1.2.3", args, code, stdout, stderr)
		}
	}
	// Handed over by a dbtdbx of the same release: nothing to say; of
	// another: a warning on stderr, whatever the command.
	for _, front := range []string{"1.2.3", "v1.2.3"} { // v1.2.3 as go install records it
		if code, stdout, stderr := runCLI(t, map[string]string{version.EnvFront: front}, "version"); code != 0 || stdout != "dbtdbx 1.2.3\n" || stderr != "" {
			t.Errorf("version from a front of version %s: exit %d, stdout %q, stderr %q", front, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"version"}, {"token", "--host", "h.example", "--storage", "none"}} {
		_, _, stderr := runCLI(t, map[string]string{version.EnvFront: "1.1.0"}, args...)
		if !strings.Contains(stderr, "warning: dbtdbx is 1.1.0 but dbtdbx-core is 1.2.3: install both from the same release") {
			t.Errorf("dbtdbx %v from a front of another version: stderr %q, want a warning", args, stderr)
		}
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "__start_dbtdbx",
		"zsh":        "#compdef dbtdbx",
		"fish":       "complete -c dbtdbx",
		"powershell": "Register-ArgumentCompleter",
	} {
		code, stdout, stderr := runCLI(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(stdout, want) || stderr != "" {
			t.Errorf("completion %s: exit %d, stderr %q, script without %q", shell, code, stderr, want)
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}} {
		if code, stdout, stderr := runCLI(t, nil, args...); code != ExitUsage || stdout != "" || !strings.Contains(stderr, "powershell") {
			t.Errorf("dbtdbx %v: exit %d, stdout %q, stderr %q; want a usage error naming the shells", args, code, stdout, stderr)
		}
	}
	// What the shell scripts ask dbtdbx at each <TAB>.
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"login\t", "token\t", "completion\t", "version\t"}},
		{[]string{"__complete", "token", "--storage", ""}, []string{"keyring", "file", "none"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
		{[]string{"__complete", "token", "-o", ""}, []string{"text\n", "json\n", "header\n", ":4\n"}},
		{[]string{"__complete", "status", "--output="}, []string{"text\n", "json\n", ":4\n"}},
		{[]string{"__complete", "env", "--shell", ""}, []string{"sh\n", "fish\n", "powershell\n", ":4\n"}},
	}
	for _, c := range cases {
		code, stdout, _ := runCLI(t, nil, c.args...)
		for _, w := range c.want {
			if code != 0 || !strings.Contains(stdout, w) {
				t.Errorf("dbtdbx %q: exit %d, %q lacks %q", c.args, code, stdout, w)
			}
		}
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

// A command that fails because the user stopped it exits 130, whatever the
// failure looked like (here a discovery request cut short).
func TestInterruptedExitsWith130(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	dir := t.TempDir()
	e := config.Env{LookupEnv: func(k string) (string, bool) {
		if k == "XDG_CONFIG_HOME" || k == "XDG_CACHE_HOME" {
			return dir, true
		}
		return "", false
	}, Dir: dir, Home: dir}
	code := run(ctx, []string{"login", "--host", "http://127.0.0.1:9", "--storage", "file", "--no-browser"}, strings.NewReader(""), &out, &errb, e)
	if code != ExitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("login after Ctrl-C: exit %d, stderr %q; want 130 saying it was interrupted", code, errb.String())
	}
}
