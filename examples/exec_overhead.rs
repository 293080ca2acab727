//! Execution overhead of the guard's rewrite on PostgreSQL: each benchmark query as rewritten
//! for the space `{"customer_id": "c1"}`, against the same query written by hand with the tenant
//! predicate in its WHERE clauses (benches/queries_by_hand.sql), on tables of one million rows
//! across 100 tenants. Run by `benches/exec_overhead.sh`; `--explain` prints both plans.
//!
//! `BREADCRUMB_BENCH_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`) names the server;
//! the data goes into a database `bc_bench`, created and loaded once.

use std::time::{Duration, Instant};

use anyhow::Context;
use breadcrumb_core::connector::{Connector, PostgresConnector};
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::model::{ConnectionSpec, DatabaseType};
use sqlx::Connection;

const LOAD: &str = "
CREATE TABLE customers (id int PRIMARY KEY, customer_id text NOT NULL, name text NOT NULL, country text, created_at timestamp);
CREATE TABLE orders (id int PRIMARY KEY, customer_id text NOT NULL, buyer_id int, product_id int, amount numeric(12,2) NOT NULL, status text, note text, created_at timestamp NOT NULL);
CREATE TABLE order_items (id int PRIMARY KEY, customer_id text NOT NULL, order_id int, product_id int, quantity int, price numeric(12,2));
CREATE TABLE payments (id int PRIMARY KEY, customer_id text NOT NULL, order_id int, paid numeric(12,2), method text, paid_at timestamp);
CREATE TABLE shipments (id int PRIMARY KEY, customer_id text NOT NULL, order_id int, carrier text, shipped_at timestamp);
INSERT INTO customers SELECT i, 'c' || (i % 100), 'Customer ' || i, (ARRAY['DE','FR','US','GB'])[1 + i % 4], timestamp '2023-01-01' + (i % 700) * interval '1 day' FROM generate_series(1, 100000) i;
INSERT INTO orders SELECT i, 'c' || (i % 100), 100 + ((i / 100) % 999) * 100 + (i % 100), i % 500, (i % 997) + 0.5, (ARRAY['paid','open','refunded'])[1 + i % 3], (i % 50)::text, timestamp '2023-01-01' + (i % 730) * interval '1 day' FROM generate_series(1, 1000000) i;
INSERT INTO order_items SELECT i, 'c' || (i % 100), i, i % 500, 1 + i % 5, (i % 311) + 0.25 FROM generate_series(1, 1000000) i;
INSERT INTO payments SELECT i, 'c' || (i % 100), i, (i % 997) + 0.5, (ARRAY['card','invoice','wire'])[1 + i % 3], timestamp '2023-01-02' + (i % 730) * interval '1 day' FROM generate_series(1, 1000000) i;
INSERT INTO shipments SELECT i, 'c' || (i % 100), i * 2, (ARRAY['dhl','ups'])[1 + i % 2], timestamp '2023-01-03' + (i % 730) * interval '1 day' FROM generate_series(1, 500000) i;
CREATE INDEX ON customers (customer_id); CREATE INDEX ON orders (customer_id); CREATE INDEX ON orders (buyer_id);
CREATE INDEX ON order_items (customer_id); CREATE INDEX ON order_items (order_id);
CREATE INDEX ON payments (customer_id); CREATE INDEX ON payments (order_id);
CREATE INDEX ON shipments (customer_id); CREATE INDEX ON shipments (order_id);
ANALYZE;
";

fn lines(path: &str) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| path.to_string())?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

/// Medians of both queries, run alternately (warm-up first) so that drift on the machine falls
/// on both alike.
async fn medians_ms(conn: &mut sqlx::PgConnection, a: &str, b: &str) -> anyhow::Result<(f64, f64)> {
    async fn once(conn: &mut sqlx::PgConnection, sql: &str) -> anyhow::Result<f64> {
        let t = Instant::now();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut *conn)
            .await?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    }
    for _ in 0..3 {
        once(conn, a).await?;
        once(conn, b).await?;
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while ta.len() < 21 || (started.elapsed() < Duration::from_secs(4) && ta.len() < 301) {
        ta.push(once(conn, a).await?);
        tb.push(once(conn, b).await?);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    Ok((median(ta), median(tb)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let explain = std::env::args().any(|a| a == "--explain");
    let admin = std::env::var("BREADCRUMB_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .context("url")?;
    let url = format!("{base}/bc_bench");
    if sqlx::PgConnection::connect(&url).await.is_err() {
        eprintln!("loading one million rows into bc_bench (once)…");
        let mut a = sqlx::PgConnection::connect(&admin).await?;
        sqlx::raw_sql("CREATE DATABASE bc_bench")
            .execute(&mut a)
            .await?;
        let mut c = sqlx::PgConnection::connect(&url).await?;
        sqlx::raw_sql(LOAD).execute(&mut c).await?;
    }
    let u = url.strip_prefix("postgres://").context("url")?;
    let (user, rest) = u.split_once('@').context("user")?;
    let (hostport, _) = rest.split_once('/').context("db")?;
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let connector = PostgresConnector::open(
        &ConnectionSpec {
            database_type: DatabaseType::Postgres,
            host: host.into(),
            port: port.parse()?,
            database: "bc_bench".into(),
            username: user.into(),
            password: String::new(),
        },
        Duration::from_secs(5),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let schema = connector
        .schema()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let filters = Filters::parse(Some(&serde_json::json!({"customer_id": "c1"})))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let guard = SpaceGuard::new(SqlDialect::Postgres, &schema, &filters, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let queries = lines(&format!("{dir}/queries.sql"))?;
    let by_hand = lines(&format!("{dir}/queries_by_hand.sql"))?;
    let mut conn = sqlx::PgConnection::connect(&url).await?;
    println!(
        "PostgreSQL, 1M rows, space customer_id = 'c1' (1 of 100 tenants); median of repeated runs"
    );
    let mut worst: f64 = 0.0;
    for (i, (q, hand)) in queries.iter().zip(&by_hand).enumerate() {
        let rewritten = guard.check(q).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (h, g) = medians_ms(&mut conn, hand, rewritten.as_str()).await?;
        worst = worst.max(g / h);
        println!(
            "  Q{}: by hand {h:>9.3} ms   guarded {g:>9.3} ms   ratio {:.2}x",
            i + 1,
            g / h
        );
        if explain {
            for (label, sql) in [("by hand", hand.as_str()), ("guarded", rewritten.as_str())] {
                println!("\n-- Q{} {label}: {sql}", i + 1);
                let plan = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}"
                )))
                .fetch_all(&mut conn)
                .await?;
                for row in plan {
                    use sqlx::Row;
                    println!("   {}", row.try_get::<String, _>(0)?);
                }
            }
        }
    }
    println!("worst ratio {worst:.2}x (target 1.15x)");
    Ok(())
}
