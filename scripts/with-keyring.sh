#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring
# (a real Secret Service) whose files live in a throwaway directory.
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${DBTDBX_IN_KEYRING_SESSION:-}" ]; then
  data=$(mktemp -d)
  trap 'rm -rf "$data"' EXIT
  # A fresh keyring file every run; the password only guards that throwaway file.
  # The command's stderr travels on fd 3; the bus daemon's own stderr is
  # filtered of its harmless complaint about the fd limit (we are not allowed
  # to raise it in a container).
  status=0
  DBTDBX_IN_KEYRING_SESSION=1 XDG_DATA_HOME=$data dbus-run-session -- "$0" "$@" \
    3>&2 2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
  exit $status
fi
if { true >&3; } 2>/dev/null; then
  exec 2>&3 3>&-
fi
printf %s "dbtdbx-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    exec "$@"
  fi
  sleep 0.1
done
echo "with-keyring: the Secret Service did not come up on the private bus" >&2
exit 1
