#!/usr/bin/env bash
# Checks .goreleaser.yaml with GoReleaser itself (built once from the Go module
# proxy and cached under ~/.cache/dbtdbx-tools: about 3 minutes the first
# time). With --snapshot, also runs a full local release that publishes
# nothing (about 2 minutes on 2 cores): dbtdbx and dbtdbx-core for six
# targets, archives, checksums, the Homebrew cask and the Scoop manifest, in
# a throwaway copy of the work tree; then runs --version of dbtdbx unpacked
# from the linux/amd64 archive.
# Not part of CI: cmd/release_test.go checks what users depend on in the file
# and builds with its ldflags; scripts/crossbuild.sh compiles every target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=v2.17.0
cache=${DBTDBX_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dbtdbx-tools}
bin=$cache/goreleaser-$version
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  echo "building goreleaser $version into $bin (a few minutes the first time)" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && GOBIN=$tmp GOFLAGS= go install "github.com/goreleaser/goreleaser/v2@$version")
  mv "$tmp/goreleaser" "$bin"
  rm -rf "$tmp"
fi
cd "$root"
"$bin" check
if [ "${1:-}" = --snapshot ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -a "$root/." "$work/"
  (cd "$work" && HOMEBREW_TAP_GITHUB_TOKEN=unused SCOOP_BUCKET_GITHUB_TOKEN=unused \
    "$bin" release --snapshot --clean >&2)
  ls -l "$work/dist" >&2
  # The archive holds both binaries, and dbtdbx finds dbtdbx-core beside it;
  # the cask and the manifest install both.
  mkdir "$work/unpacked"
  tar -xzf "$work"/dist/dbtdbx_*_linux_amd64.tar.gz -C "$work/unpacked"
  # Both binaries carry the release's version: dbtdbx-core prints it, and
  # would warn on stderr were dbtdbx's another.
  out=$("$work"/unpacked/dbtdbx --version 2>"$work/version.err")
  if [ -s "$work/version.err" ] || [ "$out" = "dbtdbx dev" ]; then
    echo "release-check: dbtdbx --version printed '$out'" >&2
    cat "$work/version.err" >&2
    exit 1
  fi
  echo "$out"
  grep -q 'binary "dbtdbx-core"' "$work"/dist/homebrew/Casks/dbtdbx.rb
  grep -q 'dbtdbx-core.exe' "$work"/dist/scoop/dbtdbx.json
fi
