//! Shared helpers: a fresh PostgreSQL database per test, skipping loudly without a server and
//! failing instead under `CI=true`.

#![allow(dead_code)]

use sqlx::{Connection, PgConnection};

pub fn pg_admin_url() -> String {
    std::env::var("BREADCRUMB_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A new empty database on the test server, or `None` (with a loud message) when there is none.
pub async fn fresh_pg_database() -> Option<String> {
    let admin = pg_admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL is required under CI=true but {admin} is unreachable: {e}");
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL at {admin} is unreachable ({e}); set BREADCRUMB_TEST_PG_URL ***\n"
            );
            return None;
        }
    };
    let name = format!(
        "bc_test_{}",
        breadcrumb_core::ids::new_id("db").trim_start_matches("db_")
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}
