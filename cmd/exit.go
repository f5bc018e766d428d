package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dbtdbx/dbtdbx/auth"
	"github.com/dbtdbx/dbtdbx/token"
)

// Exit codes, documented in the root command's help and the README.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitInterrupted   = 130
)

const envHelp = `Environment:
  DATABRICKS_HOST, DATABRICKS_CLIENT_ID   the workspace and OAuth client, after flags and the dbt profile
  DATABRICKS_CLIENT_SECRET                a service principal's secret (with DATABRICKS_CLIENT_ID)
  DBTDBX_CLIENT_SECRET                    the secret of an OAuth app connection that has one
  DBTDBX_STORAGE=keyring|file|none        like --storage
  DBTDBX_KEYRING_TIMEOUT=10s              how long to wait for the keyring (default 3s)
  DBTDBX_KEYRING_CACHE=on|off             the copy of access tokens in the Linux kernel keyring (default on)
  DBTDBX_DEBUG=1                          like --debug (1, true, yes or on)
  DBTDBX_CORE=/path/to/dbtdbx-core        the binary dbtdbx runs for all but a cached token (default: beside dbtdbx, then PATH)
  DBT_PROJECT_DIR, DBT_ENGINE_PROFILES_DIR, DBT_PROFILES_DIR, DBT_PROFILE, DBT_TARGET   as in dbt`

const exitCodesHelp = `Exit codes:
  0    success
  1    error (network, server, keyring, configuration)
  2    usage error (bad flag or argument)
  4    login required: run dbtdbx login
  130  interrupted (Ctrl-C)
  exec only: the command's own code; 128+n when it dies of signal n;
  125 dbtdbx failed before starting it (a usage error too), 126 not executable, 127 not found`

// usageError marks an error in how dbtdbx was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// hintError adds what the user can do next to an error.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

// interrupted reports that the user stopped a command (Ctrl-C, SIGTERM).
type interrupted struct{ what string }

func (e interrupted) Error() string        { return "interrupted: " + e.what }
func (e interrupted) Is(target error) bool { return target == context.Canceled }

func withHint(err error, hint string) error { return hintError{err: err, hint: hint} }

// report prints err on w and returns the exit code it calls for.
func report(w io.Writer, err error) int { return reportFor(w, err, "dbtdbx") }

// reportFor is report for an error of command (its path, as "dbtdbx
// token"), whose help a usage error points at.
func reportFor(w io.Writer, err error, command string) int {
	code := ExitError
	var ue usageError
	var ce codedError
	var child exitCode
	switch {
	case errors.As(err, &child):
		return int(child)
	case errors.As(err, &ce):
		code = ce.code
	case errors.As(err, &ue):
		code = ExitUsage
	case errors.Is(err, token.ErrLoginRequired):
		code = ExitLoginRequired
	case errors.Is(err, context.Canceled):
		code = ExitInterrupted
	}
	fmt.Fprintf(w, "dbtdbx: %v\n", err)
	var he hintError
	var se *auth.ServerError
	switch {
	case errors.As(err, &he) && he.hint != "":
		fmt.Fprintf(w, "  %s\n", he.hint)
	case errors.Is(err, token.ErrKeyring):
		fmt.Fprintf(w, "  To keep tokens in a file instead, pass --storage file (or set %s=file).\n", EnvStorage)
	case errors.As(err, &se) && se.Code == "invalid_client":
		fmt.Fprintln(w, "  The server refused the client id or its secret: check --client-id (or the profile's client_id) and the secret,")
		fmt.Fprintln(w, "  DBTDBX_CLIENT_SECRET for an app connection with a secret, DATABRICKS_CLIENT_SECRET or the profile's client_secret for a service principal.")
	}
	if code == ExitUsage {
		fmt.Fprintf(w, "  Run '%s --help' for usage.\n", command)
		if command == "dbtdbx exec" {
			// Whatever the command's own codes are, 125 is dbtdbx's
			// (as env(1) and timeout(1) have it).
			code = ExitExecFailed
		}
	}
	return code
}
