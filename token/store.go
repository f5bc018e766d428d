package token

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/zalando/go-keyring"
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
	return 0, fmt.Errorf("%s=%q is not a duration: use for example 10s", EnvKeyringTimeout, v)
}

// Keyring is the Store backed by the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows). Every call is bounded by
// Timeout, because a locked keyring can block forever.
type Keyring struct {
	Timeout time.Duration
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

func (k *Keyring) call(what string, f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
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
		if r.err != nil && !errors.Is(r.err, keyring.ErrNotFound) {
			return "", fmt.Errorf("%s: could not %s: %v", KeyringName(), what, r.err)
		}
		return r.v, r.err
	case <-timer.C:
		return "", fmt.Errorf("%w: the %s did not answer within %s while trying to %s (is it locked? unlock it, or set %s=30s to wait longer)",
			ErrKeyringTimeout, KeyringName(), timeout, what, EnvKeyringTimeout)
	}
}

// Load implements Store.
func (k *Keyring) Load(key Key) (*Entry, error) {
	v, err := k.call("read the stored login", func() (string, error) { return keyring.Get(KeyringService, key.String()) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e, err := Decode([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%s entry %q: %w", KeyringName(), key, err)
	}
	return e, nil
}

// Save implements Store.
func (k *Keyring) Save(e *Entry) error {
	b, err := e.Encode()
	if err != nil {
		return err
	}
	_, err = k.call("store the login", func() (string, error) { return "", keyring.Set(KeyringService, e.Key().String(), string(b)) })
	return err
}

// Delete implements Store.
func (k *Keyring) Delete(key Key) error {
	_, err := k.call("remove the stored login", func() (string, error) { return "", keyring.Delete(KeyringService, key.String()) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

var _ Store = (*Keyring)(nil)
