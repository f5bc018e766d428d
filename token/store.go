package token

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

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
