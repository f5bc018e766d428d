#!/usr/bin/env bash
# Runs every fuzz test for a bounded time each (FUZZTIME, default 10s): the
# callback handler, host normalisation, profile resolution, the stored-entry
# decoder and the discovery document parser. A crash fails the run; the input
# that caused it is written under the package's testdata/fuzz, where it
# becomes part of the committed seed corpus once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
for target in \
  auth:FuzzCallback \
  auth:FuzzParseDiscovery \
  config:FuzzNormalizeHost \
  config:FuzzResolveProfile \
  token:FuzzDecode; do
  pkg=${target%%:*} name=${target#*:}
  echo "fuzz $pkg $name for $fuzztime" >&2
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "./$pkg" >/dev/null
done
