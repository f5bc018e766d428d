// Package cmd holds dbtdbx's commands. Each command parses flags into an
// options struct and calls config, auth and token; no protocol logic lives here.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dbtdbx/dbtdbx/auth"
	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/internal/front"
	"github.com/dbtdbx/dbtdbx/internal/version"
	"github.com/dbtdbx/dbtdbx/token"
)

// globals are the options every command shares.
type globals struct {
	flags       config.Flags
	debug       bool
	httpTimeout time.Duration
	storage     string // --storage
	lockWait    time.Duration

	opened    token.Store // the store, once opened
	storeNote string      // how the store was chosen, for status

	stdin          io.Reader
	stdout, stderr io.Writer
	rawStderr      io.Writer // stderr as given, for a child process
	env            config.Env
	log            *slog.Logger // nil unless --debug
	command        string       // the command's name, for lock holders
}

// target resolves the command's Target from flags and the environment.
func (g *globals) target() (*config.Target, error) {
	t, err := config.Resolve(g.flags, g.env)
	if fe := (*config.FlagError)(nil); errors.As(err, &fe) {
		return nil, usageError{err}
	}
	return t, err
}

func (g *globals) getenv(name string) string { return g.env.Get(name) }

// accessToken returns a usable token for t: the personal access token of a
// PAT target, a service principal's cached or new token, or the stored
// login's, refreshed when due (see token.Threshold for minTTL and lasting).
// It never starts a login.
func (g *globals) accessToken(ctx context.Context, t *config.Target, force bool, minTTL, lasting time.Duration) (*token.Entry, error) {
	switch t.Auth {
	case config.AuthPAT:
		if !front.BearerToken(t.Token) {
			return nil, fmt.Errorf("the token of %s in %s has spaces or control characters, which no bearer token has: check the profile's token", targetName(t), t.ProfilesFile)
		}
		return &token.Entry{Host: t.Host, AccessToken: t.Token, TokenType: "Bearer"}, nil
	case config.AuthAzureServicePrincipal:
		return nil, azureUnsupported(t)
	}
	store, err := g.store()
	if err != nil {
		return nil, err
	}
	src := &token.Source{
		Store:   store,
		Key:     token.Key{Host: t.Host, ClientID: t.ClientID},
		Scopes:  t.Scopes,
		MinTTL:  minTTL,
		Lasting: lasting,
		Client:  auth.Client{ClientID: t.ClientID, ClientSecret: t.ClientSecret, HTTP: g.httpClient()},
		Log:     g.log,
		Warn:    func(msg string) { fmt.Fprintln(g.stderr, "dbtdbx: warning:", msg) },
	}
	if t.Auth == config.AuthServicePrincipal {
		src.Obtain = g.servicePrincipal(t)
	}
	src.Lock = func(ctx context.Context) (func(), error) {
		return g.lock(ctx, "refresh", src.Key, g.lockWait, "dbtdbx "+g.command)
	}
	e, err := src.Token(ctx, force)
	if _, none := store.(token.None); none && errors.Is(err, token.ErrLoginRequired) {
		return nil, withHint(err, "With --storage none (or DBTDBX_STORAGE=none) dbtdbx keeps no login between runs, which suits service principals and personal access tokens: for a browser login, log in and run with --storage keyring or file")
	}
	if errors.Is(err, token.ErrLoginRequired) {
		return nil, withHint(err, loginHint(t))
	}
	if err == nil && !front.BearerToken(e.AccessToken) {
		return nil, withHint(fmt.Errorf("the access token for %s (as stored, or as its token endpoint just issued it) has spaces or control characters, which no bearer token has; refusing to hand it out", t.Host), "Run: dbtdbx logout, then dbtdbx login; if it happens again, the workspace's token endpoint issues such tokens")
	}
	return e, err
}

func azureUnsupported(t *config.Target) error {
	return fmt.Errorf("target %s is an Entra ID service principal (azure_client_id %s): dbtdbx does not support Entra ID service principals yet: remove azure_client_id and azure_client_secret from the target to log in with dbtdbx login, or use a Databricks service principal (client_id and client_secret)", targetName(t), t.AzureClientID)
}

