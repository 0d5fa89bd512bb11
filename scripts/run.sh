#!/usr/bin/env bash
# Builds Causeway (release) and runs it on the embedded default: SQLite under
# ./data, files under ./data/files, http://127.0.0.1:3000. Extra arguments go to
# `causeway serve`, e.g. `scripts/run.sh --config causeway.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# The browser client and the server build side by side: their phases that
# keep one core busy (linking, wasm-opt, the last crates) overlap. They share
# no build folder (the wasm has its own profile), so neither waits for the
# other's lock.
cargo build --release -p site-build
target/release/site-build &
client=$!
cargo build --release -p server
wait "$client"
exec target/release/causeway "$@" serve
