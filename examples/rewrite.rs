//! The space guard from the command line, for contributors:
//!
//! ```sh
//! cargo run --release --example rewrite -- --dialect postgres --schema schema.json --filters filters.json < queries.sql
//! ```
//!
//! Reads one query per line on standard input and writes one line per query: the rewritten SQL,
//! or `ERROR: ` and the reason. With `--bench N`, runs each query N times and prints the mean
//! nanoseconds per query instead. `schema.json` is `{"tables": {"orders": {"columns": {"id":
//! "integer", "customer_id": "text"}}}}`; `filters.json` is a space's `filters` object.

use std::io::{BufRead, Write};
use std::time::Instant;

use anyhow::{Context, bail};
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;

struct Args {
    dialect: SqlDialect,
    schema: SourceSchema,
    filters: Filters,
    database: Option<String>,
    bench: Option<u32>,
}

fn read_json(path: &str) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let (mut dialect, mut schema, mut filters, mut database, mut bench) =
        (None, None, None, None, None);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dialect" => {
                let v = value()?;
                dialect = Some(SqlDialect::parse(&v).with_context(|| {
                    format!("unknown dialect {v} (postgres, redshift, sqlite, mysql)")
                })?);
            }
            "--schema" => schema = Some(serde_json::from_value(read_json(&value()?)?)?),
            "--filters" => {
                let v = read_json(&value()?)?;
                filters =
                    Some(Filters::parse(Some(&v)).map_err(|e| anyhow::anyhow!("filters: {e:?}"))?);
            }
            "--database" => database = Some(value()?),
            "--bench" => bench = Some(value()?.parse().context("--bench takes a count")?),
            other => bail!("unknown option {other}"),
        }
    }
    Ok(Args {
        dialect: dialect.context("--dialect is required")?,
        schema: schema.context("--schema is required")?,
        filters: filters.unwrap_or_default(),
        database,
        bench,
    })
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let guard = SpaceGuard::new(a.dialect, &a.schema, &a.filters, a.database.as_deref())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let sql = line?;
        if sql.trim().is_empty() {
            continue;
        }
        match a.bench {
            None => match guard.check(&sql) {
                Ok(g) => writeln!(out, "{}", g.as_str())?,
                Err(e) => writeln!(out, "ERROR: {}", one_line(&e.to_string()))?,
            },
            Some(n) => {
                let n = n.max(1);
                let started = Instant::now();
                for _ in 0..n {
                    let _ = std::hint::black_box(guard.check(std::hint::black_box(&sql)));
                }
                let ns = started.elapsed().as_nanos() / u128::from(n);
                writeln!(out, "{ns} ns\t{}", one_line(&sql))?;
            }
        }
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
