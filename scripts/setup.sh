#!/usr/bin/env bash
# Installs what building (and, with --for-tests, testing) Causeway needs, skipping
# whatever is already present. Safe to run any number of times.
#
#   rustup target wasm32-unknown-unknown
#   wasm-opt from npm's binaryen (tools/), never Debian's (it breaks the module)
#   terser from npm (tools/), which minifies the JavaScript glue
#   --for-tests: Debian's chromium, and the Playwright packages in end2end/
#
# Nothing else: the browser client is built by site-build, a binary of this
# workspace (wasm-bindgen as a library at the lock file's version), so neither
# cargo-leptos nor wasm-bindgen-cli is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

say() { printf '==> %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# npm ci, skipped when node_modules already matches the lock file.
npm_ci() {
  local dir=$1 stamp="$1/node_modules/.causeway-lock"
  if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
    say "Installing npm packages in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

npm_ci tools

if $for_tests; then
  if [ ! -x /usr/bin/chromium ]; then
    say "Installing Debian's chromium"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
  npm_ci end2end
fi
