#!/usr/bin/env bash
# Runs the whole test suite with its real parts: Ory Hydra, a Secret Service on
# a private D-Bus session, and headless Chromium. Installs them first if needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
DBTDBX_HYDRA=$(scripts/build-hydra.sh)
export DBTDBX_HYDRA

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
scripts/crossbuild.sh
scripts/vulncheck.sh
# The Go that .goreleaser.yaml builds releases with must reach no known
# vulnerability of its standard library either.
release_go=$(sed -n 's/^ *- GOTOOLCHAIN=\(go[0-9.]*\)$/\1/p' .goreleaser.yaml)
GOTOOLCHAIN=$release_go DBTDBX_VULNCHECK_STDLIB=fail scripts/vulncheck.sh
scripts/with-keyring.sh go test -race -count=1 -timeout 30m "$@" ./...
# Every fuzz test for a bounded time (FUZZTIME, default 10s each), unless the
# call narrowed the run with go test flags.
if [ $# -eq 0 ]; then
  scripts/fuzz.sh
fi
