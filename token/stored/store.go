// Package stored is the part of package token that reads a stored login
// without a network, a keyring library or an OAuth client: the entry
// format, the token file, the locks around it, the kernel keyring cache and
// when an access token is due. dbtdbx's small front binary links it alone,
// so a cached token costs little more than starting a process.
package stored

import (
	"errors"
	"fmt"
	"math"
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
	// A number of seconds, short of what a Duration holds (about 292 years;
	// Inf, NaN and larger would wrap to a negative one).
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 && n < float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(n * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%s=%q is not a positive duration: use for example 10s", EnvKeyringTimeout, v)
}

// EnvKeyringCache turns the kernel keyring cache in front of the Secret
// Service off ("off") or on ("on", the default).
const EnvKeyringCache = "DBTDBX_KEYRING_CACHE"

// KernelCacheOn reads EnvKeyringCache: on or off, in any case, or as
// DBTDBX_DEBUG is spelled (1, true, yes; 0, false, no). Unset is on.
func KernelCacheOn(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "on", "1", "true", "yes":
		return true, nil
	case "off", "0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: use on or off", EnvKeyringCache, v)
}

// KernelCacheNamespace is the namespace of the kernel keyring cache that
// dbtdbx puts in front of the OS keyring. It is one per user, not one per
// Secret Service or bus address: the same bus can be spelled in several
// ways, and a write through any of them must drop the copy all of them see.
const KernelCacheNamespace = KeyringService

// Cache keeps copies of access tokens, never refresh tokens, somewhere a
// read costs less than a read of the Store behind it. A Cache may lose
// entries at any time; it must never return one for another key.
type Cache interface {
	// Get returns the cached entry for key. Its RefreshToken and TokenURL
	// are empty.
	Get(key Key) (*Entry, bool)
	// Put caches e's access token until it expires.
	Put(e *Entry) error
	// Drop forgets the entry for key.
	Drop(key Key) error
	// Where says in words where copies are kept.
	Where() string
}

// cacheCopy is what a Cache keeps of e: everything but the refresh token
// and the token endpoint.
func cacheCopy(e *Entry) *Entry {
	c := *e
	c.RefreshToken, c.TokenURL = "", ""
	return &c
}

// Floor is the least lifetime a handed-out token may have: Databricks
// rejects tokens with 30 s or less left.
const Floor = 30 * time.Second

// DefaultMinTTL is the default for token.Source's MinTTL.
const DefaultMinTTL = 5 * time.Minute

// Due reports whether e must be refreshed before it is handed out: when less
// than Threshold is left.
func Due(e *Entry, now time.Time, minTTL, lasting time.Duration) bool {
	return e.AccessToken == "" || e.Expiry.Sub(now) < Threshold(e, minTTL, lasting)
}

// Threshold is the time left below which e is due: max(Floor, min(minTTL,
// half its full lifetime)), so short-lived tokens are not refreshed on every
// call and no token with Floor or less left is handed out. A token handed to
// a process that keeps it (lasting > 0) must also have min(lasting, 90% of
// its lifetime) left.
func Threshold(e *Entry, minTTL, lasting time.Duration) time.Duration {
	life := e.Lifetime()
	th := max(Floor, min(minTTL, life/2))
	if lasting > 0 {
		th = max(th, min(lasting, life*9/10))
	}
	return th
}
