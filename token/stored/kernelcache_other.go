//go:build !linux

package stored

// NewKernelCache returns the kernel keyring cache for namespace; ok is
// false on systems that have none, like this one.
func NewKernelCache(namespace string) (c Cache, ok bool) {
	return nil, false
}
