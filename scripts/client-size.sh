#!/usr/bin/env bash
# Prints what a browser downloads on its first visit to the chat page: the
# client's main wasm, its JS, the link module and the CSS as the release build
# wrote them (raw, and the gzip and brotli forms the server sends), the total
# against the 300 KB budget, and what the other pages fetch when first shown.
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
  for kind in wasm js link css; do
    key=$kind stem=causeway ext=$kind
    # The link module shares the main JS's hash.
    [ "$kind" = link ] && key=js stem=causeway-link ext=js
    hash=$(awk -v k="$key:" '$1 == k { print $2 }' "$site/hash.txt")
    file="$site/pkg/$stem.$hash.$ext"
    [ -f "$file" ] || { echo "$file is missing: rebuild the client" >&2; exit 1; }
    raw=$(size "$file") gz=$(size "$file.gz") br=$(size "$file.br")
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
    printf '| %s | %s | %s | %s |\n' "$kind" "$(bytes "$raw")" "$(bytes "$gz")" "$(bytes "$br")"
  done
  printf '| **first load** | %s | %s | **%s** |\n' "$(bytes "$total_raw")" "$(bytes "$total_gz")" "$(bytes "$total_br")"
  if [ "$total_br" -le "$budget" ]; then verdict="within"; else verdict="over"; fi
  # Each other page's modules (brotli), from the build's list of lazy routes.
  read -r routes smallest largest largest_route < <(python3 - "$site" <<'PY'
import json, os, re, sys
site = sys.argv[1]
lazy = json.load(open(os.path.join(site, "lazy.json")))
sizes = {}
for route, files in lazy.items():
    if not re.match(r"^__\w+_route_view_\d+$", route):
        continue
    name = re.sub(r"^__(\w+)_route_view_\d+$", r"\1", route)
    sizes[name] = sum(os.path.getsize(os.path.join(site, "pkg", f + ".wasm.br")) for f in files)
largest = max(sizes, key=sizes.get)
print(len(sizes), min(sizes.values()), sizes[largest], largest)
PY
  )
  printf '\nBrotli total %s bytes: %s the %s budget. The %s other pages each fetch their own modules when first shown, from %s to %s bytes (brotli; the largest is %s). Measured %s on %s (%s cores), `rustc %s`.\n' \
    "$(bytes "$total_br")" "$verdict" "$(bytes "$budget")" "$routes" "$(bytes "$smallest")" "$(bytes "$largest")" "$largest_route" \
    "$(date -u +%Y-%m-%d)" "$(uname -m)" "$(nproc)" "$(rustc --version | awk '{ print $2 }')"
)
echo "$table"

if [ "${1:-}" = "--readme" ]; then
  printf '%s\n' "$table" | scripts/readme-section.py client-size
fi
