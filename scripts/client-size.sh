#!/usr/bin/env bash
# Prints what a browser downloads on its first visit to the chat page: the
# client's wasm, JS and CSS as the release build wrote them (raw, and the gzip
# and brotli forms the server sends), and the total against the 300 KB budget.
#
#   scripts/client-size.sh              # target/site of this checkout
#   scripts/client-size.sh --readme     # and write the table into README.md
#
# Build first: `cargo run --release -p site-build` (scripts/run.sh and
# scripts/test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
site=target/site
budget=300000

if [ ! -f "$site/hash.txt" ]; then
  echo "No release build of the client in $site: run \`cargo run --release -p site-build\` first." >&2
  exit 1
fi

# Bytes with thousands separators (1,634,012), whatever the locale.
bytes() { awk -v b="$1" 'BEGIN { s = ""; while (b >= 1000) { s = sprintf(",%03d", b % 1000) s; b = int(b / 1000) } print b s }'; }
size() { wc -c <"$1" | tr -d ' '; }

table=$(
  printf '| file | raw | gzip | brotli |\n|---|---:|---:|---:|\n'
  total_raw=0 total_gz=0 total_br=0
  for kind in wasm js css; do
    hash=$(awk -v k="$kind:" '$1 == k { print $2 }' "$site/hash.txt")
    file="$site/pkg/causeway.$hash.$kind"
    [ -f "$file" ] || { echo "$file is missing: rebuild the client" >&2; exit 1; }
    raw=$(size "$file") gz=$(size "$file.gz") br=$(size "$file.br")
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
    printf '| %s | %s | %s | %s |\n' "$kind" "$(bytes "$raw")" "$(bytes "$gz")" "$(bytes "$br")"
  done
  printf '| **first load** | %s | %s | **%s** |\n' "$(bytes "$total_raw")" "$(bytes "$total_gz")" "$(bytes "$total_br")"
  if [ "$total_br" -le "$budget" ]; then verdict="within"; else verdict="over"; fi
  panel=0
  for kind in wasm js; do
    hash=$(awk -v k="panel-$kind:" '$1 == k { print $2 }' "$site/hash.txt")
    panel=$((panel + $(size "$site/pkg/causeway-panel.$hash.$kind.br")))
  done
  printf '\nBrotli total %s bytes: %s the %s budget. The panel bundle, loaded only by the control panel and My account, adds %s (brotli). Measured %s on %s (%s cores), `rustc %s`.\n' \
    "$(bytes "$total_br")" "$verdict" "$(bytes "$budget")" "$(bytes "$panel")" "$(date -u +%Y-%m-%d)" \
    "$(uname -m)" "$(nproc)" "$(rustc --version | awk '{ print $2 }')"
)
echo "$table"

if [ "${1:-}" = "--readme" ]; then
  printf '%s\n' "$table" | scripts/readme-section.py client-size
fi
