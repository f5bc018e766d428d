package token

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// An entry that fits in one keyring value is stored whole under the account
// Key.String(), as dbtdbx always did. A larger one is split into parts:
//
//	"<key>#<generation>.0" ... "<key>#<generation>.<n-1>"  the encoded entry, cut in order
//	"<key>"  {"version":2,"generation":1,"parts":4,"size":9120,"sha256":"<hex>"}
//
// There are two generations, 1 and 2, used in turn. Save writes every part
// of the generation the head does not name, then the head, so until the head
// moves readers keep reading the previous generation, and a Save that stops
// half way leaves that generation in place. Only then are the previous
// generation's parts deleted (best effort). Load reads the head, then the
// parts it names, and accepts them only when their size and SHA-256 match the
// head: a Load never returns pieces of two Saves. When parts went missing or
// changed under it (a concurrent Save), Load reads the head again.
//
// Parts are written from index 0 up and deleted from the last one down, so
// whatever a Save or Delete that stopped half way leaves behind is parts 0 to
// j of generation 1 or 2: a later Save overwrites them, and a later sweep
// finds them, so no refresh token stays behind in the keyring after Delete.

// KeyringBackend is a keyring as github.com/zalando/go-keyring sees it: its
// Get, Set and Delete functions. Get and Delete return an error for which
// errors.Is(err, keyring.ErrNotFound) holds when service has no secret for
// user. Set replaces any existing secret; a Set that refuses a value for its
// size should return keyring.ErrSetDataTooBig, and the Keyring then stores the
// entry in smaller parts.
type KeyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osKeyring is the KeyringBackend of this OS, through go-keyring.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (osKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// DefaultKeyringMaxValue is the default for Keyring.MaxValue on this OS:
// 2560 bytes on Windows, whose Credential Manager refuses larger secrets;
// 2048 bytes on macOS, where go-keyring hands the Keychain a base64 copy (a
// third larger) on a command line it caps at 4096 bytes together with the
// service and account names; 0, no limit, elsewhere (the Secret Service
// takes values of 64 KB and more).
func DefaultKeyringMaxValue() int {
	switch runtime.GOOS {
	case "windows":
		return 2560
	case "darwin", "ios":
		return 2048
	default:
		return 0
	}
}

// MinKeyringMaxValue is the smallest Keyring.MaxValue accepted: a part's head
// must fit in one value.
const MinKeyringMaxValue = 256

// headVersion is the version of the parts head. It starts at 2, above every
// entry version written before parts existed, so those builds, which read a
// head as an entry, tell the user to upgrade instead of calling it corrupt.
const headVersion = 2

// maxParts bounds the parts of one entry, so a damaged head cannot send Load
// or Delete through millions of calls.
const maxParts = 1000

type partsHead struct {
	Version    int    `json:"version"`
	Generation uint64 `json:"generation"`
	Parts      int    `json:"parts"`
	Size       int    `json:"size"`
	SHA256     string `json:"sha256"`
}

// parseHead reports whether v is a parts head rather than an entry stored
// whole; a head that is damaged still counts as one.
func parseHead(v string) (h partsHead, ok bool) {
	var probe struct {
		Generation *json.RawMessage `json:"generation"`
	}
	if json.Unmarshal([]byte(v), &probe) != nil || probe.Generation == nil {
		return h, false
	}
	if json.Unmarshal([]byte(v), &h) != nil {
		h = partsHead{}
	}
	return h, true
}

func (h *partsHead) check() error {
	switch {
	case h.Version > headVersion:
		return fmt.Errorf("%w (parts format %d, this one reads up to %d): upgrade dbtdbx", ErrNewerVersion, h.Version, headVersion)
	case h.Version != headVersion || h.Generation != 1 && h.Generation != 2 || h.Parts < 1 || h.Parts > maxParts || h.Size < 1 || len(h.SHA256) != 2*sha256.Size:
		return fmt.Errorf("%w: its parts index is damaged", ErrCorrupt)
	}
	return nil
}

func partAccount(key Key, generation uint64, i int) string {
	return fmt.Sprintf("%s#%d.%d", key, generation, i)
}

func isNotFound(err error) bool {
	return errors.Is(err, keyring.ErrNotFound) || errors.Is(err, ErrNotFound)
}

// errPartsChanged says the parts did not match the head that was read.
var errPartsChanged = errors.New("parts changed")

// limit is the largest value to write, 0 for none.
func (k *Keyring) limit() (int, error) {
	switch {
	case k.MaxValue < 0:
		return 0, nil
	case k.MaxValue == 0:
		return DefaultKeyringMaxValue(), nil
	case k.MaxValue < MinKeyringMaxValue:
		return 0, fmt.Errorf("keyring value limit %d bytes is too small: use at least %d", k.MaxValue, MinKeyringMaxValue)
	}
	return k.MaxValue, nil
}

func (k *Keyring) get(user, what string) (string, error) {
	return k.call(what, func(b KeyringBackend) (string, error) { return b.Get(KeyringService, user) })
}

func (k *Keyring) set(user, value, what string) error {
	_, err := k.call(what, func(b KeyringBackend) (string, error) { return "", b.Set(KeyringService, user, value) })
	return err
}

func (k *Keyring) del(user, what string) error {
	_, err := k.call(what, func(b KeyringBackend) (string, error) { return "", b.Delete(KeyringService, user) })
	return err
}

// Load implements Store.
func (k *Keyring) Load(key Key) (*Entry, error) {
	var prev string
	for attempt := 1; ; attempt++ {
		v, err := k.get(key.String(), "read the stored login")
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		h, chunked := parseHead(v)
		if !chunked {
			return k.decode(key, []byte(v))
		}
		if err := h.check(); err != nil {
			return nil, fmt.Errorf("%s entry %q: %w", KeyringName(), key, err)
		}
		b, err := k.readParts(key, &h)
		if err == nil {
			return k.decode(key, b)
		}
		if !errors.Is(err, errPartsChanged) {
			return nil, err
		}
		// A Save may have moved the head since it was read; only a head that
		// stayed the same proves the parts are damaged.
		if v == prev || attempt == 3 {
			return nil, fmt.Errorf("%s entry %q: %w: its parts are missing or do not match", KeyringName(), key, ErrCorrupt)
		}
		prev = v
	}
}

func (k *Keyring) decode(key Key, b []byte) (*Entry, error) {
	e, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s entry %q: %w", KeyringName(), key, err)
	}
	return e, nil
}

