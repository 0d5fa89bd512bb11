#!/usr/bin/env bash
# Measures a fresh set-up: clones this repository (its committed HEAD) into a
# temporary folder and times `scripts/run.sh` there, with an empty cargo home
# (no crates, no installed tools: nothing but the Rust toolchain) and an empty
# npm cache, until the server answers its first page. Apt packages already
# installed stay installed; the time to install them is not counted.
#
#   scripts/setup-time.sh            # prints the figure
#   scripts/setup-time.sh --readme   # and writes it into README.md
#
# Run it on an otherwise idle machine: it takes most of its minutes compiling.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
port=39$((RANDOM % 90 + 10))
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -- "-$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone --quiet "$repo" "$work/causeway"
toolchain_bin=$(dirname "$(rustup which cargo)")
export CARGO_HOME="$work/cargo-home"
export npm_config_cache="$work/npm-cache"
export PATH="$toolchain_bin:$PATH"
export CAUSEWAY_LISTEN="127.0.0.1:$port"
log="$work/run.log"

started=$(date +%s)
(cd "$work/causeway" && exec setsid scripts/run.sh) >"$log" 2>&1 &
server_pid=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -30 "$log" >&2
    echo "scripts/run.sh stopped before serving a page" >&2
    exit 1
  fi
  sleep 2
done
seconds=$(($(date +%s) - started))

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
summary=$(printf 'From `git clone` to the first page served by `scripts/run.sh`, with an empty cargo home and an empty `target/`: **%d min %02d s**, measured %s by `scripts/setup-time.sh` on %s cores (%s), %s GB RAM, `rustc %s`.' \
  $((seconds / 60)) $((seconds % 60)) "$(date -u +%Y-%m-%d)" "$(nproc)" "$cpu" \
  "$(awk '/MemTotal/ { printf "%d", $2 / 1048576 }' /proc/meminfo)" "$(rustc --version | awk '{ print $2 }')")
echo "$summary"

if [ "${1:-}" = "--readme" ]; then
  printf '%s\n' "$summary" | scripts/readme-section.py setup-time
fi
