// Package front is all the dbtdbx binary does before it hands over to
// dbtdbx-core: `dbtdbx token` on a login whose access token is stored and
// not due is printed here, from the token file or the kernel keyring cache,
// by a binary that links no HTTP, OAuth, D-Bus or command-line framework, so
// it costs little more than starting a process. Everything else, and
// anything here that is not plainly the common case (a flag it does not
// know, a store it cannot read, a token that is due, --debug), is left to
// dbtdbx-core, which does the same work in full and reports any error.
package front

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dbtdbx/dbtdbx/config"
	"github.com/dbtdbx/dbtdbx/token/stored"
)

// Defaults the core's flags share; they live here because the core links
// this package and the front links nothing of the core.
const (
	DefaultHTTPTimeout = 30 * time.Second
	DefaultOutput      = "text"
)

// Outputs are the formats of `dbtdbx token -o`.
var Outputs = []string{"text", "json", "header"}

// EnvStorage chooses the store like --storage.
const EnvStorage = "DBTDBX_STORAGE"

// options are the flags of `dbtdbx token` as the core defines them.
type options struct {
	flags                         config.Flags
	debug, refresh                bool
	httpTimeout, lockWait, minTTL time.Duration
	storage, output               string
}

// FlagSet returns the flags the front understands: the core's persistent
// flags and those of its token command, with the same names, shorthands,
// types and defaults (a test in package cmd holds the two together). Any
// other flag makes the front hand over.
func FlagSet() *pflag.FlagSet { return flagSet(&options{}) }

func flagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("dbtdbx token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.flags.Host, "host", "", "")
	fs.StringVar(&o.flags.ClientID, "client-id", "", "")
	fs.StringVar(&o.flags.Scopes, "scopes", "", "")
	fs.StringVar(&o.flags.RedirectURL, "redirect-url", "", "")
	fs.StringVar(&o.flags.ProjectDir, "project-dir", "", "")
	fs.StringVar(&o.flags.ProfilesDir, "profiles-dir", "", "")
	fs.StringVar(&o.flags.Profile, "profile", "", "")
	fs.StringVarP(&o.flags.Target, "target", "t", "", "")
	fs.BoolVar(&o.debug, "debug", false, "")
	fs.DurationVar(&o.httpTimeout, "http-timeout", DefaultHTTPTimeout, "")
	fs.StringVar(&o.storage, "storage", "", "")
	fs.DurationVar(&o.lockWait, "lock-timeout", stored.DefaultLockWait, "")
	fs.BoolVar(&o.refresh, "refresh", false, "")
	fs.DurationVar(&o.minTTL, "min-ttl", stored.DefaultMinTTL, "")
	fs.StringVarP(&o.output, "output", "o", DefaultOutput, "")
	return fs
}

// EnvDebug turns on --debug: 1, true, yes or on, in any case; anything else
// is off.
const EnvDebug = "DBTDBX_DEBUG"