// servicePrincipal returns a token.Source's Obtain for a service principal
// target: the client-credentials grant at the token endpoint of the stored
// entry, or of discovery when none is stored.
func (g *globals) servicePrincipal(t *config.Target) func(context.Context, *token.Entry) (*token.Entry, error) {
	return func(ctx context.Context, stored *token.Entry) (*token.Entry, error) {
		c := auth.Client{ClientID: t.ClientID, ClientSecret: t.ServicePrincipalSecret, HTTP: g.httpClient()}
		if stored != nil && stored.TokenURL != "" {
			c.Endpoints.TokenURL = stored.TokenURL
		} else {
			ep, err := auth.Discover(ctx, c.HTTP, t.Host)
			if err != nil {
				return nil, err
			}
			c.Endpoints = ep
		}
		tok, err := c.ClientCredentials(ctx, t.Scopes)
		if err != nil {
			return nil, err
		}
		key := token.Key{Host: t.Host, ClientID: t.ClientID}
		return token.EntryFromToken(tok, key, t.Scopes, c.Endpoints.TokenURL, time.Now()), nil
	}
}

// targetName names t for messages: "profile/target" from a dbt project, or
// the host.
func targetName(t *config.Target) string {
	if t.Profile != "" {
		return fmt.Sprintf("%s.%s", t.Profile, t.TargetName)
	}
	return t.Host
}

func (g *globals) httpClient() *http.Client { return auth.NewHTTPClient(g.httpTimeout, g.log) }

// warn prints the target's warnings on stderr, for every command that acts
// on the target (status shows them in its report).
func (g *globals) warn(t *config.Target) {
	for _, w := range t.Warnings {
		fmt.Fprintln(g.stderr, "dbtdbx: warning:", w)
	}
}

// loginHint is the command that logs in to t.
func loginHint(t *config.Target) string {
	if t.Profile != "" && !strings.HasPrefix(string(t.Origins["host"]), "flag") {
		s := "Run: dbtdbx login"
		if strings.HasPrefix(string(t.Origins["profile"]), "flag") {
			s += " --profile " + t.Profile
		}
		if strings.HasPrefix(string(t.Origins["target"]), "flag") {
			s += " --target " + t.TargetName
		}
		return s + " (in " + t.ProjectDir + ")"
	}
	s := "Run: dbtdbx login --host " + t.Host
	if t.ClientID != config.DefaultClientID {
		s += " --client-id " + t.ClientID
	}
	return s
}

