package token

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dbtdbx/dbtdbx/internal/realpart"
)

func TestKeyringUnavailableClassifiesErrors(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, true},
		{&net.OpError{Op: "dial", Net: "unix", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ENOENT}}, true},
		{&net.OpError{Op: "dial", Net: "unix", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, true},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), true},
		{errors.New("dbus: couldn't determine address of session bus"), true},
		{fmt.Errorf("%w: read the stored login", ErrNoKeyring), true},
		// A keyring that is there but locked, slow or failing is no reason to
		// keep logins elsewhere.
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), false},
		{fmt.Errorf("%w: the keyring did not answer", ErrKeyringTimeout), false},
		{fmt.Errorf("%w: %w", ErrKeyringTimeout, ErrNoKeyring), false},
		{&net.OpError{Op: "read", Net: "unix", Err: syscall.ECONNRESET}, false},
		{&exec.ExitError{}, false},
		{errors.New("org.freedesktop.DBus.Error.NoReply"), false},
	}
	for _, c := range cases {
		if got := KeyringUnavailable(c.err); got != c.want {
			t.Errorf("KeyringUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestKeyringWrapsNoKeyringErrors(t *testing.T) {
	key := Key{Host: "https://h.example", ClientID: "c"}
	noBus := &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}
	k := &Keyring{Backend: &failingKeyring{err: noBus}}
	for name, err := range map[string]error{
		"load":   func() error { _, err := k.Load(key); return err }(),
		"save":   k.Save(bigEntry(t, key, 10)),
		"delete": k.Delete(key),
	} {
		if !errors.Is(err, ErrNoKeyring) || !KeyringUnavailable(err) || !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("%s: %v, want an error wrapping ErrNoKeyring and the cause", name, err)
		}
	}
	locked := errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'")
	k = &Keyring{Backend: &failingKeyring{err: locked}}
	_, err := k.Load(key)
	if err == nil || errors.Is(err, ErrNoKeyring) || KeyringUnavailable(err) || !strings.Contains(err.Error(), "failed to unlock") {
		t.Errorf("locked keyring: %v, want its own error, not ErrNoKeyring", err)
	}
}

// probe runs go-keyring in a child process with env (and nothing of this
// process's bus or PATH) and returns what it saw.
func probe(t *testing.T, env ...string) probeReport {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	c := exec.Command(self)
	// An empty PATH: no dbus-launch to start a bus, on any machine. An empty
	// runtime directory: no $XDG_RUNTIME_DIR/bus to find one.
	c.Env = childEnv([]string{"DBUS_SESSION_BUS_ADDRESS", "PATH", "XDG_RUNTIME_DIR"},
		append([]string{"PATH=" + empty, "XDG_RUNTIME_DIR=" + empty, envChild + "=keyring-probe"}, env...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("probe: %v\n%s", err, errb.String())
	}
	var r probeReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("probe said %q: %v", out.String(), err)
	}
	return r
}

// checkUnavailable checks that r saw no keyring, go-keyring's error
// containing wantRaw and the store's saying why in words (wantWhy) rather
// than quoting it.
func checkUnavailable(t *testing.T, r probeReport, wantRaw, wantWhy string) {
	t.Helper()
	if !strings.Contains(r.Raw, wantRaw) {
		t.Errorf("go-keyring said %q, want it to contain %q", r.Raw, wantRaw)
	}
	if !strings.Contains(r.Err, wantWhy) || strings.Contains(r.Err, wantRaw) {
		t.Errorf("the store said %q, want it to say %q instead of %q", r.Err, wantWhy, wantRaw)
	}
	if !r.RawUnavailable || !r.Unavailable || !r.NoKeyring || r.Timeout {
		t.Errorf("go-keyring's %q: KeyringUnavailable %v; the store's %q: KeyringUnavailable %v, ErrNoKeyring %v, timeout %v; want no keyring",
			r.Raw, r.RawUnavailable, r.Err, r.Unavailable, r.NoKeyring, r.Timeout)
	}
}

