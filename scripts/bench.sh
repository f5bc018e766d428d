#!/usr/bin/env bash
# Measures dbtdbx against the floor, side by side in one run, on this machine:
# a Go "hello world" built with the same flags (the floor), a hello world that
# merely links cobra, x/oauth2, go-keyring and pkg/browser (the link floor),
# `dbtdbx token` on a valid cached token with the file store and with the
# keyring, each with --host and inside a dbt project, a forced refresh, a
# login from callback to stored tokens, 50 parallel token calls, the binary's
# size and peak RSS. Prints a table with ratios to the floor and the goals.
#
# The workspace is the local Databricks-shaped OAuth server (Ory Hydra, as in
# scripts/demo.sh), the browser headless Chromium, the keyring a private
# Secret Service (scripts/with-keyring.sh). Times come from hyperfine -N
# (Debian's package, installed when missing), RUNS runs of each start-up
# scenario (default 300) spread over ROUNDS interleaved rounds (default 5);
# peak RSS from /usr/bin/time, the largest of 10 runs. About 1.5 minutes
# with --deps once Hydra is built.
#
# Usage: scripts/bench.sh [--deps]    RUNS=300 ROUNDS=5 scripts/bench.sh
#   --deps  also builds one hello world per dependency of dbtdbx and prints
#           what each adds to the size and the start-up time, and the
#           package inits of `dbtdbx token` (GODEBUG=inittrace=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-300}
ldflags='-s -w'

if [ -z "${DBTDBX_IN_KEYRING_SESSION:-}" ]; then
  need=()
  command -v hyperfine >/dev/null || need+=(hyperfine)
  [ -x /usr/bin/time ] || need+=(time)
  command -v jq >/dev/null || need+=(jq)
  command -v strace >/dev/null || need+=(strace)
  if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  scripts/setup.sh
  DBTDBX_HYDRA=$(scripts/build-hydra.sh)
  export DBTDBX_HYDRA
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/bin" "$work/hello" "$work/linkfloor"
  echo "building dbtdbx, the floors and the stand-in workspace" >&2
  build() { CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" "$@"; }
  build -o "$work/bin/" . ./cmd/dbtdbx-core
  cat >"$work/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello world") }
EOF
  printf 'module hello\n\ngo 1.21\n' >"$work/hello/go.mod"
  (cd "$work/hello" && build -o "$work/bin/hello" .)
  # The link floor is built against dbtdbx's own go.mod, so it links the
  # same versions.
  cp go.mod go.sum "$work/linkfloor/"
  sed -i 's|^module .*|module linkfloor|' "$work/linkfloor/go.mod"
  cat >"$work/linkfloor/main.go" <<'EOF'
package main

import (
	"fmt"

	_ "github.com/pkg/browser"
	_ "github.com/spf13/cobra"
	_ "github.com/zalando/go-keyring"
	_ "golang.org/x/oauth2"
)

func main() { fmt.Println("hello world") }
EOF
  (cd "$work/linkfloor" && GOFLAGS=-mod=mod build -o "$work/bin/linkfloor" .)
  go build -o "$work/bin/devworkspace" ./internal/devworkspace
  status=0
  BENCH_WORK=$work scripts/with-keyring.sh "$0" "$@" || status=$?
  exit $status
fi

work=$BENCH_WORK
bin=$work/bin
dbtdbx=$bin/dbtdbx
core=$bin/dbtdbx-core
results=$work/results
mkdir -p "$results"
# Nothing ambient leaks in: tokens and settings live in the work dir. (Lock
# files follow the home directory of the user database, not XDG_CACHE_HOME:
# the benchmark's go to ~/.cache/dbtdbx/locks, a few empty files.)
export XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache NO_COLOR=1
unset DATABRICKS_TOKEN DATABRICKS_HOST DATABRICKS_CLIENT_ID DATABRICKS_CLIENT_SECRET DBTDBX_STORAGE DBTDBX_DEBUG \
  DBT_PROJECT_DIR DBT_PROFILES_DIR DBT_PROFILE DBT_TARGET DBT_ENGINE_PROFILES_DIR

coproc WS { exec "$bin/devworkspace"; }
read -r setup <&"${WS[0]}"
eval "$setup" # DATABRICKS_HOST, DATABRICKS_CLIENT_ID and a PATH with the headless browser
host=$DATABRICKS_HOST client=$DATABRICKS_CLIENT_ID
unset DATABRICKS_HOST DATABRICKS_CLIENT_ID
# The example project, whose profile names the workspace through env_var().
project=$work/project
cp -r "$root/example" "$project"
export DBT_DATABRICKS_HOST=$host DBT_DATABRICKS_CLIENT_ID=$client
outside=$work/outside # a directory in no dbt project
mkdir -p "$outside"