func (k *Keyring) readParts(key Key, h *partsHead) ([]byte, error) {
	b := make([]byte, 0, h.Size)
	for i := range h.Parts {
		v, err := k.get(partAccount(key, h.Generation, i), fmt.Sprintf("read part %d of %d of the stored login", i+1, h.Parts))
		if isNotFound(err) {
			return nil, errPartsChanged
		}
		if err != nil {
			return nil, err
		}
		if len(b)+len(v) > h.Size {
			return nil, errPartsChanged
		}
		b = append(b, v...)
	}
	sum := sha256.Sum256(b)
	if len(b) != h.Size || hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, errPartsChanged
	}
	return b, nil
}

// stored is what the keyring holds for a key before a Save or Delete.
type stored struct {
	generation uint64 // of the parts; 0 when the entry is whole or absent
	parts      int    // how many the head names, 0 when unknown
}

func (k *Keyring) current(key Key) (stored, error) {
	v, err := k.get(key.String(), "read the stored login")
	if isNotFound(err) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, err
	}
	h, chunked := parseHead(v)
	if !chunked || h.Version > headVersion || h.Generation != 1 && h.Generation != 2 {
		// A newer build's parts are not ours to interpret; they are left.
		return stored{}, nil
	}
	return stored{generation: h.Generation, parts: max(0, min(h.Parts, maxParts))}, nil
}

