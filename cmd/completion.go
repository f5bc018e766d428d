package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// completionShells are the shells `dbtdbx completion` writes a script for,
// with how to load it and how to install it for every new session.
var completionShells = []struct {
	name, load, install, note string
	write                     func(root *cobra.Command, w io.Writer) error
}{
	{
		name:    "bash",
		load:    `source <(dbtdbx completion bash)`,
		install: `mkdir -p ~/.local/share/bash-completion/completions && dbtdbx completion bash > ~/.local/share/bash-completion/completions/dbtdbx`,
		write:   func(root *cobra.Command, w io.Writer) error { return root.GenBashCompletionV2(w, true) },
	},
	{
		name:    "zsh",
		load:    `autoload -U compinit && compinit && source <(dbtdbx completion zsh)`,
		install: `mkdir -p ~/.zfunc && dbtdbx completion zsh > ~/.zfunc/_dbtdbx`,
		note:    "\n\nand have these lines in ~/.zshrc:\n\n  fpath=(~/.zfunc $fpath)\n  autoload -U compinit; compinit",
		write:   func(root *cobra.Command, w io.Writer) error { return root.GenZshCompletion(w) },
	},
	{
		name:    "fish",
		load:    `dbtdbx completion fish | source`,
		install: `mkdir -p ~/.config/fish/completions && dbtdbx completion fish > ~/.config/fish/completions/dbtdbx.fish`,
		write:   func(root *cobra.Command, w io.Writer) error { return root.GenFishCompletion(w, true) },
	},
	{
		name:    "powershell",
		load:    `dbtdbx completion powershell | Out-String | Invoke-Expression`,
		install: `dbtdbx completion powershell >> $PROFILE`,
		write:   func(root *cobra.Command, w io.Writer) error { return root.GenPowerShellCompletionWithDesc(w) },
	},
}

// newCompletion replaces cobra's default completion command, whose scripts
// would go to the process's stdout rather than g.stdout and whose help has
// no examples.
func newCompletion(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "completion SHELL",
		Short: "Print the shell completion script for bash, zsh, fish or powershell",
		Long: `Prints a script that completes dbtdbx's commands and flags in your shell.
Load it in the current shell, or install it once for every new session.`,
		Example: `  source <(dbtdbx completion bash)                   # bash (needs bash-completion)
  autoload -U compinit && compinit && source <(dbtdbx completion zsh)   # zsh
  dbtdbx completion fish | source                    # fish
  dbtdbx completion powershell | Out-String | Invoke-Expression`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown shell %q: use bash, zsh, fish or powershell", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usageError{fmt.Errorf("name a shell: dbtdbx completion bash|zsh|fish|powershell")}
		},
	}
	for _, sh := range completionShells {
		c.AddCommand(&cobra.Command{
			Use:   sh.name,
			Short: "Print the completion script for " + sh.name,
			Long: fmt.Sprintf(`Prints the completion script for %s.

To load it in the current shell:

  %s

To load it in every new session, run once:

  %s%s`, sh.name, sh.load, sh.install, sh.note),
			Example:           "  " + sh.load + "\n  " + sh.install,
			Args:              noArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(c *cobra.Command, _ []string) error {
				return sh.write(c.Root(), g.stdout)
			},
		})
	}
	return c
}

// registerCompletions adds the completion command, completes the values of
// the flags that have a fixed set, and gives cobra's help command an
// example like every other command.
func registerCompletions(g *globals, root *cobra.Command) {
	root.AddCommand(newCompletion(g))
	_ = root.RegisterFlagCompletionFunc("storage", cobra.FixedCompletions([]string{"keyring", "file", "none"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.MarkPersistentFlagDirname("project-dir")
	_ = root.MarkPersistentFlagDirname("profiles-dir")
	for _, c := range root.Commands() {
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if ch, ok := f.Value.(*choice); ok {
				_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(ch.allowed, cobra.ShellCompDirectiveNoFileComp))
			}
		})
	}
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Example = "  dbtdbx help token"
		}
	}
}
