//! The connectors are the second line: even SQL that never passed the guard (the test-only
//! `GuardedSql::unguarded`) writes nothing, on every engine. Each connector runs one query and
//! nothing else (MariaDB runs DDL inside a READ ONLY transaction, and PostgreSQL's simple
//! protocol runs `…; COMMIT; DROP …` past one); a write hidden in a query dies on the
//! transaction's READ ONLY; and on PostgreSQL nothing of a session survives into the next query
//! (an advisory lock outlives a rollback; only the reset releases it).

mod common;
mod tenants;

use breadcrumb_core::Error;
use breadcrumb_core::guard::GuardedSql;
use tenants::{Engine, limits, two_databases};

async fn writes_fail(engine: Engine) {
    let Some((full, _alone)) = two_databases(engine).await else {
        return;
    };
    let before = full.fingerprint().await;
    // Not one query: refused by the connector before anything reaches the database.
    for sql in [
        "INSERT INTO orders (id, customer_id, amount, created_at) VALUES (1, 'x', 1, '2024-01-01 00:00:00')",
        "UPDATE orders SET amount = 0",
        "DELETE FROM orders",
        "CREATE TABLE planted (id int)",
        "DROP TABLE payments",
        "SELECT 1; DROP TABLE payments",
        "SELECT 1; COMMIT; DROP TABLE payments",
        "/* comment */ TRUNCATE orders",
    ] {
        match full.conn.run(&GuardedSql::unguarded(sql), &limits()).await {
            Err(Error::QueryRejected(m)) => {
                assert!(m.contains("one read-only query"), "{engine:?}: {sql}: {m}")
            }
            other => panic!("{engine:?}: {sql} was not refused: {other:?}"),
        }
    }
    // A query with a write inside: the database's own read-only transaction stops it (MariaDB
    // does not parse a WITH before DELETE at all).
    let hidden = match engine {
        Engine::Postgres => "WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d",
        Engine::Mysql | Engine::Sqlite => "WITH d AS (SELECT 1) DELETE FROM orders",
    };
    match full
        .conn
        .run(&GuardedSql::unguarded(hidden), &limits())
        .await
    {
        Err(Error::QueryFailed(m)) => {
            let m = m.to_lowercase();
            assert!(
                m.contains("read-only")
                    || m.contains("read only")
                    || m.contains("readonly")
                    || (engine == Engine::Mysql && m.contains("syntax")),
                "{engine:?}: {hidden}: {m}"
            );
        }
        other => panic!("{engine:?}: {hidden} was not refused: {other:?}"),
    }
    assert_eq!(
        before,
        full.fingerprint().await,
        "{engine:?}: the database changed"
    );
}

#[tokio::test]
async fn postgres_refuses_writes_even_without_the_guard() {
    writes_fail(Engine::Postgres).await;
}

#[tokio::test]
async fn mariadb_refuses_writes_even_without_the_guard() {
    writes_fail(Engine::Mysql).await;
}

#[tokio::test]
async fn sqlite_refuses_writes_even_without_the_guard() {
    writes_fail(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_sessions_are_reset_before_the_next_query() {
    let Some((full, _alone)) = two_databases(Engine::Postgres).await else {
        return;
    };
    let lock = GuardedSql::unguarded(
        "SELECT pg_advisory_lock(424242), set_config('application_name', 'hijacked', false)",
    );
    full.conn
        .run(&lock, &limits())
        .await
        .expect("allowed in a read-only transaction");
    let look = GuardedSql::unguarded(
        "SELECT current_setting('application_name'), \
         (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242)",
    );
    // Every pooled connection in turn: none may still hold the lock or the setting.
    for _ in 0..8 {
        let d = full.conn.run(&look, &limits()).await.unwrap();
        assert_eq!(
            d.rows[0][0], "breadcrumb",
            "a setting survived: {:?}",
            d.rows
        );
        assert_eq!(d.rows[0][1], 0, "an advisory lock survived: {:?}", d.rows);
    }
}
