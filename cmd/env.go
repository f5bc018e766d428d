package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/token"
)

// lastingTTL is how long a token handed to another process must last (or 90%
// of its lifetime when that is shorter), since that process may keep it.
const lastingTTL = 50 * time.Minute

type envOptions struct {
	*globals
	shell  string
	output string
}

func newEnv(g *globals) *cobra.Command {
	o := &envOptions{globals: g}
	c := &cobra.Command{
		Use:   "env",
		Short: "Print DATABRICKS_HOST and a fresh DATABRICKS_TOKEN for eval",
		Long: `Print shell code that sets DATABRICKS_HOST and DATABRICKS_TOKEN, with a token
that has at least 50 minutes left (or 90% of its lifetime when that is shorter).
Tokens expire: for long runs prefer dbtdbx exec, or run env again.`,
		Example: `  eval "$(dbtdbx env)"
  dbtdbx env --shell fish | source
  dbtdbx env --shell powershell | Invoke-Expression
  dbtdbx env -o json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	choiceVarP(c.Flags(), &o.shell, "shell", "", "sh", "shell", exportShells, "syntax: sh (bash, zsh), fish or powershell")
	choiceVarP(c.Flags(), &o.output, "output", "o", "shell", "output format", []string{"shell", "json"}, "output format: shell or json")
	return c
}

func (o *envOptions) run(ctx context.Context) error {
	t, err := o.target()
	if err != nil {
		return err
	}
	o.warn(t)
	e, err := o.accessToken(ctx, t, false, token.DefaultMinTTL, lastingTTL)
	if err != nil {
		return err
	}
	vars := [][2]string{{"DATABRICKS_HOST", t.Host}, {"DATABRICKS_TOKEN", e.AccessToken}}
	if o.output == "json" {
		return json.NewEncoder(o.stdout).Encode(map[string]string{vars[0][0]: vars[0][1], vars[1][0]: vars[1][1]})
	}
	_, err = fmt.Fprint(o.stdout, exportVars(o.shell, vars))
	return err
}

// exportShells are the values of --shell: the syntaxes exportVars writes.
var exportShells = []string{"sh", "bash", "zsh", "fish", "powershell", "pwsh"}

// exportVars is shell code that sets vars, in the syntax of shell.
func exportVars(shell string, vars [][2]string) string {
	var b strings.Builder
	switch shell {
	case "fish":
		for _, v := range vars {
			fmt.Fprintf(&b, "set -gx %s '%s';\n", v[0], strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v[1]))
		}
	case "powershell", "pwsh":
		for _, v := range vars {
			fmt.Fprintf(&b, "$env:%s = '%s'\n", v[0], strings.ReplaceAll(v[1], "'", "''"))
		}
	default:
		b.WriteString("export")
		for _, v := range vars {
			fmt.Fprintf(&b, " %s=%s", v[0], shQuote(v[1]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// shQuote quotes s for POSIX shells.
func shQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
