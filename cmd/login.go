package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pkg/browser"
	"github.com/spf13/cobra"

	"github.com/dbtdbx/dbtdbx/auth"
	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token"
)

type loginOptions struct {
	*globals
	timeout   time.Duration
	noBrowser bool

	pasted    chan string
	pasteOnce sync.Once
}

func newLogin(g *globals) *cobra.Command {
	o := &loginOptions{globals: g}
	c := &cobra.Command{
		Use:   "login",
		Short: "Log in through the browser and store the tokens",
		Long: `Log in to the workspace with OAuth (authorization code with PKCE): dbtdbx
listens on the redirect URL, opens the browser, and stores the access and
refresh tokens in the OS keyring.

With --no-browser (or BROWSER=none, or when no browser can be opened) dbtdbx
prints the URL and also takes the address the browser ends on, pasted on
stdin: for a browser on another machine, e.g. over SSH, that cannot reach
this machine's listener.`,
		Example: `  dbtdbx login --host https://adb-1234.5.azuredatabricks.net
  dbtdbx login --host dbc-abc.cloud.databricks.com --scopes sql --timeout 2m
  dbtdbx login --no-browser      # over SSH: open the URL on your laptop, paste back where it ends`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context()) },
	}
	c.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the browser")
	c.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser: print the URL and take the address the browser ends on from stdin")
	return c
}

func (o *loginOptions) run(ctx context.Context) error {
	if o.timeout <= 0 {
		return usageError{fmt.Errorf("--timeout must be positive, got %s", o.timeout)}
	}
	t, err := o.target()
	if err != nil {
		return err
	}
	o.warn(t)
	switch t.Auth {
	case config.AuthPAT:
		fmt.Fprintf(o.stderr, "Target %s uses the personal access token in %s: no login is needed.\n", targetName(t), t.ProfilesFile)
		return nil
	case config.AuthServicePrincipal:
		fmt.Fprintf(o.stderr, "Target %s is a service principal (client id %s): it needs no browser login; dbtdbx token, env and exec get its tokens with the client-credentials grant.\n", targetName(t), t.ClientID)
		return nil
	case config.AuthAzureServicePrincipal:
		return azureUnsupported(t)
	}
	store, err := o.store()
	if err != nil {
		return err
	}
	if _, ok := store.(token.None); ok {
		return usageError{errors.New("login needs somewhere to keep the tokens: --storage none keeps nothing (use keyring or file)")}
	}
	key := token.Key{Host: t.Host, ClientID: t.ClientID}
	// One login per key at a time, taken before the listener binds its
	// port: a second login waits for the first instead of failing on the port.
	release, waited, err := o.loginLock(ctx, key)
	if err != nil {
		return err
	}
	defer release()
	// Touch the store before the browser round trip, so a broken keyring
	// fails now rather than after the user has signed in.
	stored, err := store.Load(key)
	if err != nil && !errors.Is(err, token.ErrNotFound) && !errors.Is(err, token.ErrCorrupt) {
		return err
	}
	if waited && err == nil && len(stored.HasScopes(t.Scopes)) == 0 && stored.RefreshToken != "" {
		fmt.Fprintf(o.stderr, "The other login finished: logged in to %s with client %s; nothing more to do.\n", t.Host, t.ClientID)
		return nil
	}

	httpc := o.httpClient()
	ep, err := auth.Discover(ctx, httpc, t.Host)
	if err != nil {
		return err
	}
	client := &auth.Client{ClientID: t.ClientID, ClientSecret: t.ClientSecret, Endpoints: ep, HTTP: httpc}
	scopes := append(append([]string(nil), t.Scopes...), config.OfflineAccess)

	var wait *waiting
	var callbackAt time.Time
	o.pasted = make(chan string)
	login := &auth.Login{
		Client:      client,
		RedirectURL: t.RedirectURL,
		Scopes:      scopes,
		Timeout:     o.timeout,
		Pasted:      o.pasted,
		Notice:      func(msg string) { fmt.Fprintln(o.stderr, "dbtdbx:", msg) },
		Ready: func(authURL string) {
			o.openBrowser(authURL, t.RedirectURL)
			wait = startWaiting(o.stderr, time.Now().Add(o.timeout), o.getenv("NO_COLOR") == "")
		},
		Callback: func() {
			callbackAt = time.Now()
			wait.Stop()
		},
	}
	tok, err := login.Run(ctx)
	if wait != nil {
		wait.Stop()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return interrupted{"the login was cancelled and nothing was stored"}
	case errors.Is(err, auth.ErrTimeout):
		return withHint(fmt.Errorf("login %w; nothing was stored", err), "Run dbtdbx login again and finish the sign-in in the browser, or pass a longer --timeout.")
	case err != nil:
		return fmt.Errorf("login failed: %w", err)
	}

	e := token.EntryFromToken(tok, key, scopes, ep.TokenURL, time.Now())
	if err := store.Save(e); err != nil {
		return err
	}
	if o.log != nil {
		o.log.Debug("login stored", "since_callback", time.Since(callbackAt).Round(time.Microsecond), "store", store.Where())
	}
	refresh := "refreshed automatically"
	if e.RefreshToken == "" {
		refresh = "no refresh token was issued, so log in again when it expires"
	}
	fmt.Fprintf(o.stderr, "Logged in to %s with client %s (scopes %s); token valid until %s, %s.\n",
		t.Host, t.ClientID, strings.Join(e.Scopes, " "), e.Expiry.Local().Format("15:04"), refresh)
	return nil
}

