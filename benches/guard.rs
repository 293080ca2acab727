//! The space guard's cost per query, against the floor: sqlparser's bare parse and render of the
//! same query (the least any parse-and-regenerate guard can do). A ladder of realistic analytical
//! queries from `benches/queries.sql`: one table; two joins and a CTE; five joins with window
//! functions and subqueries. `cargo bench --bench guard` prints ns per query for both; the ratio
//! is in the report printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;
use criterion::{Criterion, criterion_group};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

const LADDER: [&str; 3] = [
    "one table",
    "two joins and a CTE",
    "five joins, windows, subqueries",
];

fn load() -> (SpaceGuard, Vec<String>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let schema: SourceSchema = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/data/schema.json")).expect("schema.json"),
    )
    .expect("schema");
    let filters: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/data/filters.json")).expect("filters.json"),
    )
    .expect("filters");
    let filters = Filters::parse(Some(&filters)).expect("filters");
    let guard = SpaceGuard::new(SqlDialect::Postgres, &schema, &filters, None).expect("guard");
    let queries = std::fs::read_to_string(format!("{dir}/queries.sql"))
        .expect("queries.sql")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    (guard, queries)
}

fn floor(sql: &str) -> String {
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
    parsed[0].to_string()
}

fn bench(c: &mut Criterion) {
    let (guard, queries) = load();
    for (name, sql) in LADDER.iter().zip(&queries) {
        let mut g = c.benchmark_group(*name);
        g.bench_function("floor: sqlparser parse + render", |b| {
            b.iter(|| floor(black_box(sql)))
        });
        g.bench_function("guard: check + rewrite", |b| {
            b.iter(|| guard.check(black_box(sql)).expect("accepted"))
        });
        g.finish();
    }
}

/// Mean ns per call over a fixed wall-clock budget, interleaving the two so that machine noise
/// falls on both alike.
fn ratio_report() {
    let (guard, queries) = load();
    println!("\nguard vs floor (same run, interleaved):");
    for (name, sql) in LADDER.iter().zip(&queries) {
        let (mut t_floor, mut t_guard, mut n) = (Duration::ZERO, Duration::ZERO, 0u32);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            let t = Instant::now();
            black_box(floor(black_box(sql)));
            t_floor += t.elapsed();
            let t = Instant::now();
            black_box(guard.check(black_box(sql)).expect("accepted"));
            t_guard += t.elapsed();
            n += 1;
        }
        let (f, g) = (
            t_floor.as_nanos() / u128::from(n),
            t_guard.as_nanos() / u128::from(n),
        );
        println!(
            "  {name:<34} floor {f:>8} ns   guard {g:>8} ns   ratio {:.2}x",
            g as f64 / f as f64
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio_report();
}
