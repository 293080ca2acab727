//! Execution limits on every engine: a runaway query is stopped at the deadline and its
//! connection serves the next query; row and byte caps cut results and say so.

mod common;
mod tenants;

use std::time::{Duration, Instant};

use breadcrumb_core::Error;
use breadcrumb_core::connector::QueryLimits;
use tenants::{Engine, two_databases};

async fn limits_hold(engine: Engine) {
    let Some((full, _alone)) = two_databases(engine).await else {
        return;
    };
    let guard = full.guard().await;
    let runaway = guard
        .check("SELECT count(*) FROM orders a, orders b, orders c, orders d, orders e, orders f")
        .unwrap();
    let limits = QueryLimits {
        timeout: Duration::from_millis(700),
        ..Default::default()
    };
    // More rounds than any pool has connections: an abandoned, still-running statement would
    // hold its connection and starve the pool.
    for _ in 0..6 {
        let started = Instant::now();
        match full.conn.run(&runaway, &limits).await {
            Err(Error::QueryFailed(m)) => {
                assert!(m.contains("longer than 700 ms"), "{engine:?}: {m}")
            }
            other => panic!("{engine:?}: {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{engine:?}: stopped after {:?}",
            started.elapsed()
        );
        // The connection is free again: an ordinary query answers at once.
        let quick = guard.check("SELECT count(*) FROM orders").unwrap();
        let t = Instant::now();
        let d = full.conn.run(&quick, &limits).await.unwrap();
        assert_eq!(d.rows.len(), 1);
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{engine:?}: the pool is starved ({:?})",
            t.elapsed()
        );
    }

    let all = guard.check("SELECT * FROM orders ORDER BY id").unwrap();
    let capped = full
        .conn
        .run(
            &all,
            &QueryLimits {
                max_rows: 7,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(capped.rows.len(), 7);
    assert!(capped.truncated);
    let bytes = full
        .conn
        .run(
            &all,
            &QueryLimits {
                max_bytes: 600,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        bytes.truncated && !bytes.rows.is_empty() && bytes.rows.len() < 40,
        "{}",
        bytes.rows.len()
    );
    let whole = full.conn.run(&all, &QueryLimits::default()).await.unwrap();
    assert_eq!((whole.rows.len(), whole.truncated), (40, false));
}

#[tokio::test]
async fn postgres_limits_hold() {
    limits_hold(Engine::Postgres).await;
}

#[tokio::test]
async fn mariadb_limits_hold() {
    limits_hold(Engine::Mysql).await;
}

#[tokio::test]
async fn sqlite_limits_hold() {
    limits_hold(Engine::Sqlite).await;
}
