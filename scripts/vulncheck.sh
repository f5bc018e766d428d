#!/usr/bin/env bash
# Runs govulncheck (golang.org/x/vuln) on every package, offline: the public
# vulnerability database cannot be reached from CI, so this builds a local
# copy from the golang.org/x/vulndb module (its data/osv reports, indexed by
# the module's own cmd/indexdb) and points govulncheck at it with -db file://.
# Both tools and the database are built once and cached under
# ~/.cache/dbtdbx-tools (about 1 minute the first time, then seconds).
#
# Fails when our code calls a vulnerable function of a module we require: that
# is fixed by upgrading the module (go get MODULE@FIXED). Vulnerabilities of
# the standard library are the Go toolchain's: they are listed with the Go
# version that fixes them, and fail the run only with
# DBTDBX_VULNCHECK_STDLIB=fail, since this machine's Go is not ours to choose.
# A vulnerability that is reviewed and accepted goes in scripts/vulncheck.allow
# (one ID a line, with the reason after a #), never silently.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
vuln_version=v1.9.0
vulndb_version=v0.0.0-20261105234957-e22db6528018
cache=${DBTDBX_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dbtdbx-tools}
# govulncheck reads the standard library's source with the go/types of the
# Go that built it, so it is built by the Go that runs (GOTOOLCHAIN included).
gover=$(go env GOVERSION)
govulncheck=$cache/govulncheck-$vuln_version-$gover
db=$cache/vulndb-$vulndb_version
mkdir -p "$cache"

if [ ! -x "$govulncheck" ]; then
  echo "building govulncheck $vuln_version with $gover into $govulncheck" >&2
  bin=$(mktemp -d)
  (cd "$bin" && GOBIN=$bin GOFLAGS= go install "golang.org/x/vuln/cmd/govulncheck@$vuln_version")
  mv "$bin/govulncheck" "$govulncheck"
  rm -rf "$bin"
fi

if [ ! -f "$db/index/db.json" ]; then
  echo "building the vulnerability database from golang.org/x/vulndb@$vulndb_version into $db" >&2
  tmp=$(mktemp -d)
  src=$(cd "$tmp" && GOFLAGS= go mod download -json "golang.org/x/vulndb@$vulndb_version" | jq -r .Dir)
  (cd "$tmp" && GOBIN=$tmp GOFLAGS= go install "golang.org/x/vulndb/cmd/indexdb@$vulndb_version")
  "$tmp/indexdb" -vulns "$src/data/osv" -out "$tmp/db"
  rm -rf "$db"
  mv "$tmp/db" "$db"
  rm -rf "$tmp"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "govulncheck $vuln_version ($gover) against golang.org/x/vulndb@$vulndb_version" >&2
"$govulncheck" -format json -db "file://$db" ./... >"$out"

allowed=()
if [ -f scripts/vulncheck.allow ]; then
  mapfile -t allowed < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/vulncheck.allow | grep -v '^$' || true)
fi
allow_json=$(printf '%s\n' "${allowed[@]+"${allowed[@]}"}" | jq -R . | jq -sc 'map(select(. != ""))')

# One line per vulnerability that our code calls (the finding's innermost
# frame names a function): ID, module, version found, version that fixes it,
# summary, and the entry point in our code of one call path (traces run from
# the vulnerable function outwards).
report=$(jq -rs --argjson allow "$allow_json" '
  (map(select(.osv)) | map({key: .osv.id, value: (.osv.summary // "")}) | from_entries) as $summary
  | map(select(.finding and .finding.trace[0].function))
  | group_by(.finding.osv)
  | map(.[0].finding as $f
      | ($f.trace | map(select(.position)) | last) as $ours
      | [ (if ($allow | index($f.osv)) then "allowed" elif $f.trace[0].module == "stdlib" then "stdlib" else "module" end),
          $f.osv, $f.trace[0].module, $f.trace[0].version, ($f.fixed_version // "none"),
          $summary[$f.osv],
          (if $ours then "\($ours.position.filename):\($ours.position.line)" else "" end) ]
      | @tsv)
  | .[]' "$out")

modules=0 stdlib=0
while IFS=$'\t' read -r kind id module found fixed summary where; do
  [ -n "$kind" ] || continue
  case $kind in
    module) modules=$((modules + 1)); label="VULNERABLE" ;;
    stdlib) stdlib=$((stdlib + 1)); label="stdlib" ;;
    allowed) label="allowed" ;;
  esac
  printf '%-10s %s %s@%s (fixed in %s): %s%s\n' "$label" "$id" "$module" "$found" "$fixed" "$summary" "${where:+ [via $where]}" >&2
done <<<"$report"

if [ "$stdlib" -gt 0 ]; then
  echo "vulncheck: $stdlib called vulnerabilities in the Go standard library of $gover; a release must be built with a Go that fixes them" >&2
fi
if [ "$modules" -gt 0 ]; then
  echo "vulncheck: $modules called vulnerabilities in required modules: upgrade them (go get MODULE@FIXED && go mod tidy), or review and list them in scripts/vulncheck.allow" >&2
  exit 1
fi
if [ "$stdlib" -gt 0 ] && [ "${DBTDBX_VULNCHECK_STDLIB:-warn}" = fail ]; then
  exit 1
fi
echo "vulncheck: no called vulnerabilities in required modules" >&2
