package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

// memKeyring is a KeyringBackend in memory.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string // user -> secret, for KeyringService only
}

func newMemKeyring() *memKeyring { return &memKeyring{m: map[string]string{}} }

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, password string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[service+"/"+user] = password
	return nil
}

func (k *memKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.m, service+"/"+user)
	return nil
}

// accounts lists the accounts held, sorted.
func (k *memKeyring) accounts() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Sorted(maps.Keys(k.m))
}

func (k *memKeyring) snapshot() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.m)
}

var (
	errInjected = errors.New("injected keyring failure")
	errCrashed  = errors.New("the process is gone")
)

// limitedKeyring wraps a backend the way Windows and macOS behave: Set
// refuses values over max bytes. It can also fail one chosen call, or crash
// at one: that call and every later one do nothing, as when the process dies.
// Calls are numbered from 1.
type limitedKeyring struct {
	inner   KeyringBackend
	max     int
	failAt  int
	crashAt int
	// before runs before call n reaches inner, to let a test act in between.
	before func(n int)

	mu    sync.Mutex
	n     int
	calls []string // "get ACCOUNT", "set ACCOUNT", "delete ACCOUNT"
}

func (k *limitedKeyring) enter(op, user string) (int, error) {
	k.mu.Lock()
	k.n++
	n := k.n
	k.calls = append(k.calls, op+" "+user)
	before := k.before
	k.mu.Unlock()
	switch {
	case k.crashAt > 0 && n >= k.crashAt:
		return n, errCrashed
	case n == k.failAt:
		return n, errInjected
	}
	if before != nil {
		before(n)
	}
	return n, nil
}

func (k *limitedKeyring) Get(service, user string) (string, error) {
	if _, err := k.enter("get", user); err != nil {
		return "", err
	}
	return k.inner.Get(service, user)
}

func (k *limitedKeyring) Set(service, user, password string) error {
	if _, err := k.enter("set", user); err != nil {
		return err
	}
	if k.max > 0 && len(password) > k.max {
		// What go-keyring returns on Windows and macOS.
		return keyring.ErrSetDataTooBig
	}
	return k.inner.Set(service, user, password)
}

func (k *limitedKeyring) Delete(service, user string) error {
	if _, err := k.enter("delete", user); err != nil {
		return err
	}
	return k.inner.Delete(service, user)
}

func (k *limitedKeyring) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

// failingKeyring fails every call with err.
type failingKeyring struct{ err error }

func (k *failingKeyring) Get(string, string) (string, error) { return "", k.err }
func (k *failingKeyring) Set(string, string, string) error   { return k.err }
func (k *failingKeyring) Delete(string, string) error        { return k.err }

