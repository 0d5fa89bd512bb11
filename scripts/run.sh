#!/usr/bin/env bash
# Builds Causeway (release) and runs it on the embedded default: SQLite under
# ./data, files under ./data/files, http://127.0.0.1:3000. Extra arguments go to
# `causeway serve`, e.g. `scripts/run.sh --config causeway.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo build --release -p server -p site-build
target/release/site-build
exec target/release/causeway "$@" serve
