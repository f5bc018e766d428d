#!/usr/bin/env bash
# The main job end to end on this machine: a local Databricks-shaped OAuth
# server (Ory Hydra behind the workspace's /oidc/... paths) stands in for the
# workspace, headless Chromium for the user's browser, and a private Secret
# Service for the keyring. Runs `dbtdbx login`, then `dbtdbx token`, then
# `dbtdbx status`. Installs what it needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${DBTDBX_IN_KEYRING_SESSION:-}" ]; then
  scripts/setup.sh
  DBTDBX_HYDRA=$(scripts/build-hydra.sh)
  export DBTDBX_HYDRA
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  go build -o "$bin/dbtdbx" .
  go build -o "$bin/devworkspace" ./internal/devworkspace
  DEMO_BIN=$bin exec scripts/with-keyring.sh "$0" "$@"
fi

exec 2>&1
export PATH=$DEMO_BIN:$PATH
# The stand-in workspace prints one line of shell to eval, then serves until
# its stdin closes (when this script exits).
coproc WS { exec devworkspace; }
read -r setup <&"${WS[0]}"
eval "$setup"
export NO_COLOR=1

step() { printf '\n$ %s\n' "$*"; "$@"; }

step dbtdbx login
token=$(dbtdbx token)
printf '\n$ dbtdbx token\n%s... (%d characters)\n' "${token:0:16}" "${#token}"
printf '\n$ curl -H "$(dbtdbx token -o header)" $DATABRICKS_HOST/api/2.0/preview/scim/v2/Me\n'
if command -v curl >/dev/null; then
  curl -fsS -H "$(dbtdbx token -o header)" "$DATABRICKS_HOST/api/2.0/preview/scim/v2/Me"
  echo
fi
step dbtdbx status
step dbtdbx logout