// randomToken returns n bytes of token-like text, unique to this call.
func randomToken(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// bigEntry is a login for key whose access and refresh tokens are size bytes
// each.
func bigEntry(t *testing.T, key Key, size int) *Entry {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	return &Entry{Version: EntryVersion, Host: key.Host, ClientID: key.ClientID, Scopes: []string{"all-apis", "offline_access"},
		AccessToken: randomToken(t, size), TokenType: "Bearer", RefreshToken: randomToken(t, size),
		Obtained: now, Expiry: now.Add(time.Hour), TokenURL: key.Host + "/oidc/v1/token"}
}

var bigKey = Key{Host: "https://adb-1234567890123456.7.azuredatabricks.net", ClientID: "dbt-databricks"}

func sameEntry(a, b *Entry) bool {
	return a != nil && b != nil && a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.Host == b.Host && a.ClientID == b.ClientID && slices.Equal(a.Scopes, b.Scopes) && a.Expiry.Equal(b.Expiry)
}

// which names the entry got is among want, "" if none.
func which(got *Entry, want map[string]*Entry) string {
	for name, e := range want {
		if sameEntry(got, e) {
			return name
		}
	}
	return ""
}

func TestKeyringLargeTokensRoundTripUnderALimit(t *testing.T) {
	for _, maxValue := range []int{2560, 2048, MinKeyringMaxValue, -1} {
		t.Run(fmt.Sprint(maxValue), func(t *testing.T) {
			mem := newMemKeyring()
			limit := maxValue
			if limit < 0 {
				limit = 2560 // the store knows no limit, the keyring still has one
			}
			k := &Keyring{MaxValue: maxValue, Backend: &limitedKeyring{inner: mem, max: limit}}
			e := bigEntry(t, bigKey, 4096)
			// Characters of several bytes, so that some part boundary falls
			// inside one.
			e.Scopes = append(e.Scopes, strings.Repeat("é€😀", 200))
			if err := k.Save(e); err != nil {
				t.Fatal(err)
			}
			got, err := k.Load(bigKey)
			if err != nil || !sameEntry(got, e) || !slices.Equal(got.Scopes, e.Scopes) {
				t.Fatalf("Load = %v, want the saved entry back", err)
			}
			held := mem.snapshot()
			if len(held) < 4 {
				t.Errorf("%d values held, want the entry in parts: %v", len(held), mem.accounts())
			}
			for acct, v := range held {
				if len(v) > limit || !utf8.ValidString(v) {
					t.Errorf("%s: %d bytes, valid UTF-8 %v", acct, len(v), utf8.ValidString(v))
				}
			}
			head := held[KeyringService+"/"+bigKey.String()]
			if h, ok := parseHead(head); !ok || h.check() != nil || strings.Contains(head, e.AccessToken[:20]) {
				t.Errorf("head %q: want a parts head without secrets", head)
			}
		})
	}
}

func TestKeyringSmallEntryIsStoredWhole(t *testing.T) {
	mem := newMemKeyring()
	k := &Keyring{MaxValue: 2560, Backend: mem}
	e := bigEntry(t, bigKey, 500)
	if err := k.Save(e); err != nil {
		t.Fatal(err)
	}
	if got := mem.accounts(); !slices.Equal(got, []string{KeyringService + "/" + bigKey.String()}) {
		t.Fatalf("accounts %v, want the entry alone under its key", got)
	}
	got, err := Decode([]byte(mem.snapshot()[KeyringService+"/"+bigKey.String()]))
	if err != nil || !sameEntry(got, e) {
		t.Fatalf("the value under the key is not the entry: %v", err)
	}
	// And an entry stored whole by an earlier dbtdbx loads.
	old, _ := e.Encode()
	mem = newMemKeyring()
	_ = mem.Set(KeyringService, bigKey.String(), string(old))
	if got, err := (&Keyring{Backend: mem}).Load(bigKey); err != nil || !sameEntry(got, e) {
		t.Fatalf("Load of a whole entry: %v", err)
	}
}

func TestKeyringReplacesAndDeletesAllParts(t *testing.T) {
	mem := newMemKeyring()
	k := &Keyring{MaxValue: 2560, Backend: mem}
	a, b, c := bigEntry(t, bigKey, 4096), bigEntry(t, bigKey, 3000), bigEntry(t, bigKey, 100)
	other := bigEntry(t, Key{Host: "https://other.example", ClientID: "x"}, 4096)
	if err := k.Save(other); err != nil {
		t.Fatal(err)
	}
	otherAccounts := mem.accounts()
	for _, e := range []*Entry{a, b, c, a} {
		if err := k.Save(e); err != nil {
			t.Fatal(err)
		}
		got, err := k.Load(bigKey)
		if err != nil || !sameEntry(got, e) {
			t.Fatalf("Load after Save: %v", err)
		}
		// Only the current generation's parts remain.
		h, chunked := parseHead(mem.snapshot()[KeyringService+"/"+bigKey.String()])
		parts := 0
		for _, acct := range mem.accounts() {
			if rest, ok := strings.CutPrefix(acct, KeyringService+"/"+bigKey.String()+"#"); ok {
				parts++
				if !chunked || !strings.HasPrefix(rest, fmt.Sprintf("%d.", h.Generation)) {
					t.Errorf("%s is left from an earlier generation", acct)
				}
			}
		}
		if chunked && parts != h.Parts {
			t.Errorf("%d parts held, the head names %d", parts, h.Parts)
		}
	}
	if err := k.Delete(bigKey); err != nil {
		t.Fatal(err)
	}
	if got := mem.accounts(); !slices.Equal(got, otherAccounts) {
		t.Errorf("after Delete the keyring holds %v, want only the other login's %v", got, otherAccounts)
	}
	if _, err := k.Load(bigKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete: %v", err)
	}
	if err := k.Delete(bigKey); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	if got, err := k.Load(other.Key()); err != nil || !sameEntry(got, other) {
		t.Errorf("the other login: %v", err)
	}
}

// callsOf counts the backend calls of f on a copy of the keyring state.
func callsOf(t *testing.T, state map[string]string, f func(k *Keyring) error) int {
	t.Helper()
	mem := &memKeyring{m: maps.Clone(state)}
	lk := &limitedKeyring{inner: mem, max: 2560}
	if err := f(&Keyring{MaxValue: 2560, Backend: lk}); err != nil {
		t.Fatal(err)
	}
	return lk.count()
}

// A Save that fails or stops at any of its calls leaves the previous entry
// when it reports an error, the new one when it does not, and never anything
// else; what it left behind is gone after the next Save and Delete.
func TestKeyringSaveFailingOrCrashingAtEveryCall(t *testing.T) {
	small := bigEntry(t, bigKey, 200)
	cases := []struct{ name, from, to string }{
		{"parts over parts", "large", "larger"},
		{"parts over whole", "small", "large"},
		{"whole over parts", "large", "small"},
		{"parts over nothing", "", "large"},
	}
	entries := map[string]*Entry{"small": small, "large": bigEntry(t, bigKey, 4096), "larger": bigEntry(t, bigKey, 6000)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := newMemKeyring()
			if c.from != "" {
				if err := (&Keyring{MaxValue: 2560, Backend: start}).Save(entries[c.from]); err != nil {
					t.Fatal(err)
				}
			}
			next := entries[c.to]
			total := callsOf(t, start.snapshot(), func(k *Keyring) error { return k.Save(next) })
			for _, crash := range []bool{false, true} {
				for n := 1; n <= total; n++ {
					mem := &memKeyring{m: start.snapshot()}
					lk := &limitedKeyring{inner: mem, max: 2560}
					if crash {
						lk.crashAt = n
					} else {
						lk.failAt = n
					}
					saveErr := (&Keyring{MaxValue: 2560, Backend: lk}).Save(next)
					if saveErr != nil && strings.Contains(saveErr.Error(), next.RefreshToken) {
						t.Fatalf("the error shows a token")
					}
					// Start again, as a new process would.
					k := &Keyring{MaxValue: 2560, Backend: mem}
					got, err := k.Load(bigKey)
					want := c.to
					if saveErr != nil {
						want = c.from
					}
					switch {
					case want == "" && !errors.Is(err, ErrNotFound):
						t.Errorf("crash %v at call %d of %d (%s): Save %v; Load %v, want no entry", crash, n, total, lk.calls[n-1], saveErr, err)
					case want != "" && (err != nil || !sameEntry(got, entries[want])):
						t.Errorf("crash %v at call %d of %d (%s): Save %v; Load gave %q (%v), want %q", crash, n, total, lk.calls[n-1], saveErr, which(got, entries), err, want)
					}
					if err := k.Save(small); err != nil {
						t.Fatal(err)
					}
					if err := k.Delete(bigKey); err != nil {
						t.Fatal(err)
					}
					if left := mem.accounts(); len(left) > 0 {
						t.Errorf("crash %v at call %d of %d (%s): after Save and Delete the keyring still holds %v", crash, n, total, lk.calls[n-1], left)
					}
				}
			}
		})
	}
}

