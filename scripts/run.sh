#!/usr/bin/env bash
# Builds Causeway (release) and runs it on the embedded default: SQLite under
# ./data, files under ./data/files, http://127.0.0.1:3000. Extra arguments go to
# `causeway serve`, e.g. `scripts/run.sh --config causeway.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build --release
scripts/compress-site.sh
exec target/release/causeway "$@" serve