// DebugOn reads EnvDebug's value v.
func DebugOn(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Token serves `dbtdbx token` when args (without the program name) ask for
// it and the token can be printed as it is stored. served is false when the
// core must run instead; nothing has been written then. When served, code
// is the exit code: 0, or 1 when stdout could not be written. clock is read
// once the profile and the token have been read, which may take seconds (a
// profile's Jinja), so that a token due by then is not printed.
func Token(args []string, env config.Env, clock func() time.Time, stdout, stderr io.Writer) (code int, served bool) {
	e, output, ok := cached(args, env, clock)
	if !ok {
		return 0, false
	}
	if err := Print(stdout, e, output); err != nil {
		fmt.Fprintf(stderr, "dbtdbx: %v\n", err)
		return 1, true
	}
	return 0, true
}

// cached returns the entry to print and the output format, ok false when
// the core must run.
func cached(args []string, env config.Env, clock func() time.Time) (e *stored.Entry, output string, ok bool) {
	// `dbtdbx token` with flags before or after the command name, parsed
	// by the same library as the core's, which finds the command the same
	// way for these flags; "--" is left to the core.
	if slices.Contains(args, "--") {
		return nil, "", false
	}
	var o options
	fs := flagSet(&o)
	if fs.Parse(args) != nil || fs.NArg() != 1 || fs.Arg(0) != "token" {
		return nil, "", false
	}
	if o.debug || DebugOn(env.Get(EnvDebug)) || o.refresh ||
		o.httpTimeout <= 0 || o.lockWait <= 0 || o.minTTL <= 0 || !slices.Contains(Outputs, o.output) {
		return nil, "", false
	}
	t, err := config.Resolve(o.flags, env)
	if err != nil || t.Auth != config.AuthLogin || len(t.Warnings) > 0 { // the core prints warnings
		return nil, "", false
	}
	key := stored.Key{Host: t.Host, ClientID: t.ClientID}
	e, ok = load(o.storage, env.Get, key)
	if !ok || len(e.HasScopes(t.Scopes)) > 0 || stored.Due(e, clock(), o.minTTL, 0) || !BearerToken(e.AccessToken) {
		return nil, "", false
	}
	return e, o.output, true
}

// load reads key's entry from the store --storage (or EnvStorage) names,
// as the core would choose it, where that needs neither a keyring library
// nor a write: the token file, or the kernel keyring cache in front of the
// Secret Service.
func load(storage string, getenv func(string) string, key stored.Key) (*stored.Entry, bool) {
	if storage == "" {
		storage = getenv(EnvStorage)
	}
	switch storage {
	case "file":
		path, err := stored.DefaultFilePath(getenv)
		if err != nil {
			return nil, false
		}
		return file(path, key)
	case "keyring":
		return kernelCache(getenv, key)
	case "":
		// The keyring, unless settings.json beside the token file says
		// this machine has none; the core refuses keyring settings it
		// cannot read either way.
		if _, ok := cacheOn(getenv); !ok {
			return nil, false
		}
		path, err := stored.DefaultFilePath(getenv)
		if err != nil {
			return kernelCache(getenv, key)
		}
		s, err := stored.ReadSettings(stored.SettingsPath(path))
		switch {
		case errors.Is(err, stored.ErrNotRegular):
			return nil, false
		case err == nil && s.Storage == "file":
			return file(path, key)
		}
		return kernelCache(getenv, key)
	}
	return nil, false
}

func file(path string, key stored.Key) (*stored.Entry, bool) {
	e, err := (&stored.File{Path: path}).Peek(key)
	return e, err == nil
}

// kernelCache reads the copy of the access token the core keeps in the
// kernel keyring when it writes the OS keyring; the settings the core would
// refuse, or that turn the cache off, leave it to the core.
func kernelCache(getenv func(string) string, key stored.Key) (*stored.Entry, bool) {
	if on, ok := cacheOn(getenv); !on || !ok {
		return nil, false
	}
	c, ok := stored.NewKernelCache(stored.KernelCacheNamespace)
	if !ok {
		return nil, false
	}
	return c.Get(key)
}

// cacheOn reports whether the kernel keyring cache is on; ok is false when
// the keyring's settings in the environment are not ones the core accepts.
func cacheOn(getenv func(string) string) (on, ok bool) {
	if _, err := stored.KeyringTimeout(getenv); err != nil {
		return false, false
	}
	on, err := stored.KernelCacheOn(getenv(stored.EnvKeyringCache))
	return on, err == nil
}

// Print writes e's access token to w in output's format: text (the token
// and a newline), json, or header (an Authorization header line).
func Print(w io.Writer, e *stored.Entry, output string) error {
	var err error
	switch output {
	case "json":
		out := struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			Expiry      string `json:"expiry,omitempty"`
		}{AccessToken: e.AccessToken, TokenType: TokenType(e)}
		if !e.Expiry.IsZero() {
			out.Expiry = e.Expiry.UTC().Format(time.RFC3339)
		}
		return json.NewEncoder(w).Encode(out)
	case "header":
		_, err = fmt.Fprintf(w, "Authorization: Bearer %s\n", e.AccessToken)
	default:
		_, err = fmt.Fprintln(w, e.AccessToken)
	}
	return err
}

// TokenType is e's token type as an Authorization header spells it.
func TokenType(e *stored.Entry) string {
	if e.TokenType == "" || strings.EqualFold(e.TokenType, "bearer") {
		return "Bearer"
	}
	return e.TokenType
}

// BearerToken reports whether tok can be printed on a line of its own and
// sent in an Authorization header as it is: visible ASCII only (RFC 6750's
// token68 and more), so no caller gets a second line or header from it.
func BearerToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return false
		}
	}
	return tok != ""
}