func TestNoKeyringWithoutABus(t *testing.T) {
	t.Parallel()
	checkUnavailable(t, probe(t), `exec: "dbus-launch": executable file not found in $PATH`, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set")
}

func TestNoKeyringWhenTheBusSocketIsGone(t *testing.T) {
	t.Parallel()
	gone := filepath.Join(t.TempDir(), "bus")
	checkUnavailable(t, probe(t, "DBUS_SESSION_BUS_ADDRESS=unix:path="+gone), "connect: no such file or directory", "the D-Bus session bus that DBUS_SESSION_BUS_ADDRESS names is gone")
}

func TestNoKeyringWhenNobodyListensOnTheBusSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	// Closed without removing the socket file, like a bus daemon that was killed.
	l.SetUnlinkOnClose(false)
	l.Close()
	checkUnavailable(t, probe(t, "DBUS_SESSION_BUS_ADDRESS=unix:path="+path), "connect: connection refused", "the D-Bus session bus that DBUS_SESSION_BUS_ADDRESS names is gone")
}

// busConfig is a session bus listening in dir that can activate only the
// services in serviceDir ("" for none at all, unlike the system's session
// bus, which knows every installed .service file).
func busConfig(dir, serviceDir string) string {
	servicedir := ""
	if serviceDir != "" {
		servicedir = "<servicedir>" + serviceDir + "</servicedir>"
	}
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=` + dir + `</listen>
  ` + servicedir + `
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

// privateBus starts a session bus daemon of its own that can activate only
// the services in services (nil for none), and returns its address. The
// daemon is killed when the test ends; services it started leave with it.
func privateBus(t *testing.T, services map[string]string) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		realpart.Missing(t, "dbus-daemon is not installed (apt-get install dbus-daemon): %v", err)
	}
	dir := t.TempDir()
	svc := ""
	if services != nil {
		svc = filepath.Join(dir, "services")
		if err := os.Mkdir(svc, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, body := range services {
			if err := os.WriteFile(filepath.Join(svc, name+".service"), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	confPath := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(confPath, []byte(busConfig(dir, svc)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(daemon, "--config-file="+confPath, "--print-address", "--nofork")
	// Services it starts inherit this environment: keep their files here.
	c.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_RUNTIME_DIR="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	var errb bytes.Buffer
	c.Stderr = &errb
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	// The daemon prints its address once it listens.
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v\n%s", err, errb.String())
	}
	return strings.TrimSpace(addr)
}

func TestNoKeyringOnABusWithoutSecretService(t *testing.T) {
	t.Parallel()
	addr := privateBus(t, nil)
	checkUnavailable(t, probe(t, "DBUS_SESSION_BUS_ADDRESS="+addr), "The name org.freedesktop.secrets was not provided by any .service files", "nothing on the D-Bus session bus provides the Secret Service")
}

// A locked keyring is a keyring: its error must reach the user, never send
// their tokens to a file.
func TestLockedKeyringIsNotMissing(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(tool); err != nil {
			realpart.Missing(t, "%s is not installed (apt-get install gnome-keyring dbus-bin): %v", tool, err)
		}
	}
	// The bus starts gnome-keyring, unlocked with a throwaway password, when
	// it is first called, and answers that call once the keyring is up.
	addr := privateBus(t, map[string]string{"org.freedesktop.secrets": `[D-BUS Service]
Name=org.freedesktop.secrets
Exec=/bin/sh -c 'printf %s dbtdbx-test-keyring | exec gnome-keyring-daemon --unlock --foreground --components=secrets'
`})
	lock := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
		"org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
	lock.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr)
	out, err := lock.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"/org/freedesktop/secrets/collection/login"`) {
		t.Fatalf("locking the login keyring: %v\n%s", err, out)
	}
	r := probe(t, "DBUS_SESSION_BUS_ADDRESS="+addr)
	if !strings.Contains(r.Raw, "failed to unlock correct collection") || r.RawUnavailable || r.Unavailable || r.NoKeyring || r.Err == "" {
		t.Errorf("locked keyring: go-keyring said %q (unavailable %v); the store said %q (unavailable %v, ErrNoKeyring %v); want a plain error",
			r.Raw, r.RawUnavailable, r.Err, r.Unavailable, r.NoKeyring)
	}
}
