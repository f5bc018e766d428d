package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/internal/front"
	"github.com/dbtdbx/dbtdbx/internal/version"
	"github.com/dbtdbx/dbtdbx/token"
)

// Exit codes of exec when the child does not run, as env(1) and docker use them.
const (
	ExitExecFailed     = front.ExitExecFailed
	ExitNotExecutable  = 126
	ExitCommandMissing = 127
)

// droppedEnv are the inherited variables that name another way to
// authenticate (the child must see exactly one), and the one by which
// dbtdbx tells dbtdbx-core its version.
var droppedEnv = []string{
	"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
	"DATABRICKS_AUTH_TYPE", "DATABRICKS_METADATA_SERVICE_URL",
	"DATABRICKS_USERNAME", "DATABRICKS_PASSWORD", "DATABRICKS_CONFIG_PROFILE",
	"DATABRICKS_AZURE_CLIENT_ID", "DATABRICKS_AZURE_CLIENT_SECRET",
	"ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "DBTDBX_CLIENT_SECRET",
	version.EnvFront, // for this dbtdbx-core only
}

// exitCode carries the exit code exec must end with, without a message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

type execOptions struct {
	*globals
	noService bool
}

func newExec(g *globals) *cobra.Command {
	o := &execOptions{globals: g}
	c := &cobra.Command{
		Use:   "exec [flags] [--] command [args...]",
		Short: "Run a command with DATABRICKS_HOST, a fresh DATABRICKS_TOKEN and a token service",
		Long: `Run a command with DATABRICKS_HOST and DATABRICKS_TOKEN set, the token with at
least 50 minutes left (or 90% of its lifetime when that is shorter), and with a
token service for as long as the command runs (see dbtdbx serve):
DATABRICKS_METADATA_SERVICE_URL and DATABRICKS_AUTH_TYPE=metadata-service make
tools built on the Databricks SDKs ask it for a fresh token whenever theirs nears
its expiry, so long runs outlive the hour; tools that read DATABRICKS_TOKEN once
get the fresh token. --no-token-service leaves the service out.

Inherited DATABRICKS_* credentials are removed so the command sees one way to
authenticate. stdin, stdout, stderr and signals pass through; the token is never
put on a command line.

Exit code: the command's; 128+n when it dies of signal n; 4 when a login is
required; 125 when dbtdbx fails before starting it, a usage error included;
126 when it cannot be executed; 127 when it is not found.`,
		Example: `  dbtdbx exec -- dbt run --select my_model
  dbtdbx exec -t prod -- dbt build`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 || strings.TrimSpace(args[0]) == "" {
				return usageError{errors.New("exec needs a command to run, e.g. dbtdbx exec -- dbt run")}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), args) },
	}
	c.Flags().SetInterspersed(false)
	c.Flags().BoolVar(&o.noService, "no-token-service", false, "set only DATABRICKS_HOST and DATABRICKS_TOKEN, without a token service")
	return c
}

func (o *execOptions) run(ctx context.Context, args []string) error {
	t, err := o.target()
	if err != nil {
		return beforeChild(err)
	}
	o.warn(t)
	e, err := o.accessToken(ctx, t, false, token.DefaultMinTTL, lastingTTL)
	if err != nil {
		return beforeChild(err)
	}
	set := map[string]string{"DATABRICKS_HOST": t.Host, "DATABRICKS_TOKEN": e.AccessToken}
	if !o.noService {
		// The service lives as long as the child: it stops when run returns.
		svc, err := o.startTokenService(t, "127.0.0.1:0", token.DefaultMinTTL)
		if err != nil {
			return beforeChild(err)
		}
		defer stopTokenService(svc)
		set["DATABRICKS_AUTH_TYPE"] = authTypeMetadataService
		set["DATABRICKS_METADATA_SERVICE_URL"] = svc.URL
	}
	env := childEnv(os.Environ(), set)

	// The child's PATH is this process's PATH.
	path, err := exec.LookPath(args[0])
	if err != nil {
		return startError(args[0], err)
	}
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.stdin, o.stdout, o.rawStderr

	sigs := make(chan os.Signal, 8)
	if len(forwardedSignals) > 0 {
		signal.Notify(sigs, forwardedSignals...)
		defer func() { signal.Stop(sigs); close(sigs) }()
	}
	if err := cmd.Start(); err != nil {
		return startError(args[0], err)
	}
	childRunning.Store(true)
	defer childRunning.Store(false)
	go func() {
		for sig := range sigs {
			if shouldForward(sig, o.stdin) {
				_ = cmd.Process.Signal(sig)
			}
		}
	}()
	err = cmd.Wait()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCode(childExitCode(ee))
	}
	return err
}

// beforeChild gives a failure before the child started exit code 125,
// except "login required", which keeps its own code 4.
func beforeChild(err error) error {
	if errors.Is(err, token.ErrLoginRequired) {
		return err
	}
	return codedError{code: ExitExecFailed, err: err}
}

// codedError is an error printed as usual that ends dbtdbx with code.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// childEnv returns environ without droppedEnv, with set added.
func childEnv(environ []string, set map[string]string) []string {
	drop := map[string]bool{}
	for _, k := range droppedEnv {
		drop[k] = true
	}
	for k := range set {
		drop[k] = true
	}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for _, k := range []string{"DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_AUTH_TYPE", "DATABRICKS_METADATA_SERVICE_URL"} {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// startError maps a failure to start the child to 126 (found but not
// executable) or 127 (not found), as shells do.
func startError(name string, err error) error {
	code := ExitNotExecutable
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		code = ExitCommandMissing
	}
	var pe *fs.PathError
	var ee *exec.Error
	switch {
	case errors.As(err, &ee):
		err = ee.Err
	case errors.As(err, &pe):
		err = pe.Err
	}
	return codedError{code, fmt.Errorf("cannot run %s: %v", name, err)}
}