// The crash the design is about, by name: every part written, the head not.
func TestKeyringCrashBeforeTheHeadKeepsThePreviousEntry(t *testing.T) {
	mem := newMemKeyring()
	old, next := bigEntry(t, bigKey, 4096), bigEntry(t, bigKey, 4096)
	if err := (&Keyring{MaxValue: 2560, Backend: mem}).Save(old); err != nil {
		t.Fatal(err)
	}
	// Find the head's Set in a rehearsal on a copy: the Set of the key itself.
	rehearsal := &limitedKeyring{inner: &memKeyring{m: mem.snapshot()}, max: 2560}
	if err := (&Keyring{MaxValue: 2560, Backend: rehearsal}).Save(next); err != nil {
		t.Fatal(err)
	}
	headAt := slices.Index(rehearsal.calls, "set "+bigKey.String()) + 1
	if headAt < 5 || !strings.Contains(rehearsal.calls[headAt-2], "#") {
		t.Fatalf("calls %v: want the head written after the parts", rehearsal.calls)
	}
	lk := &limitedKeyring{inner: mem, max: 2560, crashAt: headAt}
	if err := (&Keyring{MaxValue: 2560, Backend: lk}).Save(next); !errors.Is(err, errCrashed) {
		t.Fatalf("Save = %v, want the crash", err)
	}
	if parts := len(mem.accounts()); parts < 2*4 {
		t.Fatalf("want both generations' parts held, got %v", mem.accounts())
	}
	got, err := (&Keyring{MaxValue: 2560, Backend: mem}).Load(bigKey)
	if err != nil || !sameEntry(got, old) {
		t.Fatalf("Load after a crash before the head: %v, want the previous entry", err)
	}
}

