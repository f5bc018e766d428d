package token

import (
	"time"

	st "github.com/dbtdbx/dbtdbx/token/stored"
)

// The stored login, its file and its locks live in package stored, which
// the front binary links without the rest of this package; these names keep
// them where callers of package token look for them.
type (
	Key   = st.Key
	Entry = st.Entry
	Store = st.Store
	Cache = st.Cache
	File  = st.File
	Lock  = st.Lock
)

const (
	EntryVersion          = st.EntryVersion
	FileVersion           = st.FileVersion
	KeyringService        = st.KeyringService
	KernelCacheNamespace  = st.KernelCacheNamespace
	Floor                 = st.Floor
	DefaultMinTTL         = st.DefaultMinTTL
	DefaultLockWait       = st.DefaultLockWait
	DefaultKeyringTimeout = st.DefaultKeyringTimeout
	EnvKeyringTimeout     = st.EnvKeyringTimeout
)

var (
	ErrNotFound     = st.ErrNotFound
	ErrCorrupt      = st.ErrCorrupt
	ErrNotRegular   = st.ErrNotRegular
	ErrNewerVersion = st.ErrNewerVersion
	ErrLockTimeout  = st.ErrLockTimeout
)

// Due reports whether e must be refreshed before it is handed out (see package stored, Due).
func Due(e *Entry, now time.Time, minTTL, lasting time.Duration) bool {
	return st.Due(e, now, minTTL, lasting)
}

// Threshold is the time left below which e is due (see package stored, Threshold).
func Threshold(e *Entry, minTTL, lasting time.Duration) time.Duration {
	return st.Threshold(e, minTTL, lasting)
}

var (
	Decode          = st.Decode
	DefaultFilePath = st.DefaultFilePath
	ReadRegular     = st.ReadRegular
	DefaultLockDir  = st.DefaultLockDir
	LockPath        = st.LockPath
	Acquire         = st.Acquire
	NewKernelCache  = st.NewKernelCache
	KeyringTimeout  = st.KeyringTimeout
)
