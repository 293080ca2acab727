#!/usr/bin/env bash
# Runs the README's walk-through block, as written, against `cargo run --example server` started
# from an empty data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
export KEY="bc_walkthrough_$(date +%s%N)"
export BREADCRUMB_URL="http://127.0.0.1:$port"
cargo build -q --example server
BREADCRUMB_ADDR="127.0.0.1:$port" BREADCRUMB_DATA_DIR="$work/data" BREADCRUMB_BOOTSTRAP_API_KEY="$KEY" \
  target/debug/examples/server > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -sf "$BREADCRUMB_URL/readyz" >/dev/null && break; sleep 0.5; done
awk '/^## Walk-through/{f=1} f&&/^```sh/{c=1;next} c&&/^```/{exit} c' README.md > "$work/walk.sh"
test -s "$work/walk.sh"
bash -euo pipefail "$work/walk.sh" > "$work/out.txt"
grep -q '"role":"assistant"' "$work/out.txt"
grep -q '204$' "$work/out.txt"
if grep -q "$KEY" "$work/server.log"; then echo "the API key appeared in the server log"; exit 1; fi
echo "walk-through: 1 passed, 0 failed"