# login STORE: logs in through the headless browser, prints since_callback in ms.
login() {
  local log=$work/login-$1.log
  (cd "$outside" && DBTDBX_DEBUG=1 "$dbtdbx" login --host "$host" --client-id "$client" --storage "$1" </dev/null >/dev/null 2>"$log") ||
    { cat "$log" >&2; return 1; }
  local d
  d=$(sed -n 's/.*since_callback=\([^ ]*\).*/\1/p' "$log" | tail -1)
  [ -n "$d" ] || { echo "bench: login logged no since_callback" >&2; cat "$log" >&2; return 1; }
  echo "$d" | to_ms
}
# to_ms turns a Go duration (1.234ms, 850µs, 1.2s) into milliseconds.
to_ms() {
  awk '{ v=$1; if (v ~ /µs$/) { sub(/µs$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 }
         else if (v ~ /s$/) { sub(/s$/,"",v); print v*1000 } }'
}

echo "logging in (file store and keyring) through headless Chromium" >&2
for _ in 1 2 3 4 5; do
  login file >>"$work/login-file.ms"
  login keyring >>"$work/login-keyring.ms"
done
mapfile -t login_file <"$work/login-file.ms"
mapfile -t login_keyring <"$work/login-keyring.ms"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END { print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) }'; }

# bench NAME DIR RUNS COMMAND...: one round of hyperfine runs, kept as
# results/NAME.ROUND.json.
bench() {
  local name=$1 dir=$2 n=$3
  shift 3
  (cd "$dir" && hyperfine -N --style none --warmup 5 --runs "$n" --export-json "$results/$name.$round.json" "$*" >/dev/null 2>&1) ||
    (cd "$dir" && hyperfine -N --warmup 1 --runs 1 "$*") # shows why it failed
}
# rss DIR COMMAND...: the largest peak RSS of 10 runs, in KiB.
rss() {
  local dir=$1 max=0 kb
  shift
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kb=$(cd "$dir" && /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1)
    [ "$kb" -gt "$max" ] && max=$kb
  done
  echo "$max"
}

tf="$dbtdbx token --host $host --client-id $client --storage file"
tk="$dbtdbx token --host $host --client-id $client --storage keyring"
par="$work/par50.sh"
cat >"$par" <<'EOF'
#!/bin/sh
# Runs its arguments 50 times at once and fails if any run fails.
pids=""
for i in $(seq 50); do "$@" >/dev/null & pids="$pids $!"; done
rc=0
for p in $pids; do wait "$p" || rc=1; done
exit $rc
EOF
chmod +x "$par"

# Every scenario runs in each of ROUNDS rounds, so a change in the load of
# the machine hits the floor and dbtdbx alike; a ratio is the median over
# the rounds of the scenario's median over the floor's in the same round.
rounds=${ROUNDS:-5}
fast=$(((runs + rounds - 1) / rounds))
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  bench hello "$outside" "$fast" "$bin/hello"
  bench linkfloor "$outside" "$fast" "$bin/linkfloor"
  bench version "$outside" "$fast" "$dbtdbx version"
  bench file_host "$outside" "$fast" "$tf"
  bench core_file_host "$outside" "$fast" "$core token --host $host --client-id $client --storage file"
  bench file_project "$project" "$fast" "$dbtdbx token --storage file"
  bench keyring_host "$outside" "$fast" "$tk"
  bench keyring_project "$project" "$fast" "$dbtdbx token --storage keyring"
  DBTDBX_KEYRING_CACHE=off bench keyring_nocache "$outside" "$fast" "$tk"
  bench refresh_file "$outside" 8 "$tf --refresh"
  bench refresh_keyring "$outside" 8 "$tk --refresh"
  bench par_hello "$outside" 6 "$par $bin/hello"
  bench par_file "$outside" 6 "$par $tf"
  bench par_keyring "$outside" 6 "$par $tk"
done

echo "peak RSS" >&2
declare -A peak
peak[hello]=$(rss "$outside" "$bin/hello")
peak[linkfloor]=$(rss "$outside" "$bin/linkfloor")
peak[version]=$(rss "$outside" "$dbtdbx" version)
peak[file_host]=$(rss "$outside" $tf)
peak[core_file_host]=$(rss "$outside" "$core" token --host "$host" --client-id "$client" --storage file)
peak[file_project]=$(rss "$project" "$dbtdbx" token --storage file)
peak[keyring_host]=$(rss "$outside" $tk)
peak[keyring_project]=$(rss "$project" "$dbtdbx" token --storage keyring)
peak[keyring_nocache]=$(DBTDBX_KEYRING_CACHE=off rss "$outside" $tk)
peak[refresh_file]=$(rss "$outside" $tf --refresh)
peak[refresh_keyring]=$(rss "$outside" $tk --refresh)

