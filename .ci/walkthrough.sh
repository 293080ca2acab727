#!/usr/bin/env bash
# Runs the README's walk-through block, as written, against `cargo run --example server` started
# from an empty data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/server.sh
awk '/^## Walk-through/{f=1} f&&/^```sh/{c=1;next} c&&/^```/{exit} c' README.md > "$work/walk.sh"
test -s "$work/walk.sh"
bash -euo pipefail "$work/walk.sh" > "$work/out.txt"
grep -q '"role":"assistant"' "$work/out.txt"
grep -q '204$' "$work/out.txt"
if grep -q "$KEY" "$work/server.log"; then echo "the API key appeared in the server log"; exit 1; fi
echo "walk-through: 1 passed, 0 failed"