// A Load that runs while Saves and Deletes happen returns one generation
// whole, or nothing, at whichever of its calls they happen.
func TestKeyringLoadNeverMixesGenerations(t *testing.T) {
	a, b := bigEntry(t, bigKey, 4096), bigEntry(t, bigKey, 4096)
	entries := map[string]*Entry{"a": a, "b": b}
	writers := map[string]func(k *Keyring) error{
		"save":         func(k *Keyring) error { return k.Save(b) },
		"delete":       func(k *Keyring) error { return k.Delete(bigKey) },
		"delete, save": func(k *Keyring) error { _ = k.Delete(bigKey); return k.Save(b) },
		// The head moves, but the old parts stay (their deletion failed).
		"save, old parts kept": func(k *Keyring) error {
			return (&Keyring{MaxValue: 2560, Backend: keepParts{k.Backend}}).Save(b)
		},
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			for at := 1; ; at++ {
				mem := newMemKeyring()
				if err := (&Keyring{MaxValue: 2560, Backend: mem}).Save(a); err != nil {
					t.Fatal(err)
				}
				lk := &limitedKeyring{inner: mem}
				lk.before = func(n int) {
					if n == at {
						_ = write(&Keyring{MaxValue: 2560, Backend: mem})
					}
				}
				got, err := (&Keyring{MaxValue: 2560, Backend: lk}).Load(bigKey)
				switch {
				case errors.Is(err, ErrNotFound) && strings.Contains(name, "delete"):
				case err != nil:
					t.Errorf("writer before the reader's call %d: %v", at, err)
				case which(got, entries) == "":
					t.Errorf("writer before the reader's call %d: Load returned neither entry whole", at)
				}
				if at > lk.count() {
					break // the writer ran after the reader's last call
				}
			}
		})
	}
}

// keepParts fails to delete any part.
type keepParts struct{ KeyringBackend }

func (k keepParts) Delete(service, user string) error {
	if strings.Contains(user, "#") {
		return errInjected
	}
	return k.KeyringBackend.Delete(service, user)
}

