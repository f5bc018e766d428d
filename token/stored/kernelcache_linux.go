package stored

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// KernelCache is the Cache in the Linux kernel's user keyring (keyrings(7)):
// in kernel memory, never on disk or in swap, readable by the user's own
// processes, gone at reboot, and each key removed by the kernel when its
// token stops being usable. Reading it is two system calls, where the
// Secret Service costs a D-Bus connection and a dozen round trips.
type KernelCache struct {
	// Namespace separates the tokens of different stores: entries cached
	// for one Secret Service are not seen through another.
	Namespace string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewKernelCache returns the kernel keyring cache for namespace; ok is
// false on systems that have none.
func NewKernelCache(namespace string) (c Cache, ok bool) {
	return &KernelCache{Namespace: namespace}, true
}

const (
	// keyType is the kernel's general-purpose key type.
	keyType = "user"
	// keyPerm lets every process of the user, whether or not it possesses
	// the user keyring (a process in a session of its own does not), read,
	// replace and drop the key: otherwise a logout there could not remove
	// a copy that processes elsewhere go on reading. Other users get
	// nothing. (KEY_POS_ALL | KEY_USR_ALL of <linux/keyctl.h>, which
	// x/sys/unix does not name.)
	keyPerm = 0x3f000000 | 0x003f0000
)

// description names the key for key: a hash, so /proc/keys shows neither
// hosts nor client IDs.
func (c *KernelCache) description(key Key) string {
	sum := sha256.Sum256([]byte(c.Namespace + "\x00" + key.String()))
	return "dbtdbx:" + hex.EncodeToString(sum[:16])
}

func (c *KernelCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *KernelCache) find(key Key) (int, error) {
	return unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, keyType, c.description(key), 0)
}

// Where implements Cache.
func (c *KernelCache) Where() string { return "the kernel keyring (keyctl)" }

// Get implements Cache.
func (c *KernelCache) Get(key Key) (*Entry, bool) {
	id, err := c.find(key)
	if err != nil {
		return nil, false
	}
	buf := make([]byte, 4096)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, false
		}
		if n <= len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, n)
	}
	e, err := Decode(buf)
	if err != nil || e.Key() != key || e.AccessToken == "" {
		return nil, false
	}
	return e, true
}

// Put implements Cache. The key lives until the token has Floor left. The
// old key is dropped and a new one added, rather than updated in place: an
// update would clear the old key's timeout.
func (c *KernelCache) Put(e *Entry) error {
	if err := c.Drop(e.Key()); err != nil {
		return err
	}
	left := e.Expiry.Sub(c.now()) - Floor
	if e.AccessToken == "" || left < time.Second {
		return nil
	}
	b, err := cacheCopy(e).Encode()
	if err != nil {
		return err
	}
	id, err := unix.AddKey(keyType, c.description(e.Key()), b, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return fmt.Errorf("kernel keyring: %w", err)
	}
	if err := unix.KeyctlSetperm(id, keyPerm); err == nil {
		_, err = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(left/time.Second), 0, 0)
	}
	if err != nil {
		// A copy without its timeout would outlive the token; Get never
		// hands out an expired one, but it should not linger either.
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return fmt.Errorf("kernel keyring: %w", err)
	}
	return nil
}

// Drop implements Cache.
func (c *KernelCache) Drop(key Key) error {
	id, err := c.find(key)
	if errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYEXPIRED) || errors.Is(err, unix.EKEYREVOKED) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kernel keyring: %w", err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil && !errors.Is(err, unix.ENOKEY) {
		return fmt.Errorf("kernel keyring: %w", err)
	}
	return nil
}
