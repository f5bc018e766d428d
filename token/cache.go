package token

import "log/slog"

// WithKernelCache puts the kernel keyring cache (see KernelCache) in front
// of k where the system has one, and returns k as it is elsewhere. bus is
// the address of the session bus k's Secret Service answers on: caches of
// different buses do not mix.
func WithKernelCache(k *Keyring, bus string, log *slog.Logger) Store {
	c, ok := NewKernelCache(KeyringService + "\x00" + bus)
	if !ok {
		return k
	}
	return &Cached{Store: k, Cache: c, Log: log}
}

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

// Peeker is a Store that can hand out a login's access token without
// reading the store itself. Source peeks before it loads, and loads when
// the peeked entry is missing or due.
type Peeker interface {
	Peek(key Key) (*Entry, bool)
}

// Cached is a Store with a Cache in front: every Save and Delete writes
// through to Cache, and Peek reads Cache alone. Only writes fill the cache,
// never loads: a process that read an old entry must not cache it over the
// one another process has just saved.
type Cached struct {
	Store
	Cache Cache
	// Log receives cache failures when not nil; they cost speed, not
	// correctness, so they are not errors.
	Log *slog.Logger
}

// Where implements Store.
func (c *Cached) Where() string {
	return c.Store.Where() + ", access tokens also cached in " + c.Cache.Where()
}

// Peek implements Peeker.
func (c *Cached) Peek(key Key) (*Entry, bool) { return c.Cache.Get(key) }

// Save implements Store. The old copy is dropped before the store is
// written and the new one cached after, so a crash or failure in between
// leaves the cache empty rather than stale.
func (c *Cached) Save(e *Entry) error {
	c.drop(e.Key())
	if err := c.Store.Save(e); err != nil {
		return err
	}
	if err := c.Cache.Put(e); err != nil {
		c.debug("could not cache the access token", "error", err)
		c.drop(e.Key())
	}
	return nil
}

// Delete implements Store.
func (c *Cached) Delete(key Key) error {
	c.drop(key)
	return c.Store.Delete(key)
}

func (c *Cached) drop(key Key) {
	if err := c.Cache.Drop(key); err != nil {
		c.debug("could not drop the cached access token", "error", err)
	}
}

func (c *Cached) debug(msg string, args ...any) {
	if c.Log != nil {
		c.Log.Debug(msg, args...)
	}
}

// cacheCopy is what a Cache keeps of e: everything but the refresh token
// and the token endpoint.
func cacheCopy(e *Entry) *Entry {
	c := *e
	c.RefreshToken, c.TokenURL = "", ""
	return &c
}

var (
	_ Store  = (*Cached)(nil)
	_ Peeker = (*Cached)(nil)
)