func TestKeyringDamagedParts(t *testing.T) {
	e := bigEntry(t, bigKey, 4096)
	damage := map[string]func(mem *memKeyring, part string){
		"part missing": func(mem *memKeyring, part string) { delete(mem.m, KeyringService+"/"+part) },
		"part changed": func(mem *memKeyring, part string) { mem.m[KeyringService+"/"+part] = strings.Repeat("x", 2560) },
		"part shorter": func(mem *memKeyring, part string) { mem.m[KeyringService+"/"+part] = "x" },
		"head damaged": func(mem *memKeyring, _ string) {
			mem.m[KeyringService+"/"+bigKey.String()] = `{"version":2,"generation":1,"parts":-1}`
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			mem := newMemKeyring()
			k := &Keyring{MaxValue: 2560, Backend: mem}
			if err := k.Save(e); err != nil {
				t.Fatal(err)
			}
			f(mem, partAccount(bigKey, 1, 1))
			_, err := k.Load(bigKey)
			if !errors.Is(err, ErrCorrupt) || strings.Contains(err.Error(), e.AccessToken[:16]) || strings.Contains(err.Error(), e.RefreshToken[:16]) {
				t.Fatalf("Load = %v, want ErrCorrupt without secrets", err)
			}
			// A new login replaces it, and a logout leaves nothing.
			if err := k.Save(e); err != nil {
				t.Fatal(err)
			}
			if got, err := k.Load(bigKey); err != nil || !sameEntry(got, e) {
				t.Fatalf("Load after Save: %v", err)
			}
			if err := k.Delete(bigKey); err != nil || len(mem.accounts()) > 0 {
				t.Fatalf("Delete: %v; left %v", err, mem.accounts())
			}
		})
	}
}

func TestKeyringNewerHeadAsksForAnUpgrade(t *testing.T) {
	mem := newMemKeyring()
	_ = mem.Set(KeyringService, bigKey.String(), `{"version":3,"generation":9,"parts":2,"layout":"something new"}`)
	_, err := (&Keyring{Backend: mem}).Load(bigKey)
	if !errors.Is(err, ErrNewerVersion) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "upgrade dbtdbx") {
		t.Fatalf("Load = %v, want ErrNewerVersion telling to upgrade", err)
	}
	// A head read by a dbtdbx from before parts existed asks for an upgrade too.
	b := bigEntry(t, bigKey, 4096)
	if err := (&Keyring{MaxValue: 2560, Backend: mem}).Save(b); err != nil {
		t.Fatal(err)
	}
	_, err = Decode([]byte(mem.snapshot()[KeyringService+"/"+bigKey.String()]))
	if err == nil || !strings.Contains(err.Error(), "upgrade dbtdbx") {
		t.Fatalf("an entry-only reader sees the head as %v, want a request to upgrade", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	k := &Keyring{Timeout: 50 * time.Millisecond, Backend: &blockingKeyring{release: release}}
	_, err := k.Load(bigKey)
	if !errors.Is(err, ErrKeyringTimeout) || KeyringUnavailable(err) || !strings.Contains(err.Error(), EnvKeyringTimeout) {
		t.Fatalf("Load = %v, want ErrKeyringTimeout, not a missing keyring", err)
	}
}

// blockingKeyring never answers until release is closed, like a locked
// keyring waiting for a password prompt nobody sees.
type blockingKeyring struct{ release chan struct{} }

func (k *blockingKeyring) Get(string, string) (string, error) {
	<-k.release
	return "", keyring.ErrNotFound
}
func (k *blockingKeyring) Set(string, string, string) error { <-k.release; return nil }
func (k *blockingKeyring) Delete(string, string) error      { <-k.release; return nil }

func TestKeyringMaxValueDefaultsAndBounds(t *testing.T) {
	if got, _ := (&Keyring{}).limit(); got != DefaultKeyringMaxValue() {
		t.Errorf("zero MaxValue: limit %d, want the OS default %d", got, DefaultKeyringMaxValue())
	}
	if got, _ := (&Keyring{MaxValue: -1}).limit(); got != 0 {
		t.Errorf("negative MaxValue: limit %d, want none", got)
	}
	err := (&Keyring{MaxValue: 100, Backend: newMemKeyring()}).Save(bigEntry(t, bigKey, 100))
	if err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("MaxValue 100: %v", err)
	}
}

