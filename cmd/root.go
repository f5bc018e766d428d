// Package cmd holds dbtdbx's commands. Each command parses flags into an
// options struct and calls config, auth and token; no protocol logic lives here.
package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/auth"
	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

// Version is stamped at build time (-ldflags "-X .../cmd.Version=v1.2.3").
var Version = "dev"

// globals are the options every command shares.
type globals struct {
	flags       config.Flags
	debug       bool
	httpTimeout time.Duration

	stdin          io.Reader
	stdout, stderr io.Writer
	env            config.Env
	log            *slog.Logger // nil unless --debug
}

// target resolves the command's Target from flags and the environment.
func (g *globals) target() (*config.Target, error) {
	return config.Resolve(g.flags, g.env)
}

func (g *globals) getenv(name string) string { return g.env.Get(name) }

// store opens the token store.
func (g *globals) store() (token.Store, error) {
	timeout, err := token.KeyringTimeout(g.getenv)
	if err != nil {
		return nil, err
	}
	return &token.Keyring{Timeout: timeout}, nil
}

// source builds the Source that hands out tokens for t.
func (g *globals) source(t *config.Target, minTTL time.Duration) (*token.Source, error) {
	store, err := g.store()
	if err != nil {
		return nil, err
	}
	return &token.Source{
		Store:  store,
		Key:    token.Key{Host: t.Host, ClientID: t.ClientID},
		Scopes: t.Scopes,
		MinTTL: minTTL,
		Client: auth.Client{ClientID: t.ClientID, ClientSecret: t.ClientSecret, HTTP: g.httpClient()},
		Log:    g.log,
		Warn:   func(msg string) { fmt.Fprintln(g.stderr, "dbtdbx: warning:", msg) },
	}, nil
}

func (g *globals) httpClient() *http.Client { return auth.NewHTTPClient(g.httpTimeout, g.log) }

// loginHint is the command that logs in to t.
func loginHint(t *config.Target) string {
	s := "Run: dbtdbx login --host " + t.Host
	if t.ClientID != config.DefaultClientID {
		s += " --client-id " + t.ClientID
	}
	return s
}

// Execute runs dbtdbx with os.Args and returns the exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := config.OSEnv()
	if err != nil {
		return report(os.Stderr, err)
	}
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env config.Env) int {
	// stderr is shared by the progress display, the browser opener and logs.
	stderr = &lockedWriter{w: stderr}
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran := false
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		ran = true
		if d := g.getenv("DBTDBX_DEBUG"); g.debug || d == "1" || d == "true" {
			g.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		return nil
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if !ran {
		err = usageError{err}
	}
	return report(stderr, err)
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "dbtdbx",
		Short: "Sign in to Databricks for a dbt project and hand out fresh tokens",
		Long: `dbtdbx signs you in to a Databricks workspace once (OAuth in the browser),
keeps the tokens in the OS keyring, and prints a valid bearer token whenever
something needs one, refreshing it before it expires.

` + exitCodesHelp,
		Example: `  dbtdbx login --host https://adb-1234.5.azuredatabricks.net
  dbtdbx token
  dbtdbx status`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.flags.Host, "host", "", "workspace URL, e.g. https://adb-1234.5.azuredatabricks.net (env DATABRICKS_HOST)")
	pf.StringVar(&g.flags.ClientID, "client-id", "", "OAuth app connection client id (env DATABRICKS_CLIENT_ID; default dbt-databricks)")
	pf.StringVar(&g.flags.Scopes, "scopes", "", "OAuth scopes, space or comma separated (default all-apis; login adds offline_access)")
	pf.StringVar(&g.flags.RedirectURL, "redirect-url", "", "redirect URL the app connection registers (default http://localhost:8020)")
	pf.BoolVar(&g.debug, "debug", false, "log HTTP exchanges and decisions to stderr, secrets redacted (env DBTDBX_DEBUG=1)")
	pf.DurationVar(&g.httpTimeout, "http-timeout", 30*time.Second, "timeout of each HTTP request")

	root.AddCommand(newLogin(g), newToken(g), newStatus(g), newLogout(g), newVersion(g))
	return root
}

// noArgs rejects positional arguments as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args[0])}
	}
	return nil
}

// outputFormat checks an -o value against the allowed ones.
func outputFormat(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("unknown output format %q (use one of %v)", v, allowed)}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
