package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/internal/front"
	"github.com/dbtdbx/dbtdbx/token"
)

type tokenOptions struct {
	*globals
	refresh bool
	minTTL  time.Duration
	output  string
}

func newToken(g *globals) *cobra.Command {
	o := &tokenOptions{globals: g}
	c := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token, refreshing it when due",
		Long: `Print a valid access token and one newline on stdout, nothing else. The token
is refreshed first when less than max(30s, min(--min-ttl, half its lifetime))
is left. Never opens a browser: without a usable login it exits 4.`,
		Example: `  export DATABRICKS_TOKEN=$(dbtdbx token)
  dbtdbx token --refresh -o json
  curl -H "$(dbtdbx token -o header)" "$DATABRICKS_HOST/api/2.0/clusters/list"`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	f := c.Flags()
	f.BoolVar(&o.refresh, "refresh", false, "refresh the token even if it is not due")
	f.DurationVar(&o.minTTL, "min-ttl", token.DefaultMinTTL, "refresh when less than this is left (capped at half the token's lifetime, at least 30s)")
	choiceVarP(f, &o.output, "output", "o", front.DefaultOutput, "output format", front.Outputs, "output format: text, json or header")
	return c
}

func (o *tokenOptions) run(ctx context.Context) error {
	if o.minTTL <= 0 {
		return usageError{fmt.Errorf("--min-ttl must be positive, got %s", o.minTTL)}
	}
	t, err := o.target()
	if err != nil {
		return err
	}
	o.warn(t)
	e, err := o.accessToken(ctx, t, o.refresh, o.minTTL, 0)
	if err != nil {
		return err
	}
	return front.Print(o.stdout, e, o.output)
}
