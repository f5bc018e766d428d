#!/usr/bin/env bash
# Builds Ory Hydra (the OAuth 2.0 server the tests run against) once and caches it.
# Prints the path of the binary. Rebuilds only when the cached binary is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=v2.3.0
cache=${DBTDBX_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dbtdbx-tools}
bin=$cache/hydra-$version
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  echo "building hydra $version into $bin (a few minutes the first time)" >&2
  # A temporary name of its own, so that two runs building at once (a test run
  # and the demo) each rename a whole binary into place.
  tmp=$(mktemp -d "$bin.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$root/tools/hydra" && CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' \
    -tags sqlite,sqlite_omit_load_extension -o "$tmp/hydra" github.com/ory/hydra/v2)
  mv -f "$tmp/hydra" "$bin"
fi
echo "$bin"
