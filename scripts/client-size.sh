#!/usr/bin/env bash
# Prints the size of the built browser client: each .wasm, .js and .css file in
# the site's pkg folder, raw, after `gzip -9` and after brotli (what a browser
# downloads depends on what the proxy in front compresses with).
#
#   scripts/client-size.sh              # target/site/pkg of this checkout
#   scripts/client-size.sh DIR          # another build's pkg folder
#
# Build first: `cargo leptos build --release` (or scripts/run.sh).
# Brotli is measured with the `brotli` command if installed, else with python3's
# `brotli` module if importable, else reported as not measured.
set -euo pipefail
if [ $# -gt 0 ]; then
  pkg=$1
else
  cd "$(dirname "$0")/.."
  pkg=target/site/pkg
fi

if [ ! -d "$pkg" ]; then
  echo "No built client in $pkg: run \`cargo leptos build --release\` first." >&2
  exit 1
fi

shopt -s nullglob
files=("$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css)
if [ ${#files[@]} -eq 0 ]; then
  echo "No .wasm, .js or .css files in $pkg: run \`cargo leptos build --release\` first." >&2
  exit 1
fi

if command -v brotli >/dev/null 2>&1; then
  brotli_size() { brotli -c -q 11 -- "$1" | wc -c; }
  brotli_how="brotli -q 11"
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import brotli' 2>/dev/null; then
  brotli_size() {
    python3 -c 'import brotli, sys; print(len(brotli.compress(open(sys.argv[1], "rb").read(), quality=11)))' "$1"
  }
  brotli_how="python3 brotli, quality 11"
else
  brotli_size() { echo "-"; }
  brotli_how=""
fi

# Bytes with thousands separators (1,634,012), whatever the locale.
bytes() { awk -v b="$1" 'BEGIN { if (b == "-") { print "-"; exit } s = ""; while (b >= 1000) { s = sprintf(",%03d", b % 1000) s; b = int(b / 1000) } print b s }'; }

printf '%-28s %12s %12s %12s\n' 'file (bytes)' raw 'gzip -9' brotli
for file in "${files[@]}"; do
  raw=$(wc -c <"$file")
  gz=$(gzip -9 -c -- "$file" | wc -c)
  br=$(brotli_size "$file")
  printf '%-28s %12s %12s %12s\n' "$(basename "$file")" "$(bytes "$raw")" "$(bytes "$gz")" "$(bytes "$br")"
done

if [ -n "$brotli_how" ]; then
  echo "(brotli: $brotli_how)"
else
  echo "(brotli: not measured — neither the brotli command nor python3's brotli module is installed)"
fi
