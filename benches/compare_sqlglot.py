#!/usr/bin/env python3
"""Breadcrumb's guard against the same rewrite done with sqlglot (what Apache Superset uses), in one run.

    pip install sqlglot
    python3 benches/compare_sqlglot.py [--iterations N]

For each query of benches/queries.sql, sqlglot parses it (postgres dialect), replaces every table
of the space that is not a CTE with a derived table carrying the filter and the fence, and renders
it; Breadcrumb's `rewrite` example does the same with `--bench N` (release build, includes the
allow-list checks sqlglot does not do). Both print mean ns per query; the ratio is sqlglot / guard.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import sqlglot
from sqlglot import exp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load():
    schema = json.load(open(os.path.join(HERE, "data", "schema.json")))
    filters = json.load(open(os.path.join(HERE, "data", "filters.json")))
    queries = [l.strip() for l in open(os.path.join(HERE, "queries.sql")) if l.strip()]
    return schema, filters, queries


def fences(visible, filters):
    """The filtered, fenced derived query per table, parsed once (as the guard does)."""
    cond = " AND ".join(f"{k} = '{v}'" for k, v in filters.items())
    return {
        t: sqlglot.parse_one(f'SELECT * FROM "public"."{t}" WHERE {cond} OFFSET 0', read="postgres")
        for t in visible
    }


def sqlglot_rewrite(sql, fenced):
    tree = sqlglot.parse_one(sql, read="postgres")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def replace(node):
        if isinstance(node, exp.Table) and node.name in fenced and node.name not in ctes:
            alias = node.alias_or_name
            return exp.Subquery(
                this=fenced[node.name].copy(),
                alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
            )
        return node

    return tree.transform(replace).sql(dialect="postgres", identify=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=2000)
    args = ap.parse_args()
    schema, filters, queries = load()
    visible = {t for t, s in schema["tables"].items() if all(k in s["columns"] for k in filters)}

    fenced = fences(visible, filters)
    glot = []
    for q in queries:
        sqlglot_rewrite(q, fenced)  # warm-up
        n = max(50, args.iterations // 10)
        t = time.perf_counter()
        for _ in range(n):
            sqlglot_rewrite(q, fenced)
        glot.append((time.perf_counter() - t) / n * 1e9)

    cmd = ["cargo", "run", "-q", "--release", "--example", "rewrite", "--",
           "--dialect", "postgres", "--schema", os.path.join(HERE, "data", "schema.json"),
           "--filters", os.path.join(HERE, "data", "filters.json"), "--bench", str(args.iterations)]
    out = subprocess.run(cmd, input="\n".join(queries) + "\n", capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(out.stderr)
    ours = [int(line.split()[0]) for line in out.stdout.splitlines() if line.strip()]

    print(f"sqlglot {sqlglot.__version__} vs Breadcrumb guard (mean ns per query, same machine, same run)")
    names = ["one table", "two joins and a CTE", "five joins, windows, subqueries"]
    for name, g, o in zip(names, glot, ours):
        print(f"  {name:<34} sqlglot {g:>10.0f} ns   guard {o:>8} ns   guard is {g / o:5.1f}x faster")


if __name__ == "__main__":
    main()
