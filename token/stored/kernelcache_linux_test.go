package stored

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

// kernelCache is a KernelCache of its own for t, in the real user keyring.
func kernelCache(t *testing.T) *KernelCache {
	t.Helper()
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true); err != nil {
		realpart.Missing(t, "no kernel keyring (keyctl: %v)", err)
	}
	return &KernelCache{Namespace: fmt.Sprintf("test/%s/%d", t.Name(), time.Now().UnixNano())}
}

func liveEntry(host string) *Entry {
	now := time.Now().UTC().Truncate(time.Second)
	return &Entry{Version: 1, Host: host, ClientID: "c", Scopes: []string{"all-apis"}, AccessToken: "at-kernel", TokenType: "Bearer",
		RefreshToken: "rt-kernel", Obtained: now, Expiry: now.Add(time.Hour), TokenURL: host + "/oidc/v1/token"}
}

// procKey is the line of /proc/keys for id: its timeout and permissions.
func procKey(t *testing.T, id int) (timeout, perm string) {
	t.Helper()
	f, err := os.Open("/proc/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := fmt.Sprintf("%08x", id)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[0] == want {
			return fields[3], fields[4]
		}
	}
	t.Fatalf("key %s is not in /proc/keys", want)
	return "", ""
}

func TestKernelCacheKeepsTheAccessTokenAlone(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://kernel.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(e.Key())
	if !ok || got.AccessToken != "at-kernel" || !got.Expiry.Equal(e.Expiry) || !got.Obtained.Equal(e.Obtained) || got.TokenType != "Bearer" {
		t.Fatalf("Get = %+v, %v", got, ok)
	}

	id, err := c.find(e.Key())
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 8192)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(raw[:n]); strings.Contains(s, "rt-kernel") || strings.Contains(s, "/oidc/v1/token") {
		t.Errorf("the kernel keyring holds more than the access token: %s", s)
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(desc, "kernel.example") || strings.Contains(desc, "at-kernel") {
		t.Errorf("the key's description names the host or the token: %s", desc)
	}
	timeout, perm := procKey(t, id)
	if perm != "3f3f0000" {
		t.Errorf("permissions %s, want 3f3f0000 (possessor and user all, others nothing)", perm)
	}
	// The kernel removes the key when the token has 30 s left: 59 minutes
	// and some seconds from now, which /proc/keys shows as "59m".
	if timeout != "59m" {
		t.Errorf("timeout %s, want 59m", timeout)
	}
}

func TestKernelCacheNamespacesAndKeysDoNotMix(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://a.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	other := &KernelCache{Namespace: c.Namespace + "-other"}
	if _, ok := other.Get(e.Key()); ok {
		t.Error("another namespace sees the entry")
	}
	if _, ok := c.Get(Key{Host: "https://b.example", ClientID: "c"}); ok {
		t.Error("another host sees the entry")
	}
	if err := c.Drop(e.Key()); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(e.Key()); ok {
		t.Error("Get after Drop found the entry")
	}
	if err := c.Drop(e.Key()); err != nil {
		t.Errorf("dropping a missing entry: %v", err)
	}
}

func TestKernelCacheDoesNotKeepAnExpiringToken(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://expiring.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	e.Expiry = time.Now().Add(Floor)
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(e.Key()); ok {
		t.Fatalf("a token with %s left is cached: %+v", Floor, got)
	}
	zero := liveEntry("https://expiring.example")
	zero.AccessToken = ""
	if err := c.Put(zero); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(e.Key()); ok {
		t.Fatal("an entry without an access token is cached")
	}
}

func TestKernelCacheSeenByAnotherProcess(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://process.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	id, err := c.find(e.Key())
	if err != nil {
		t.Fatal(err)
	}
	// A process of the same user that did not write the key reads it the
	// way another dbtdbx does: through the user keyring it possesses.
	if out, err := kernelChild(c, e.Key(), "kernel-read", false); err != nil || out != "at-kernel" {
		t.Fatalf("another process read %q (%v) from key %d", out, err, id)
	}
}

// A process in a session keyring of its own (keyctl session -, systemd's
// KeyringMode=private) does not possess the user keyring; it must still be
// able to drop the copy, or its logout would leave a token that processes
// elsewhere go on handing out.
func TestKernelCacheDroppedFromAnotherSession(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://session.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	if out, err := kernelChild(c, e.Key(), "kernel-drop", true); err != nil || out != "at-kernel" {
		t.Fatalf("a process in its own session read %q and dropped: %v", out, err)
	}
	if _, ok := c.Get(e.Key()); ok {
		t.Fatal("the copy is still there after a process in another session dropped it")
	}
}

// Replacing a copy keeps a timeout on the new one: updating a key in place
// would clear it.
func TestKernelCacheReplacedCopyExpires(t *testing.T) {
	c := kernelCache(t)
	e := liveEntry("https://replace.example")
	t.Cleanup(func() { _ = c.Drop(e.Key()) })
	for _, tok := range []string{"at-first", "at-second"} {
		e.AccessToken = tok
		if err := c.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := c.Get(e.Key())
	id, err := c.find(e.Key())
	if !ok || got.AccessToken != "at-second" || err != nil {
		t.Fatalf("after two puts: %+v, %v, %v", got, ok, err)
	}
	if timeout, _ := procKey(t, id); timeout != "59m" {
		t.Errorf("the replaced copy's timeout is %s, want 59m", timeout)
	}
}

// kernelChild runs mode ("kernel-read" or "kernel-drop") for key in a child
// process, in a session keyring of its own when newSession is set, and
// returns the token it printed.
func kernelChild(c *KernelCache, key Key, mode string, newSession bool) (string, error) {
	child := exec.Command(os.Args[0], "-test.run=^$")
	env := []string{envChild + "=" + mode, "DBTDBX_TEST_NAMESPACE=" + c.Namespace, "DBTDBX_TEST_HOST=" + key.Host, "DBTDBX_TEST_CLIENT=" + key.ClientID}
	if newSession {
		env = append(env, "DBTDBX_TEST_NEW_SESSION=1")
	}
	child.Env = childEnv(nil, env...)
	var stderr strings.Builder
	child.Stderr = &stderr
	out, err := child.Output()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
