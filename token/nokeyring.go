package token

import (
	"errors"
	"net"
	"os/exec"
	"strings"
	"syscall"
)

// ErrNoKeyring is wrapped by the errors of Keyring's methods when this
// machine has no keyring at all: no session bus to reach one, a bus address
// that leads nowhere, or a bus without a Secret Service. Only then may a
// caller keep logins elsewhere; a locked keyring, a keyring that does not
// answer (ErrKeyringTimeout) or one that fails otherwise is not this error.
var ErrNoKeyring = errors.New("no keyring available")

// KeyringUnavailable reports whether err says there is no keyring here at
// all (see ErrNoKeyring). It accepts the errors of Keyring's methods and the
// errors of github.com/zalando/go-keyring itself. It is false for nil, for a
// timeout, for a locked keyring ("failed to unlock correct collection") and
// for every error it does not recognise, so that a doubtful case is reported
// rather than silently moved to another store.
func KeyringUnavailable(err error) bool {
	if err == nil || errors.Is(err, ErrKeyringTimeout) {
		return false
	}
	return errors.Is(err, ErrNoKeyring) || noKeyring(err)
}

// noKeyring recognises go-keyring's "no keyring here" errors.
func noKeyring(err error) bool { return noKeyringReason(err) != "" }

// noKeyringReason says in words why err means there is no keyring here, or
// returns "" when it does not. On Linux go-keyring reaches the Secret
// Service through github.com/godbus/dbus, whose errors are either typed
// (exec, dial) or known by their text only.
func noKeyringReason(err error) string {
	// No DBUS_SESSION_BUS_ADDRESS, and no dbus-launch to start a bus.
	var ee *exec.Error
	if errors.As(err, &ee) && errors.Is(ee.Err, exec.ErrNotFound) {
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set, and dbus-launch is not installed to start one)"
	}
	// A bus address left behind by a session that is gone: the socket is
	// missing, or nobody listens on it any more.
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
		return "the D-Bus session bus that DBUS_SESSION_BUS_ADDRESS names is gone"
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "dbus: couldn't determine address of session bus"):
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
	case strings.Contains(msg, "org.freedesktop.secrets was not provided by any .service files"):
		// A bus, but nothing on it or installed for it provides the
		// Secret Service (org.freedesktop.DBus.Error.ServiceUnknown).
		return "nothing on the D-Bus session bus provides the Secret Service (such as gnome-keyring or KeePassXC)"
	}
	return ""
}

// reasoned is an error told in words: its text is why, and it unwraps to
// the error it explains.
type reasoned struct {
	why string
	err error
}

func (r reasoned) Error() string { return r.why }
func (r reasoned) Unwrap() error { return r.err }
