package token

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by a Store that holds no entry for a key.
var ErrNotFound = errors.New("no stored login")

// Store keeps entries by key. Implementations are safe for use by one
// process at a time; package token serialises writers across processes.
type Store interface {
	// Load returns the entry for key, ErrNotFound when there is none, or an
	// error wrapping ErrCorrupt when the stored bytes are unusable.
	Load(key Key) (*Entry, error)
	// Save replaces the entry for e.Key().
	Save(e *Entry) error
	// Delete removes the entry for key; deleting a missing entry is not an error.
	Delete(key Key) error
	// Where says in words where entries are kept.
	Where() string
}

// KeyringService is the service name of every keyring entry dbtdbx writes.
const KeyringService = "dbtdbx"

// DefaultKeyringTimeout bounds each keyring call; EnvKeyringTimeout changes it.
const (
	DefaultKeyringTimeout = 3 * time.Second
	EnvKeyringTimeout     = "DBTDBX_KEYRING_TIMEOUT"
)

// KeyringTimeout reads EnvKeyringTimeout ("10s", or a number of seconds).
func KeyringTimeout(getenv func(string) string) (time.Duration, error) {
	v := getenv(EnvKeyringTimeout)
	if v == "" {
		return DefaultKeyringTimeout, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%s=%q is not a positive duration: use for example 10s", EnvKeyringTimeout, v)
}

// Keyring is the Store backed by the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows). Every call is bounded by
// Timeout, because a locked keyring can block forever. An entry larger than
// the keyring takes is split into parts (see keyring.go). The zero value uses
// the OS keyring with the defaults below.
type Keyring struct {
	// Timeout bounds each keyring call. Zero means DefaultKeyringTimeout.
	Timeout time.Duration
	// MaxValue is the largest value, in bytes, written under one account; a
	// larger entry is split into parts that each fit. Zero means
	// DefaultKeyringMaxValue() for this OS; a negative value means no limit.
	MaxValue int
	// Backend is the keyring itself. Nil means the OS keyring through
	// github.com/zalando/go-keyring.
	Backend KeyringBackend
}

// KeyringName names this OS's keyring for messages.
func KeyringName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		return "Secret Service keyring"
	}
}

// Where says which keyring holds the entries.
func (k *Keyring) Where() string {
	return fmt.Sprintf("%s (service %q)", KeyringName(), KeyringService)
}

// ErrKeyringTimeout is wrapped when the keyring does not answer in time.
var ErrKeyringTimeout = errors.New("keyring did not answer")

// call runs f with k's timeout, once more (twice at most) when the item f
// found was removed before f could read or change it, as by a logout or a
// Save in another process: f then searches again and finds what is there
// now. A missing secret comes back as the backend's not-found error
// unchanged; other errors say what failed and wrap ErrNoKeyring when there
// is no keyring at all.
func (k *Keyring) call(what string, f func(b KeyringBackend) (string, error)) (v string, err error) {
	for range 3 {
		if v, err = k.callOnce(what, f); !itemVanished(err) {
			break
		}
	}
	return v, err
}

// itemVanished reports whether err is the Secret Service's answer for an
// item that a search had found but that was deleted since.
func itemVanished(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, `No such interface "org.freedesktop.Secret.Item"`) || strings.Contains(msg, "Object does not exist at path")
}

func (k *Keyring) callOnce(what string, f func(b KeyringBackend) (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	b := k.Backend
	if b == nil {
		b = osKeyring{}
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(b)
		ch <- result{v, err}
	}()
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err == nil || isNotFound(r.err) {
			return r.v, r.err
		}
		if why := noKeyringReason(r.err); why != "" {
			return "", keyringError{fmt.Errorf("%w: %s: could not %s: %w", ErrNoKeyring, KeyringName(), what, reasoned{why, r.err})}
		}
		return "", keyringError{fmt.Errorf("%s: could not %s: %w", KeyringName(), what, r.err)}
	case <-timer.C:
		return "", keyringError{fmt.Errorf("%w: the %s did not answer within %s while trying to %s (is it locked? unlock it, or set %s=30s to wait longer)",
			ErrKeyringTimeout, KeyringName(), timeout, what, EnvKeyringTimeout)}
	}
}

// ErrKeyring is matched (errors.Is) by every failure of the keyring itself:
// no keyring, a timeout, a locked or broken one. Not by ErrNotFound, nor by
// ErrCorrupt for entries it returned but that do not decode.
var ErrKeyring = errors.New("keyring failed")

type keyringError struct{ err error }

func (e keyringError) Error() string        { return e.err.Error() }
func (e keyringError) Unwrap() error        { return e.err }
func (e keyringError) Is(target error) bool { return target == ErrKeyring }

var _ Store = (*Keyring)(nil)
