package token

import (
	"fmt"
	"log/slog"
)

// WithKernelCache puts the kernel keyring cache (see KernelCache) in front
// of k where the system has one, and returns k as it is elsewhere. With read
// false, the cache is neither read nor filled, but every write to k still
// drops its copy, so a process with the cache off never leaves a stale copy
// for the processes that have it on. warn, when not nil, is told when a
// copy could not be dropped.
func WithKernelCache(k *Keyring, read bool, log *slog.Logger, warn func(string)) Store {
	c, ok := NewKernelCache(KernelCacheNamespace)
	if !ok {
		return k
	}
	if !read {
		c = dropOnly{c}
	}
	return &Cached{Store: k, Cache: c, Log: log, Warn: warn}
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
	// Log receives cache failures when not nil; a copy that could not be
	// made costs speed, not correctness.
	Log *slog.Logger
	// Warn, when not nil, is told when an old copy could not be dropped:
	// other processes may hand it out until it expires.
	Warn func(msg string)
}

// Peek implements Peeker.
func (c *Cached) Peek(key Key) (*Entry, bool) { return c.Cache.Get(key) }

// Where implements Store.
func (c *Cached) Where() string {
	if w := c.Cache.Where(); w != "" {
		return c.Store.Where() + " and the copy of its access token in " + w
	}
	return c.Store.Where()
}

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
	err := c.Cache.Drop(key)
	if err == nil {
		return
	}
	c.debug("could not drop the cached access token", "error", err)
	if c.Warn != nil {
		c.Warn(fmt.Sprintf("could not remove the copy of the access token for %s from %s (%v): other dbtdbx processes may hand out the old token until it expires; set DBTDBX_KEYRING_CACHE=off where this happens",
			key.Host, c.Cache.Where(), err))
	}
}

func (c *Cached) debug(msg string, args ...any) {
	if c.Log != nil {
		c.Log.Debug(msg, args...)
	}
}

// dropOnly is a Cache that is never read or filled, but still drops.
type dropOnly struct{ Cache }

func (dropOnly) Get(Key) (*Entry, bool) { return nil, false }
func (d dropOnly) Put(e *Entry) error   { return d.Drop(e.Key()) }
func (dropOnly) Where() string          { return "" }

var (
	_ Store  = (*Cached)(nil)
	_ Peeker = (*Cached)(nil)
)
