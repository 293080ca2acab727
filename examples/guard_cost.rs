//! Runs the guard, or the floor (sqlparser's bare parse and render), on one query of
//! `benches/queries.sql` a given number of times. `benches/guard_instructions.sh` runs it under
//! callgrind to count instructions per call: on a shared virtual machine wall-clock timings
//! move by tens of percent between runs, instruction counts do not.
//!
//! ```sh
//! cargo run --release --example guard_cost -- guard 1 1000   # mode, query (1-based), iterations
//! ```

use std::hint::black_box;

use anyhow::{Context, bail};
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, index, n] = args.as_slice() else {
        bail!("usage: guard_cost floor|guard <query number> <iterations>");
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let schema: SourceSchema =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/data/schema.json"))?)?;
    let filters: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{dir}/data/filters.json"
    ))?)?;
    let guard = SpaceGuard::new(
        SqlDialect::Postgres,
        &schema,
        &Filters::parse(Some(&filters))?,
        None,
    )?;
    let queries = std::fs::read_to_string(format!("{dir}/queries.sql"))?;
    let index: usize = index.parse().context("query number")?;
    let sql = queries
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(index.saturating_sub(1))
        .context("no such query")?;
    let n: u32 = n.parse().context("iterations")?;
    // Both paths are warmed once, so a run of 0 iterations carries the same start-up cost.
    let floor = |sql: &str| -> anyhow::Result<String> {
        Ok(Parser::parse_sql(&PostgreSqlDialect {}, sql)?[0].to_string())
    };
    black_box(floor(sql)?);
    black_box(guard.check(sql)?);
    for _ in 0..n {
        match mode.as_str() {
            "floor" => {
                black_box(floor(black_box(sql))?);
            }
            "guard" => {
                black_box(guard.check(black_box(sql))?);
            }
            other => bail!("unknown mode {other}"),
        }
    }
    Ok(())
}