// Execute runs dbtdbx with os.Args and returns the exit code. The first
// Ctrl-C (or SIGTERM) cancels the command, which stops cleanly; a second one
// ends dbtdbx at once with ExitInterrupted, for a step that cannot be
// cancelled (a keyring that does not answer), unless exec is running a
// command, which gets the signals itself.
func Execute() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		<-sigs
		cancel()
		for range sigs {
			if !childRunning.Load() {
				fmt.Fprintln(os.Stderr, "dbtdbx: interrupted")
				os.Exit(ExitInterrupted)
			}
		}
	}()
	env, err := config.OSEnv()
	if err != nil {
		return report(os.Stderr, err)
	}
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env config.Env) int {
	// stderr is shared by the progress display, the browser opener and logs.
	g := &globals{stdin: stdin, stdout: stdout, stderr: &lockedWriter{w: stderr}, rawStderr: stderr, env: env}
	stderr = g.stderr
	warnOtherFront(stderr, g.getenv)
	root := newRoot(g, args)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran := false
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		ran = true
		g.command = c.Name()
		for name, d := range map[string]time.Duration{"--http-timeout": g.httpTimeout, "--lock-timeout": g.lockWait} {
			if d <= 0 {
				return usageError{fmt.Errorf("%s must be positive, got %s", name, d)}
			}
		}
		if g.debug || front.DebugOn(g.getenv(front.EnvDebug)) {
			g.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		return nil
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var child exitCode
	var stopped interrupted
	switch {
	case !ran:
		err = usageError{err}
	case ctx.Err() != nil && !errors.As(err, &child) && !errors.As(err, &stopped):
		// Whatever failed, it failed because the user stopped it.
		err = interrupted{fmt.Sprintf("stopped before it finished (%v)", err)}
	}
	command := "dbtdbx"
	if c, _, ferr := root.Find(args); ferr == nil {
		command = c.CommandPath()
	}
	return reportFor(stderr, err, command)
}

// childRunning is set while exec's command runs: signals are then for it.
var childRunning atomic.Bool

func newRoot(g *globals, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "dbtdbx",
		Short: "Sign in to Databricks for a dbt project and hand out fresh tokens",
		Long: `dbtdbx signs you in to a Databricks workspace once (OAuth in the browser),
keeps the tokens in the OS keyring, and prints a valid bearer token whenever
something needs one, refreshing it before it expires.

` + envHelp + `

` + exitCodesHelp,
		Example: `  dbtdbx login --host https://adb-1234.5.azuredatabricks.net
  dbtdbx token
  dbtdbx status`,
		Version:       version.Version, // printed through versionTemplate
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionTemplate)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.flags.Host, "host", "", "workspace URL, e.g. https://adb-1234.5.azuredatabricks.net (env DATABRICKS_HOST)")
	pf.StringVar(&g.flags.ClientID, "client-id", "", "OAuth app connection client id (env DATABRICKS_CLIENT_ID; default dbt-databricks)")
	pf.StringVar(&g.flags.Scopes, "scopes", "", "OAuth scopes, space or comma separated (default all-apis; login adds offline_access)")
	pf.StringVar(&g.flags.RedirectURL, "redirect-url", "", "redirect URL the app connection registers (default http://localhost:8020)")
	pf.StringVar(&g.flags.ProjectDir, "project-dir", "", "dbt project directory (env DBT_PROJECT_DIR; default: the nearest parent holding dbt_project.yml)")
	pf.StringVar(&g.flags.ProfilesDir, "profiles-dir", "", "directory holding profiles.yml (env DBT_ENGINE_PROFILES_DIR, DBT_PROFILES_DIR; default: current directory, then ~/.dbt)")
	pf.StringVar(&g.flags.Profile, "profile", "", "dbt profile (env DBT_PROFILE; default: profile: in dbt_project.yml)")
	pf.StringVarP(&g.flags.Target, "target", "t", "", "dbt target (env DBT_TARGET; default: the profile's target:)")
	pf.BoolVar(&g.debug, "debug", false, "log HTTP exchanges and decisions to stderr, secrets redacted (env DBTDBX_DEBUG=1)")
	pf.DurationVar(&g.httpTimeout, "http-timeout", front.DefaultHTTPTimeout, "timeout of each HTTP request")
	pf.StringVar(&g.storage, "storage", "", "where tokens are kept: keyring, file or none (env DBTDBX_STORAGE; default: the OS keyring, or a file where there is none)")
	pf.DurationVar(&g.lockWait, "lock-timeout", token.DefaultLockWait, "how long to wait for another dbtdbx refreshing the same login")

	// When the first argument names a command, only that one is built:
	// building every command with its flags is a measurable share of the
	// start-up of `dbtdbx token`, which runs before every dbt invocation.
	// Anything else (help, completion, a flag first, a typo) gets them all.
	only := ""
	if len(args) > 0 && slices.ContainsFunc(commands, func(c command) bool { return c.name == args[0] }) {
		only = args[0]
	}
	for _, c := range commands {
		if only == "" || c.name == only {
			root.AddCommand(c.build(g))
		}
	}
	if only == "" {
		registerCompletions(g, root)
	} else {
		// Otherwise cobra would build its own completion command.
		root.CompletionOptions.DisableDefaultCmd = true
	}
	return root
}

// command is a subcommand of dbtdbx and the function that builds it.
type command struct {
	name  string
	build func(*globals) *cobra.Command
}

var commands = []command{
	{"login", newLogin}, {"token", newToken}, {"status", newStatus}, {"logout", newLogout},
	{"env", newEnv}, {"exec", newExec}, {"serve", newServe}, {"version", newVersion},
}

// noArgs rejects positional arguments as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args[0])}
	}
	return nil
}

// choice is the value of a flag that takes one word of a fixed set: any
// other word is a usage error as the flag is parsed, and shells complete
// the set (see registerCompletions).
type choice struct {
	value   *string
	what    string // what the word chooses, for the error
	allowed []string
}

// choiceVarP defines such a flag on fs, with def as its default.
func choiceVarP(fs *pflag.FlagSet, p *string, name, shorthand, def, what string, allowed []string, usage string) {
	*p = def
	fs.VarP(&choice{value: p, what: what, allowed: allowed}, name, shorthand, usage)
}

func (c *choice) String() string {
	if c.value == nil {
		return ""
	}
	return *c.value
}

func (c *choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("unknown %s %q: use %s", c.what, v, strings.Join(c.allowed, ", "))
	}
	*c.value = v
	return nil
}

func (c *choice) Type() string { return "string" }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
