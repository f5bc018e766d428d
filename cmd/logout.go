package cmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/internal/version"
	"github.com/dbtdbx/dbtdbx/token"
)

func newLogout(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored tokens for the target",
		Long: `Remove the stored access and refresh tokens of the target from the store,
and on Linux the copy of the access token in the kernel keyring, so that
token and exec need a new login. The tokens are not revoked at the server:
an access token already handed out works until it expires.`,
		Example: `  dbtdbx logout --host https://adb-1234.5.azuredatabricks.net`,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			t, err := g.target()
			if err != nil {
				return err
			}
			g.warn(t)
			if t.Auth == config.AuthPAT {
				fmt.Fprintf(g.stderr, "Target %s uses the personal access token in %s; dbtdbx keeps nothing for it, so there is nothing to remove.\n", targetName(t), t.ProfilesFile)
				return nil
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			key := token.Key{Host: t.Host, ClientID: t.ClientID}
			// A refresh in flight saves the rotated login when it ends, which
			// would undo the logout: hold the lock refreshes hold, so that it
			// finishes (and saves) first and its login is removed, and a
			// refresh that starts later re-reads the store and finds none.
			release, err := g.logoutLock(c.Context(), key)
			if err != nil {
				return err
			}
			defer release()
			_, err = store.Load(key)
			had := !errors.Is(err, token.ErrNotFound)
			if err := store.Delete(key); err != nil {
				return err
			}
			if had {
				fmt.Fprintf(g.stderr, "Logged out of %s (client %s): removed the tokens from the %s.\n", t.Host, t.ClientID, store.Where())
			} else {
				fmt.Fprintf(g.stderr, "No login was stored for %s (client %s); nothing to remove.\n", t.Host, t.ClientID)
			}
			if f, ok := store.(*token.File); ok {
				if aside, _ := filepath.Glob(f.Path + ".corrupt-*"); len(aside) > 0 {
					fmt.Fprintf(g.stderr, "Token files moved aside as unreadable may still hold tokens; delete them if you do not need them: %s\n", strings.Join(aside, " "))
				}
			}
			return nil
		},
	}
}

// logoutLock takes the refresh lock of key, waiting up to --lock-timeout
// for a refresh in progress.
func (g *globals) logoutLock(ctx context.Context, key token.Key) (release func(), err error) {
	release, _, err = g.lockOrWait(ctx, "refresh", key, g.lockWait, "dbtdbx "+g.command,
		fmt.Sprintf("Another dbtdbx is refreshing the login of %s (client %s); waiting up to %s for it to finish before removing it.", key.Host, key.ClientID, g.lockWait))
	if errors.Is(err, token.ErrLockTimeout) {
		return nil, fmt.Errorf("nothing was removed for %s (client %s): %w", key.Host, key.ClientID, err)
	}
	return release, err
}

func newVersion(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: `  dbtdbx version`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(g.stdout, "dbtdbx %s\n", version.String())
			return err
		},
	}
}