# The cached path must make no network connection and write no file.
syscalls=""
if command -v strace >/dev/null; then
  trace=$work/strace.txt
  (cd "$project" && strace -f -qq -e trace=connect,openat,rename,unlink,mkdir -o "$trace" "$dbtdbx" token --storage file >/dev/null)
  inet=$(grep -c 'connect(.*AF_INET' "$trace" || true)
  writes=$(grep -E 'openat\(.*(O_WRONLY|O_RDWR|O_CREAT)' "$trace" | grep -vc '/dev/' || true)
  other=$(grep -cE '^[0-9]+ +(rename|unlink|mkdir)' "$trace" || true)
  syscalls="cached token (file store, in the project): $inet network connections, $writes files opened for writing, $other renames/unlinks/mkdirs (strace)"
  (cd "$project" && strace -f -qq -e trace=connect -o "$trace" "$dbtdbx" token --storage keyring >/dev/null)
  syscalls="$syscalls; cached token (keyring, in the project): $(grep -c 'connect(' "$trace" || true) connections, D-Bus included"
  (cd "$outside" && DBTDBX_DEBUG=1 strace -f -qq -e trace=connect -o "$trace" $tf --refresh >/dev/null 2>"$work/refresh.log")
  syscalls="$syscalls; token --refresh: $(grep -c 'connect(.*AF_INET' "$trace" || true) network connection(s), $(grep -c 'msg="http request"' "$work/refresh.log" || true) HTTP request(s), of which $(grep 'msg="http request"' "$work/refresh.log" | grep -c 'well-known' || true) discovery"
fi

# summary NAME FLOOR: median ms, mean ms, σ ms over all rounds, and the median
# over the rounds of NAME's median / FLOOR's median.
summary() {
  local f
  for f in "$results/$1".*.json; do
    jq -c --slurpfile floor "${f/$1./$2.}" '{times: .results[0].times, ratio: (.results[0].median / $floor[0].results[0].median)}' "$f"
  done | jq -rs '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    (map(.times) | add | map(. * 1000)) as $t
    | ($t | add / length) as $mean
    | [($t | median), $mean, (($t | map((. - $mean) * (. - $mean)) | add) / ($t | length) | sqrt), (map(.ratio) | median)]
    | @tsv'
}
row() { # name label goal floor-name
  local m mean sd r
  read -r m mean sd r < <(summary "$1" "$4")
  printf '| %s | %.2f | %.2f ± %.2f | %.2fx | %s | %s |\n' "$2" "$m" "$mean" "$sd" "$r" "$3" \
    "$(if [ -n "${peak[$1]:-}" ]; then awk -v k="${peak[$1]}" 'BEGIN { printf "%.1f", k / 1024 }'; else echo -; fi)"
}
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

{
  echo "dbtdbx $("$dbtdbx" version | cut -d' ' -f2), $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), $(nproc) cores, $(date -u +%Y-%m-%d)"
  echo "built with CGO_ENABLED=0 go build -trimpath -ldflags='$ldflags'; hyperfine -N in $rounds interleaved rounds: $((fast * rounds)) runs each ($((8 * rounds)) for refresh, $((6 * rounds)) for 50 parallel)"
  echo
  echo "| what | median ms | mean ± σ ms | ratio to floor | goal | peak RSS MiB |"
  echo "|---|---|---|---|---|---|"
  row hello "floor: hello world" "" hello
  row linkfloor "link floor: hello + cobra, x/oauth2, go-keyring, pkg/browser" "" hello
  row version "dbtdbx version (start-up of dbtdbx handing over to dbtdbx-core)" "" hello
  row file_host "token, cached, file store, --host" "≤ 2x" hello
  row core_file_host "the same run by dbtdbx-core itself (what it costs in one binary)" "" hello
  row file_project "token, cached, file store, in a dbt project" "≤ 2x" hello
  row keyring_host "token, cached, keyring, --host" "≤ 3x (1.5x stretch)" hello
  row keyring_project "token, cached, keyring, in a dbt project" "≤ 3x (1.5x stretch)" hello
  row keyring_nocache "token, cached, keyring, --host, DBTDBX_KEYRING_CACHE=off (the Secret Service read)" "" hello
  row refresh_file "token --refresh, file store (one round trip to the local server)" "" hello
  row refresh_keyring "token --refresh, keyring" "" hello
  row par_hello "50 parallel hello world (floor of the next two)" "" par_hello
  row par_file "50 parallel token, file store" "" par_hello
  row par_keyring "50 parallel token, keyring" "" par_hello
  printf '| login, callback to stored tokens, file store | %.2f | (median of 5) | | | |\n' "$(median "${login_file[@]}")"
  printf '| login, callback to stored tokens, keyring | %.2f | (median of 5) | | | |\n' "$(median "${login_keyring[@]}")"
  echo
  echo "| binary | bytes | MiB | ratio to floor | goal |"
  echo "|---|---|---|---|---|"
  for b in hello linkfloor dbtdbx dbtdbx-core; do
    s=$(size "$bin/$b")
    printf '| %s | %d | %s | %.2fx | %s |\n' "$b" "$s" "$(mib "$s")" \
      "$(awk -v a="$s" -v b="$(size "$bin/hello")" 'BEGIN { print a / b }')" "$(case $b in dbtdbx*) echo "≤ 12 MiB" ;; esac)"
  done
  [ -z "$syscalls" ] || { echo; echo "$syscalls"; }
} | tee "$work/table.md"

