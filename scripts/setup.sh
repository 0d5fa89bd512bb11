#!/usr/bin/env bash
# Installs what building (and, with --for-tests, testing) Causeway needs, skipping
# whatever is already present. Safe to run any number of times.
#
#   rustup target wasm32-unknown-unknown
#   cargo-leptos 0.3.10 (0.3.11 needs a newer rustc than 1.95)
#   wasm-bindgen-cli at exactly the version in Cargo.lock
#   wasm-opt from npm's binaryen (tools/), never Debian's (it breaks the module)
#   --for-tests: Debian's chromium, and the Playwright packages in end2end/
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

if ! cargo leptos --version 2>/dev/null | grep -q ' 0\.3\.10$'; then
  say "Installing cargo-leptos 0.3.10 (about 20 minutes on 2 cores, once)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

wasm_bindgen_wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
wasm_bindgen_have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$wasm_bindgen_have" != "$wasm_bindgen_wanted" ]; then
  say "Installing wasm-bindgen-cli $wasm_bindgen_wanted (found: ${wasm_bindgen_have:-none})"
  # --locked first; its locked dependencies are not all on the registry, so fall back.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_wanted" --locked \
    || cargo install wasm-bindgen-cli --version "$wasm_bindgen_wanted" --force
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

# brotli, for the compressed forms of the browser client (scripts/compress-site.sh).
if ! command -v brotli >/dev/null; then
  say "Installing Debian's brotli"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y brotli
fi

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
