package token

import st "github.com/dbtdbx/dbtdbx/token/stored"

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

var (
	Due             = st.Due
	Threshold       = st.Threshold
	Decode          = st.Decode
	DefaultFilePath = st.DefaultFilePath
	ReadRegular     = st.ReadRegular
	DefaultLockDir  = st.DefaultLockDir
	LockPath        = st.LockPath
	Acquire         = st.Acquire
	NewKernelCache  = st.NewKernelCache
	KeyringTimeout  = st.KeyringTimeout
)
