#!/usr/bin/env bash
# Builds Causeway (release) and runs it on the embedded default: SQLite under
# ./data, files under ./data/files, http://127.0.0.1:3000. Extra arguments go to
# `causeway serve`, e.g. `scripts/run.sh --config causeway.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# The wasm client compiles beside the server: their outputs are in separate
# folders of target/ (no lock between them), and each one's single-threaded
# stretches (linking, the wasm's whole-program optimisation) leave a core that
# the other one uses. site-build then finds the wasm built.
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release &
client=$!
cargo build --release -p server -p site-build
wait "$client"
target/release/site-build
exec target/release/causeway "$@" serve
