#!/usr/bin/env bash
# Runs every fuzz test for a bounded time each (FUZZTIME, default 10s): the
# callback handler, host normalisation, profile resolution, the Jinja policy
# against the engine, the stored-entry decoder and the discovery document
# parser. A crash fails the run; the input
# that caused it is written under the package's testdata/fuzz, where it
# becomes part of the committed seed corpus once fixed. A run that fails
# without writing such an input (the fuzzer lost a worker on a loaded
# machine) is tried once more.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
count() { if [ -d "$1" ]; then ls "$1" | wc -l; else echo 0; fi; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in \
  auth:FuzzCallback \
  auth:FuzzParseDiscovery \
  config:FuzzNormalizeHost \
  config:FuzzResolveProfile \
  config:FuzzJinjaPolicy \
  token/stored:FuzzDecode; do
  pkg=${target%%:*} name=${target#*:}
  corpus=$pkg/testdata/fuzz/$name
  for attempt in 1 2; do
    before=$(count "$corpus")
    echo "fuzz $pkg $name for $fuzztime" >&2
    if go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "./$pkg" >"$log" 2>&1; then
      break
    fi
    tail -n 30 "$log" >&2
    if [ "$(count "$corpus")" -gt "$before" ] || [ "$attempt" -eq 2 ]; then
      echo "fuzz: $name failed; a crashing input is in $corpus when the fuzzer found one" >&2
      exit 1
    fi
    echo "fuzz: $name failed without a crashing input; trying once more" >&2
  done
done
