#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine: the
# Secret Service (gnome-keyring on D-Bus), headless Chromium, and Ory Hydra
# (built once from the Go module proxy and cached).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need=()
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus-daemon)
command -v dbus-send >/dev/null || need+=(dbus-bin)
command -v chromium >/dev/null || need+=(chromium)
command -v flock >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
"$root/scripts/build-hydra.sh" >/dev/null