[ "${1:-}" = --deps ] || exit 0

# What each dependency adds: a hello world that blank-imports it (its inits
# run, its unused code is dropped), built like the floor; the size added and
# the start-up time added over the floor, measured in the same hyperfine run. The Jinja
# engine is also measured used (compiling and rendering a template): a blank
# import keeps only its init's table of builtins, not its parser and
# evaluator.
echo >&2
echo "dependencies" >&2
deps=(
  "net/http" "html/template" "encoding/json" "log/slog"
  "github.com/spf13/cobra" "golang.org/x/oauth2" "github.com/zalando/go-keyring" "github.com/pkg/browser"
  "github.com/gofrs/flock" "go.yaml.in/yaml/v3" "golang.org/x/term"
  "github.com/ardanlabs/jinja"
)
dep=$work/dep
mkdir -p "$dep"
cp "$root/go.mod" "$root/go.sum" "$dep/"
sed -i 's|^module .*|module dep|' "$dep/go.mod"
{
  echo
  echo "| hello world + | size MiB | added MiB | start-up median ms | added ms |"
  echo "|---|---|---|---|---|"
  hs=$(size "$bin/hello")
  for d in "${deps[@]}" "jinja used"; do
    if [ "$d" = "jinja used" ]; then
      cat >"$dep/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"

	"github.com/ardanlabs/jinja"
)

func main() {
	if len(os.Args) > 1 {
		t, err := jinja.Compile(os.Args[1])
		if err == nil {
			s, _ := t.RenderValues(map[string]jinja.Value{"x": jinja.NewString("x")})
			fmt.Println(s)
		}
		return
	}
	fmt.Println("hello world")
}
EOF
    else
      printf 'package main\n\nimport (\n\t"fmt"\n\n\t_ "%s"\n)\n\nfunc main() { fmt.Println("hello world") }\n' "$d" >"$dep/main.go"
    fi
    (cd "$dep" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$dep/bin" .)
    (cd "$outside" && hyperfine -N --style none --warmup 20 --runs "$runs" --export-json "$results/dep.json" "$bin/hello" "$dep/bin" >/dev/null 2>&1)
    s=$(size "$dep/bin")
    read -r h t < <(jq -r '[.results[].median * 1000] | @tsv' "$results/dep.json")
    printf '| %s | %s | %s | %.2f | %.2f |\n' "$d" "$(mib "$s")" "$(mib $((s - hs)))" "$t" "$(awk -v a="$t" -v b="$h" 'BEGIN { print a - b }')"
  done
} | tee -a "$work/table.md"

# Package inits on the cached token path, averaged over 50 runs, by module.
{
  echo
  echo "package init time of \`dbtdbx token\` (cached, file store, in the project), mean of 50 runs, by module:"
  echo
  echo "| module | init ms | bytes allocated |"
  echo "|---|---|---|"
  for _ in $(seq 50); do
    (cd "$project" && GODEBUG=inittrace=1 "$dbtdbx" token --storage file 2>&1 >/dev/null)
  done | awk '$1 == "init" {
      p = $2; m = p
      if (p ~ /^[^\/]*\./) { n = split(p, a, "/"); m = a[1] "/" a[2] "/" a[3]; if (a[1] == "gopkg.in") m = a[1] "/" a[2] }
      else if (p ~ /^vendor\//) m = "std (vendored x/net, x/crypto)"
      else m = "std"
      t[m] += $5; b[m] += $8; total += $5
    } END { for (m in t) printf "| %s | %.3f | %d |\n", m, t[m] / 50, b[m] / 50; printf "| total | %.3f | |\n", total / 50 }' |
    sort -t'|' -k3 -g -r
} | tee -a "$work/table.md"