// Save implements Store. Save assumes it is the only writer of key at the
// time, as Store says; a concurrent Load sees the old entry or the new one.
func (k *Keyring) Save(e *Entry) error {
	b, err := e.Encode()
	if err != nil {
		return err
	}
	limit, err := k.limit()
	if err != nil {
		return err
	}
	key := e.Key()
	old, err := k.current(key)
	if err != nil {
		return err
	}
	if limit == 0 || len(b) <= limit {
		err := k.set(key.String(), string(b), "store the login")
		if err == nil {
			if old.generation > 0 {
				_ = k.sweep(key, old.generation, old.parts)
				_ = k.sweep(key, 3-old.generation, 0)
			}
			return nil
		}
		// The keyring knows its limit better than we do: split smaller.
		if !errors.Is(err, keyring.ErrSetDataTooBig) || len(b)/2 < MinKeyringMaxValue {
			return err
		}
		limit = len(b) / 2
	}
	gen := uint64(1)
	if old.generation == 1 {
		gen = 2
	}
	var n int
	for {
		n, err = k.writeParts(key, gen, b, limit)
		if err == nil {
			break
		}
		if errors.Is(err, keyring.ErrSetDataTooBig) && limit/2 >= MinKeyringMaxValue {
			limit /= 2
			continue
		}
		// Parts nothing points to. After a timeout the keyring is not
		// answering; the next Save overwrites them anyway.
		if !errors.Is(err, ErrKeyringTimeout) {
			_ = k.sweep(key, gen, 0)
		}
		return err
	}
	sum := sha256.Sum256(b)
	head, err := json.Marshal(partsHead{Version: headVersion, Generation: gen, Parts: n, Size: len(b), SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	if err := k.set(key.String(), string(head), "store the login"); err != nil {
		// After a timeout the head may still land: its parts must stay.
		if !errors.Is(err, ErrKeyringTimeout) {
			_ = k.sweep(key, gen, n)
		}
		return err
	}
	if old.generation > 0 {
		_ = k.sweep(key, old.generation, old.parts)
	}
	return nil
}

// writeParts stores b as parts of at most limit bytes, cut between UTF-8
// characters, and returns how many it wrote.
func (k *Keyring) writeParts(key Key, gen uint64, b []byte, limit int) (int, error) {
	var parts []string
	for rest := b; len(rest) > 0; {
		n := min(limit, len(rest))
		for n < len(rest) && n > limit-utf8.UTFMax && !utf8.RuneStart(rest[n]) {
			n--
		}
		parts = append(parts, string(rest[:n]))
		rest = rest[n:]
	}
	if len(parts) > maxParts {
		return 0, fmt.Errorf("the login is too large for the %s (%d bytes in parts of %d)", KeyringName(), len(b), limit)
	}
	for i, p := range parts {
		if err := k.set(partAccount(key, gen, i), p, fmt.Sprintf("store part %d of %d of the login", i+1, len(parts))); err != nil {
			return 0, err
		}
	}
	return len(parts), nil
}

// sweep deletes every part of generation gen, of which parts 0 to known-1
// may exist. It finds where they end by reading on from known, then deletes
// from the last down, so that if it stops half way what is left is still
// parts 0 to j.
func (k *Keyring) sweep(key Key, gen uint64, known int) error {
	end := known
	for ; end < maxParts; end++ {
		_, err := k.get(partAccount(key, gen, end), "look for parts of the stored login")
		if isNotFound(err) {
			break
		}
		if err != nil {
			return err
		}
	}
	for i := end - 1; i >= 0; i-- {
		if err := k.del(partAccount(key, gen, i), "remove a part of the stored login"); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// Delete implements Store. It removes the entry and all its parts, including
// those a Save or Delete that stopped half way left behind.
func (k *Keyring) Delete(key Key) error {
	old, err := k.current(key)
	if err != nil {
		return err
	}
	// The head first, so that readers find nothing rather than missing parts.
	if err := k.del(key.String(), "remove the stored login"); err != nil && !isNotFound(err) {
		return err
	}
	var first error
	for gen := uint64(1); gen <= 2; gen++ {
		known := 0
		if gen == old.generation {
			known = old.parts
		}
		if err := k.sweep(key, gen, known); err != nil && first == nil {
			first = err
		}
	}
	return first
}
