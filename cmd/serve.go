package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/token"
)

type serveOptions struct {
	*globals
	listen string
	minTTL time.Duration
	shell  string
	output string
}

func newServe(g *globals) *cobra.Command {
	o := &serveOptions{globals: g}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve fresh tokens to Databricks SDK tools on a local URL",
		Long: `Serve fresh tokens to tools built on the Databricks SDKs (Python, Go, Java:
the Databricks CLI, notebooks, scripts) for as long as dbtdbx serve runs, so
that they never hit the hourly expiry.

dbtdbx serve listens on 127.0.0.1 and speaks the SDKs' metadata-service
protocol. It prints, on stdout, shell code that sets DATABRICKS_HOST,
DATABRICKS_AUTH_TYPE=metadata-service and DATABRICKS_METADATA_SERVICE_URL,
then closes stdout and serves until Ctrl-C or SIGTERM (exit 0). Tools started
with those variables ask the service for a token whenever theirs nears its
expiry. Started in the background of a shell, as in eval "$(dbtdbx serve &)",
it ignores Ctrl-C at the prompt, as background jobs do: stop it with kill and
the pid it prints; it also ends with the terminal.

The URL ends in a random secret, since any local process can connect to a
loopback port: treat it like a token. Tokens are refreshed like dbtdbx token
does it (when less than max(30s, min(--min-ttl, half the lifetime)) is left),
sharing the stored login and the refresh lock with every other dbtdbx, and
reported as expiring when that refresh is due (at least 35s early), so a
tool never sends one the workspace rejects. Requests from other machines, to
other paths, without the header X-Databricks-Metadata-Version: 1 or for
another workspace are refused.

Without a usable login, serve exits 4 before printing anything.`,
		Example: `  eval "$(dbtdbx serve &)"        # in the background of this shell
  dbtdbx serve                     # in a terminal of its own; copy the export line
  dbtdbx serve --shell fish | source
  dbtdbx serve -o json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on: 127.0.0.1:PORT or localhost:PORT (port 0 picks a free one)")
	f.DurationVar(&o.minTTL, "min-ttl", token.DefaultMinTTL, "refresh when less than this is left (capped at half the token's lifetime, at least 30s)")
	choiceVarP(f, &o.shell, "shell", "", "sh", "shell", exportShells, "syntax: sh (bash, zsh), fish or powershell")
	choiceVarP(f, &o.output, "output", "o", "shell", "output format", []string{"shell", "json"}, "output format: shell or json")
	return c
}

func (o *serveOptions) run(ctx context.Context) error {
	if err := checkListen(o.listen); err != nil {
		return err
	}
	stopWith := "Ctrl-C or kill"
	if isNullDevice(o.stdin) {
		// A background job of a shell without job control, as in
		// eval "$(dbtdbx serve &)": it shares the shell's process group,
		// so Ctrl-C at the prompt would stop it. Such jobs ignore it.
		signal.Ignore(os.Interrupt)
		stopWith = "kill"
	}
	t, err := o.target()
	if err != nil {
		return err
	}
	o.warn(t)
	// Fail now, not at the first client, when there is no usable login.
	if _, err := o.accessToken(ctx, t, false, o.minTTL, token.MetadataMargin); err != nil {
		return err
	}
	svc, err := o.startTokenService(t, o.listen, o.minTTL)
	if err != nil {
		return err
	}
	defer stopTokenService(svc)

	vars := [][2]string{
		{"DATABRICKS_HOST", t.Host},
		{"DATABRICKS_AUTH_TYPE", authTypeMetadataService},
		{"DATABRICKS_METADATA_SERVICE_URL", svc.URL},
	}
	if o.output == "json" {
		m := map[string]string{}
		for _, v := range vars {
			m[v[0]] = v[1]
		}
		err = json.NewEncoder(o.stdout).Encode(m)
	} else {
		_, err = fmt.Fprint(o.stdout, exportVars(o.shell, vars))
	}
	if err != nil {
		return err
	}
	// Nothing more goes to stdout: closing it lets $(dbtdbx serve &) end.
	if f, ok := o.stdout.(*os.File); ok {
		_ = f.Close()
	}
	fmt.Fprintf(o.stderr, "dbtdbx: serving tokens for %s on %s (pid %d) until %s %d\n", t.Host, svc.Addr, os.Getpid(), stopWith, os.Getpid())
	<-ctx.Done()
	if o.log != nil {
		o.log.Debug("token service stopping", "reason", context.Cause(ctx))
	}
	return nil
}

// isNullDevice reports whether r is the null device, which is what a shell
// without job control gives its background jobs as stdin.
func isNullDevice(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(a, b)
}

// checkListen accepts the addresses token.ServeMetadata does, as a usage
// error otherwise.
func checkListen(addr string) error {
	host, port, ok := strings.Cut(addr, ":")
	if !ok || strings.Contains(port, ":") || (host != "127.0.0.1" && !strings.EqualFold(host, "localhost")) {
		return usageError{fmt.Errorf("--listen %q: use 127.0.0.1:PORT or localhost:PORT, the only hosts the Databricks SDKs accept for a token service", addr)}
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return usageError{fmt.Errorf("--listen %q: the port must be a number", addr)}
		}
	}
	if port == "" {
		return usageError{fmt.Errorf("--listen %q: name a port (0 picks a free one)", addr)}
	}
	return nil
}
