#!/usr/bin/env bash
# Writes the brotli (`.br`) and gzip (`.gz`) forms of the built browser client
# beside each file (wasm, JS, CSS in the site's pkg folder), for the server to
# send as the browser accepts. Run after every `cargo leptos build --release`
# (scripts/run.sh and scripts/test.sh do); a form older than its file is
# written again (rebuilding the client makes its forms older than it).
#
#   scripts/compress-site.sh           # target/site/pkg of this checkout
#   scripts/compress-site.sh DIR       # another build's pkg folder
set -euo pipefail
if [ $# -gt 0 ]; then
  pkg=$1
else
  cd "$(dirname "$0")/.."
  pkg=target/site/pkg
fi
command -v brotli >/dev/null || { echo "brotli is missing: run scripts/setup.sh" >&2; exit 1; }
shopt -s nullglob
for file in "$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css; do
  if [ ! "$file.br" -nt "$file" ]; then
    brotli --quality=11 --force --no-copy-stat --output="$file.br" "$file"
  fi
  if [ ! "$file.gz" -nt "$file" ]; then
    gzip -9 --no-name --keep --force --stdout "$file" > "$file.gz"
  fi
done
