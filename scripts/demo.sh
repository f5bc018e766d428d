#!/usr/bin/env bash
# The main job end to end on this machine: a local Databricks-shaped OAuth
# server (Ory Hydra behind the workspace's /oidc/... paths) stands in for the
# workspace, headless Chromium for the user's browser, and a private Secret
# Service for the keyring. From the example dbt project (example/), whose
# profiles.yml names the workspace, runs `dbtdbx login`, `dbtdbx token`,
# `dbtdbx status`, `dbtdbx exec` and `dbtdbx logout`, with no flags. Installs
# what it needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${DBTDBX_IN_KEYRING_SESSION:-}" ]; then
  scripts/setup.sh
  DBTDBX_HYDRA=$(scripts/build-hydra.sh)
  export DBTDBX_HYDRA
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  go build -o "$bin/" . ./cmd/dbtdbx-core
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
# The example profile reads the workspace from these, as a team's shared
# profiles.yml would; nothing else tells dbtdbx where to log in.
export DBT_DATABRICKS_HOST=$DATABRICKS_HOST DBT_DATABRICKS_CLIENT_ID=$DATABRICKS_CLIENT_ID
unset DATABRICKS_HOST DATABRICKS_CLIENT_ID
cd "$root/example"

# step shows a command as it would be typed (quoted where needed), then runs it.
step() {
  local shown="\$" a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=-]+$ ]]; then
      shown+=" $a"
    else
      shown+=" '${a//\'/\'\\\'\'}'"
    fi
  done
  printf '\n%s\n' "$shown"
  "$@"
}

step dbtdbx login
token=$(dbtdbx token)
printf '\n$ dbtdbx token\n(a token of %d characters, not shown)\n' "${#token}"
step dbtdbx status
# What dbt would do under exec: call the workspace with DATABRICKS_TOKEN.
me='curl -fsS -H "Authorization: Bearer $DATABRICKS_TOKEN" "$DATABRICKS_HOST/api/2.0/preview/scim/v2/Me"'
if command -v curl >/dev/null; then
  step dbtdbx exec -- sh -c "$me"
fi
step dbtdbx logout
