package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbtdbx/dbtdbx/internal/front"
	"github.com/dbtdbx/dbtdbx/token"
	"github.com/dbtdbx/dbtdbx/token/stored"
)

// EnvStorage chooses the store like --storage.
const EnvStorage = front.EnvStorage

// store opens the token store that --storage (or DBTDBX_STORAGE) names:
// keyring, file, none, or by default the OS keyring with a fall back to
// the file on a machine that has none, remembered in settings.json.
func (g *globals) store() (token.Store, error) {
	if g.opened != nil {
		return g.opened, nil
	}
	mode, from := g.storage, "--storage"
	if mode == "" {
		mode, from = g.getenv(EnvStorage), EnvStorage
	}
	var err error
	switch mode {
	case "keyring":
		g.opened, err = g.keyring()
		g.storeNote = "chosen with " + from
	case "file":
		g.opened, err = g.fileStore()
		g.storeNote = "chosen with " + from
	case "none":
		g.opened = token.None{}
		g.storeNote = "chosen with " + from
	case "":
		g.opened, err = g.defaultStore()
	default:
		err := fmt.Errorf("%s %q is not a storage mode: use keyring, file or none", from, mode)
		if from == EnvStorage {
			return nil, err // configuration, not how dbtdbx was called
		}
		return nil, usageError{err}
	}
	if err != nil {
		g.opened = nil
	}
	return g.opened, err
}

// EnvKeyringCache turns the kernel keyring cache in front of the Secret
// Service off ("off") or on ("on", the default).
const EnvKeyringCache = stored.EnvKeyringCache

// keyring opens the OS keyring. On Linux, access tokens (never refresh
// tokens) are also cached in the kernel's user keyring, so a valid token is
// handed out without a D-Bus connection to the Secret Service. With the
// cache off, writes still drop the cached copy that other processes read.
func (g *globals) keyring() (token.Store, error) {
	timeout, err := token.KeyringTimeout(g.getenv)
	if err != nil {
		return nil, err
	}
	read, err := stored.KernelCacheOn(g.getenv(EnvKeyringCache))
	if err != nil {
		return nil, err
	}
	return token.WithKernelCache(&token.Keyring{Timeout: timeout}, read, g.log, g.warnf), nil
}

func (g *globals) fileStore() (*token.File, error) {
	path, err := token.DefaultFilePath(g.getenv)
	if err != nil {
		return nil, err
	}
	return &token.File{Path: path, Warn: g.warnf}, nil
}

func (g *globals) warnf(msg string) { fmt.Fprintln(g.stderr, "dbtdbx: warning:", msg) }

// defaultStore is the keyring, or the file when settings.json says this
// machine has no keyring; the first time the keyring turns out not to exist,
// it switches to the file, says so once and remembers it.
func (g *globals) defaultStore() (token.Store, error) {
	kr, err := g.keyring()
	if err != nil {
		return nil, err
	}
	g.storeNote = ""
	file, err := g.fileStore()
	if err != nil {
		// Nowhere to fall back to: the keyring or nothing.
		return kr, nil
	}
	path := stored.SettingsPath(file.Path)
	s, err := stored.ReadSettings(path)
	if errors.Is(err, stored.ErrNotRegular) {
		return nil, err
	}
	if err == nil && s.Storage == "file" {
		g.storeNote = fmt.Sprintf("no keyring was found on %s (%s); remembered in %s: remove that file or pass --storage keyring to use a keyring again",
			s.Since.Local().Format(time.DateOnly), s.Reason, path)
		return file, nil
	}
	return &token.Fallback{Primary: kr, Secondary: file, OnFallback: func(cause error) {
		s := stored.Settings{Version: 1, Storage: "file", Since: time.Now().UTC().Truncate(time.Second), Reason: "no Secret Service on the session bus"}
		if errors.Is(cause, token.ErrNoKeyring) && g.getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			s.Reason = "no D-Bus session bus"
		}
		remembered := "dbtdbx remembers this in " + path
		if err := stored.WriteSettings(path, s); err != nil {
			remembered = "could not remember this: " + err.Error()
		}
		g.storeNote = fmt.Sprintf("no keyring was found (%s); %s: remove that file or pass --storage keyring to use a keyring again", s.Reason, remembered)
		g.warnf(fmt.Sprintf("no keyring on this machine (%s): keeping tokens in the file %s, readable only by you. %s; pass --storage keyring to insist on a keyring.",
			s.Reason, file.Path, remembered))
	}}, nil
}

// lockOrWait is lock, but when another process holds the lock it first
// prints waiting, so the user knows why nothing happens, then waits up to
// wait. waited says whether it had to.
func (g *globals) lockOrWait(ctx context.Context, purpose string, key token.Key, wait time.Duration, what, waiting string) (release func(), waited bool, err error) {
	release, err = g.lock(ctx, purpose, key, time.Millisecond, what)
	if !errors.Is(err, token.ErrLockTimeout) {
		return release, false, err
	}
	fmt.Fprintln(g.stderr, waiting)
	release, err = g.lock(ctx, purpose, key, wait, what)
	return release, true, err
}

// lock takes the cross-process lock of key for purpose ("refresh",
// "login"), waiting up to wait for the process that holds it.
func (g *globals) lock(ctx context.Context, purpose string, key token.Key, wait time.Duration, what string) (release func(), err error) {
	dir, err := token.DefaultLockDir(g.getenv)
	if err != nil {
		return nil, err
	}
	l, err := token.Acquire(ctx, token.LockPath(dir, purpose, key), wait, what)
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}
