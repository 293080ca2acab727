#!/usr/bin/env bash
# Instructions per call of the space guard and of the floor (sqlparser's bare parse and render of
# the same query) for each query of benches/queries.sql, counted by callgrind in one run, and
# their ratio. Repeatable to the instruction on the same binary, unlike wall-clock time on a
# shared machine. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
cargo build -q --release --example guard_cost
bin=target/release/examples/guard_cost
count() { # mode query iterations -> total instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 \
    | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
queries=$(grep -c . benches/queries.sql)
printf '%-8s %14s %14s %8s\n' query "floor Ir/call" "guard Ir/call" ratio
for q in $(seq 1 "$queries"); do
  base_f=$(count floor "$q" 0); base_g=$(count guard "$q" 0)
  f=$(( ($(count floor "$q" "$n") - base_f) / n ))
  g=$(( ($(count guard "$q" "$n") - base_g) / n ))
  printf '%-8s %14d %14d %7.2fx\n' "$q" "$f" "$g" "$(echo "$g / $f" | bc -l)"
done
