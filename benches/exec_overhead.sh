#!/usr/bin/env bash
# Execution overhead of the guard's rewrite against hand-written tenant predicates, on 1M rows in
# PostgreSQL (BREADCRUMB_BENCH_PG_URL). Pass --explain to print both plans of every query.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --release --example exec_overhead -- "$@"
