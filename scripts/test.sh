#!/usr/bin/env bash
# Runs every check: format, clippy (ssr and hydrate), the wasm dependency rule,
# unit and integration tests (storage contract on SQLite and PostgreSQL), and the
# Playwright end-to-end tests in Debian's Chromium against the release client.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --for-tests
source scripts/env.sh

say() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

say "cargo fmt --check"
cargo fmt --all -- --check

say "the server's modules use each other without cycles"
python3 scripts/module-graph.py

say "clippy, server build (ssr)"
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings

say "clippy, benchmark (built and linted here, run by hand: see BENCHMARKS.md) and site-build"
cargo clippy -p causeway-bench -p site-build --all-targets -- -D warnings

say "clippy, browser build (hydrate, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown --all-targets -- -D warnings

say "the wasm pulls in no sqlx, tokio or argon2"
forbidden=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none \
  | awk '{ print $1 }' | grep -E '^(sqlx.*|tokio|argon2|mio)$' | sort -u || true)
if [ -n "$forbidden" ]; then
  echo "The front end depends on server-only crates: $forbidden" >&2
  exit 1
fi

say "unit and integration tests (PostgreSQL at 127.0.0.1:5432 for the contract tests)"
cargo_log=$(mktemp)
trap 'rm -f "$cargo_log"' EXIT
cargo test -p app -p server 2>&1 | tee "$cargo_log"
count() { grep -E '^test result:' "$cargo_log" | sed -E "s/.* ([0-9]+) $1.*/\\1/" | awk '{ s += $1 } END { print s + 0 }'; }
cargo_passed=$(count passed)
cargo_failed=$(count failed)

say "the browser client (release wasm, hashed names, compressed forms)"
cargo run --release -p site-build

say "end-to-end tests (Playwright, Debian's Chromium)"
# The server is the debug build the tests above already compiled: compiling it
# again in release would take longer than the whole end-to-end run.
rm -rf end2end/test-results
e2e_status=0
(cd end2end && npx playwright test) || e2e_status=$?
read -r e2e_passed e2e_failed < <(node -e '
  const fs = require("fs");
  const file = "end2end/test-results/results.json";
  if (!fs.existsSync(file)) { console.log("0 1"); process.exit(0); }
  const s = JSON.parse(fs.readFileSync(file, "utf8")).stats;
  console.log(`${s.expected + s.flaky} ${s.unexpected}`);
')
echo "end-to-end: $e2e_passed passed, $e2e_failed failed"

say "done in $((SECONDS - started)) s"
echo "all: $((cargo_passed + e2e_passed)) passed, $((cargo_failed + e2e_failed)) failed"
[ "$e2e_status" -eq 0 ] && [ "$e2e_failed" -eq 0 ] && [ "$e2e_passed" -gt 0 ]