// maxPasted is the longest line taken as a pasted address; the address the
// browser ends on is a few hundred bytes.
const maxPasted = 16 << 10

// readPasted sends each line of stdin to the login. A line too long to be
// the address is skipped with a message, and reading goes on.
func (o *loginOptions) readPasted() {
	r := bufio.NewReaderSize(o.stdin, maxPasted)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			fmt.Fprintln(o.stderr, "dbtdbx: that line is too long to be the address the browser ended on; paste the address again")
		} else if len(line) > 0 {
			o.pasted <- string(line)
		}
		if err != nil {
			return
		}
	}
}

// loginLock takes the login lock of key, waiting up to --timeout for a
// login already in progress.
func (o *loginOptions) loginLock(ctx context.Context, key token.Key) (release func(), waited bool, err error) {
	release, waited, err = o.lockOrWait(ctx, "login", key, o.timeout, "dbtdbx login",
		fmt.Sprintf("Another dbtdbx login for %s (client %s) is in progress; waiting up to %s for it to finish.", key.Host, key.ClientID, o.timeout))
	if errors.Is(err, token.ErrLockTimeout) {
		return nil, true, fmt.Errorf("another login is still in progress: %w", err)
	}
	return release, waited, err
}

// openBrowser prints the URL and, unless told not to, opens it in the
// background: some openers only exit once the page has loaded, and the
// listener must be serving by then. Nothing the opener prints reaches stdout.
// Without a browser, the address the browser ends on is also taken from stdin.
func (o *loginOptions) openBrowser(authURL, redirect string) {
	if o.noBrowser || o.getenv("BROWSER") == "none" {
		fmt.Fprintf(o.stderr, "Open this URL in a browser to log in:\n  %s\n", authURL)
		o.acceptPaste(redirect)
		return
	}
	fmt.Fprintf(o.stderr, "Opening %s in your browser.\n", authURL)
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	go func() {
		if err := browser.OpenURL(authURL); err != nil {
			fmt.Fprintf(o.stderr, "Could not open a browser (%v): open the URL above yourself.\n", err)
			o.acceptPaste(redirect)
		}
	}()
}

// acceptPaste starts reading stdin for the address the browser ends on.
func (o *loginOptions) acceptPaste(redirect string) {
	o.pasteOnce.Do(func() {
		fmt.Fprintf(o.stderr, "If the browser runs on another machine, paste here the address it ends on (it starts with %s).\n", redirect)
		go o.readPasted()
	})
}