// The real Secret Service, through the real go-keyring: 4 KB tokens whole,
// and in parts under Windows' limit.
func TestKeyringLargeTokensInTheSecretService(t *testing.T) {
	realpart.RequireKeyring(t)
	for _, c := range []struct {
		name     string
		maxValue int
		parts    bool
	}{{"whole", -1, false}, {"parts", 2560, true}} {
		t.Run(c.name, func(t *testing.T) {
			key := Key{Host: "https://" + strings.ToLower(randomToken(t, 12)) + ".test.databricks.com", ClientID: "dbtdbx-test"}
			// The real keyring, refusing values over the limit as Windows does.
			real := &limitedKeyring{inner: osKeyring{}, max: c.maxValue}
			k := &Keyring{Timeout: 20 * time.Second, MaxValue: c.maxValue, Backend: real}
			t.Cleanup(func() {
				_ = keyring.Delete(KeyringService, key.String())
				for i := range 10 {
					_ = keyring.Delete(KeyringService, partAccount(key, 1, i))
				}
			})
			e := bigEntry(t, key, 4096)
			if err := k.Save(e); err != nil {
				t.Fatal(err)
			}
			got, err := (&Keyring{Timeout: 20 * time.Second}).Load(key)
			if err != nil || !sameEntry(got, e) {
				t.Fatalf("Load = %v, want the saved entry", err)
			}
			head, err := keyring.Get(KeyringService, key.String())
			if err != nil {
				t.Fatal(err)
			}
			if _, isHead := parseHead(head); isHead != c.parts {
				t.Fatalf("value under the key is a parts head: %v, want %v", isHead, c.parts)
			}
			if c.parts {
				if _, err := keyring.Get(KeyringService, partAccount(key, 1, 3)); err != nil {
					t.Errorf("part 4: %v", err)
				}
			}
			if err := k.Delete(key); err != nil {
				t.Fatal(err)
			}
			for _, acct := range []string{key.String(), partAccount(key, 1, 0), partAccount(key, 1, 3)} {
				if _, err := keyring.Get(KeyringService, acct); !errors.Is(err, keyring.ErrNotFound) {
					t.Errorf("%s after Delete: %v, want not found", acct, err)
				}
			}
		})
	}
}

// vanishingKeyring is a keyring whose first calls find an item that
// another process deletes before it is read, as the Secret Service answers
// then; later calls go to Keyring.
type vanishingKeyring struct {
	KeyringBackend
	vanish int
}

func (k *vanishingKeyring) fault() error {
	if k.vanish == 0 {
		return nil
	}
	k.vanish--
	return errors.New(`No such interface "org.freedesktop.Secret.Item" on object at path /org/freedesktop/secrets/collection/login/7`)
}

func (k *vanishingKeyring) Get(service, user string) (string, error) {
	if err := k.fault(); err != nil {
		return "", err
	}
	return k.KeyringBackend.Get(service, user)
}

func (k *vanishingKeyring) Delete(service, user string) error {
	if err := k.fault(); err != nil {
		return err
	}
	return k.KeyringBackend.Delete(service, user)
}

// An item deleted between the search that found it and its read is looked
// for again: a login removed meanwhile reads as no login (not as a broken
// keyring), one replaced meanwhile reads as the new one.
func TestKeyringItemVanishingMidReadIsLookedUpAgain(t *testing.T) {
	key := Key{Host: "https://h.example", ClientID: "c"}
	mem := newMemKeyring()
	k := &Keyring{Backend: &vanishingKeyring{KeyringBackend: mem, vanish: 2}}
	if _, err := k.Load(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of a login removed meanwhile: %v, want ErrNotFound", err)
	}
	e := bigEntry(t, key, 10)
	if err := (&Keyring{Backend: mem}).Save(e); err != nil {
		t.Fatal(err)
	}
	k = &Keyring{Backend: &vanishingKeyring{KeyringBackend: mem, vanish: 1}}
	if got, err := k.Load(key); err != nil || got.AccessToken != e.AccessToken {
		t.Errorf("Load of a login replaced meanwhile: %v, %v", got, err)
	}
	k = &Keyring{Backend: &vanishingKeyring{KeyringBackend: mem, vanish: 2}}
	if err := k.Delete(key); err != nil {
		t.Errorf("Delete of a login another logout removes meanwhile: %v", err)
	}
	// An item that keeps vanishing is an error, not taken for no login.
	k = &Keyring{Backend: &vanishingKeyring{KeyringBackend: mem, vanish: 3}}
	if _, err := k.Load(key); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Load while items keep vanishing: %v, want an error", err)
	}
}
