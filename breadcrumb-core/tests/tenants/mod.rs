//! Two tenants' data on a real engine, and the judge of every query: tenant A's space must never
//! show a row, value or aggregate of tenant B, and whatever it answers must equal the original
//! query's answer on a database that holds tenant A's rows alone.
//!
//! Tenant A is eight customers (`acme`, `acme-2` … `acme-8`, the space's filter lists all eight,
//! as in the predicate-order leak this guard must stop); tenant B is `bravo`. B's values carry
//! markers (`bravo`, `7777`, `TOPSECRET`) that must never appear in an answer or an error.

#![allow(dead_code)]

use std::time::Duration;

use breadcrumb_core::Error;
use breadcrumb_core::connector::{
    Connector, MySqlConnector, PostgresConnector, QueryLimits, SqliteConnector,
};
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{GuardedSql, SpaceGuard, SqlDialect};
use breadcrumb_core::model::{ConnectionSpec, DatabaseType, QueryData};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Engine {
    Postgres,
    Mysql,
    Sqlite,
}

pub const A_CUSTOMERS: [&str; 8] = [
    "acme", "acme-2", "acme-3", "acme-4", "acme-5", "acme-6", "acme-7", "acme-8",
];

/// Values that exist only in tenant B's rows.
pub const B_MARKERS: [&str; 4] = ["bravo", "7777", "topsecret", "90210"];

pub fn space_filters() -> Filters {
    Filters::parse(Some(&json!({ "customer_id": A_CUSTOMERS }))).expect("filters")
}

fn ddl(engine: Engine) -> Vec<String> {
    let (ts, money, text) = match engine {
        Engine::Postgres => ("timestamp", "numeric(12,2)", "text"),
        Engine::Mysql => ("datetime", "decimal(12,2)", "varchar(200)"),
        Engine::Sqlite => ("timestamp", "numeric", "text"),
    };
    let mut v = vec![
        format!(
            "CREATE TABLE customers (id int PRIMARY KEY, customer_id {text} NOT NULL, name {text} NOT NULL, country {text}, created_at {ts})"
        ),
        format!(
            "CREATE TABLE orders (id int PRIMARY KEY, customer_id {text} NOT NULL, buyer_id int, amount {money} NOT NULL, status {text}, note {text}, created_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE payments (id int PRIMARY KEY, customer_id {text} NOT NULL, order_id int, paid {money}, method {text})"
        ),
        format!("CREATE TABLE secrets (id int, secret {text})"),
        "CREATE VIEW all_orders AS SELECT * FROM orders".to_string(),
        "INSERT INTO secrets VALUES (1, 'TOPSECRET')".to_string(),
    ];
    if engine == Engine::Postgres {
        v.push("CREATE SEQUENCE order_seq".into());
    }
    v
}

/// Rows of one tenant: deterministic, with NULLs, duplicates and dates across two years.
fn rows(tenant_b: bool) -> Vec<String> {
    let mut v = Vec::new();
    let customers: Vec<&str> = if tenant_b {
        vec!["bravo"]
    } else {
        A_CUSTOMERS.to_vec()
    };
    let base = if tenant_b { 90200 } else { 1 };
    for (i, c) in customers.iter().enumerate() {
        let id = base + i as i64;
        let (name, country) = if tenant_b {
            ("Bravo Secret Corp".to_string(), "BV")
        } else {
            (
                format!("Acme Unit {}", i + 1),
                if i % 2 == 0 { "DE" } else { "FR" },
            )
        };
        v.push(format!("INSERT INTO customers VALUES ({id}, '{c}', '{name}', '{country}', '2024-0{}-15 10:00:00')", 1 + i % 9));
    }
    let n = if tenant_b { 12 } else { 40 };
    for k in 0..n {
        let id = base + 100 + k;
        let c = customers[(k as usize) % customers.len()];
        let buyer = base + (k % customers.len() as i64);
        let amount = if tenant_b {
            format!("7777.{:02}", k)
        } else {
            format!("{}.{:02}", 10 + (k * 37) % 490, (k * 13) % 100)
        };
        let status = match (tenant_b, k % 3) {
            (true, _) => "bravo-only",
            (false, 0) => "paid",
            (false, 1) => "open",
            _ => "refunded",
        };
        // Tenant A's notes all cast to integers; tenant B's do not (the error-based leak).
        let note = if tenant_b {
            "'BRAVO-SECRET-NOTE'".to_string()
        } else if k % 5 == 0 {
            "NULL".to_string()
        } else {
            format!("'{}'", k * 3)
        };
        let month = 1 + (k % 12);
        let year = 2023 + (k % 2);
        v.push(format!(
            "INSERT INTO orders VALUES ({id}, '{c}', {buyer}, {amount}, '{status}', {note}, '{year}-{month:02}-{:02} 12:00:00')",
            1 + (k % 28)
        ));
        if k % 2 == 0 {
            let method = if tenant_b {
                "bravo-wire"
            } else if k % 4 == 0 {
                "card"
            } else {
                "invoice"
            };
            v.push(format!(
                "INSERT INTO payments VALUES ({}, '{c}', {id}, {amount}, '{method}')",
                base + 500 + k
            ));
        }
    }
    v
}

pub struct Db {
    pub engine: Engine,
    pub conn: Box<dyn Connector>,
    pub admin_url: String,
}

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(what: &str, why: impl std::fmt::Display) -> Option<(Db, Db)> {
    if ci() {
        panic!("{what} is required under CI=true: {why}");
    }
    eprintln!("\n*** SKIPPED: {what} unavailable ({why}) ***\n");
    None
}

async fn exec_all(url: &str, statements: &[String]) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(url).await.expect("connect");
    for s in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

pub fn mysql_admin_url() -> String {
    std::env::var("BREADCRUMB_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

async fn new_database(engine: Engine) -> Result<(String, String), String> {
    use sqlx::Connection;
    let name = format!(
        "bc_t_{}",
        breadcrumb_core::ids::new_id("db").trim_start_matches("db_")
    );
    match engine {
        Engine::Postgres => {
            let admin = super::common::pg_admin_url();
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .map_err(|e| format!("{admin}: {e}"))?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin);
            Ok((format!("{base}/{name}"), name))
        }
        Engine::Mysql => {
            let admin = mysql_admin_url();
            let mut c = sqlx::MySqlConnection::connect(&admin)
                .await
                .map_err(|e| format!("{admin}: {e}"))?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin);
            Ok((format!("{base}/{name}"), name))
        }
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join("bc_guard_tests");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let file = format!("{name}.db");
            Ok((
                format!("sqlite://{}?mode=rwc", dir.join(&file).display()),
                file,
            ))
        }
    }
}

async fn connector(engine: Engine, url: &str, name: &str) -> Box<dyn Connector> {
    match engine {
        Engine::Postgres | Engine::Mysql => {
            let u = url.split_once("://").expect("url").1;
            let (user, rest) = u.split_once('@').expect("user");
            let (hostport, _) = rest.split_once('/').expect("db");
            let (host, port) = hostport.split_once(':').expect("port");
            let spec = ConnectionSpec {
                database_type: if engine == Engine::Postgres {
                    DatabaseType::Postgres
                } else {
                    DatabaseType::Mysql
                },
                host: host.into(),
                port: port.parse().expect("port"),
                database: name.into(),
                username: user.into(),
                password: String::new(),
            };
            if engine == Engine::Postgres {
                Box::new(
                    PostgresConnector::open(&spec, Duration::from_secs(5))
                        .await
                        .expect("open"),
                )
            } else {
                Box::new(
                    MySqlConnector::open(&spec, Duration::from_secs(5))
                        .await
                        .expect("open"),
                )
            }
        }
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join("bc_guard_tests");
            Box::new(SqliteConnector::open(&dir, name).await.expect("open"))
        }
    }
}

/// No index on `customer_id`: PostgreSQL then scans and orders the quals of a merged derived
/// table by cost, so a cheap `note::int > 0` runs before an eight-value `IN` filter. That is the
/// leak the fence must stop, and this data reproduces it (see `guard_corpus.rs`).
///
/// Two databases on `engine`: both tenants, and tenant A alone. `None` (loudly) when the engine
/// is unreachable outside CI.
pub async fn two_databases(engine: Engine) -> Option<(Db, Db)> {
    let mut out = Vec::new();
    for with_b in [true, false] {
        let (url, name) = match new_database(engine).await {
            Ok(x) => x,
            Err(e) => return skip(&format!("{engine:?}"), e),
        };
        let mut statements = ddl(engine);
        statements.extend(rows(false));
        if with_b {
            statements.extend(rows(true));
        }
        exec_all(&url, &statements).await;
        out.push(Db {
            engine,
            conn: connector(engine, &url, &name).await,
            admin_url: url,
        });
    }
    let alone = out.pop()?;
    let full = out.pop()?;
    Some((full, alone))
}

impl Db {
    pub fn dialect(&self) -> SqlDialect {
        self.conn.dialect()
    }

    pub async fn guard(&self) -> SpaceGuard {
        let schema = self.conn.schema().await.expect("schema");
        SpaceGuard::new(
            self.dialect(),
            &schema,
            &space_filters(),
            self.conn.database(),
        )
        .expect("guard")
    }

    /// Everything a query could have changed: every table's rows, and on PostgreSQL the
    /// relations, sequences, large objects and role settings.
    pub async fn fingerprint(&self) -> String {
        let mut out = String::new();
        for t in ["customers", "orders", "payments", "secrets"] {
            let d = self
                .conn
                .run(
                    &GuardedSql::unguarded(&format!("SELECT * FROM {t} ORDER BY id")),
                    &QueryLimits::default(),
                )
                .await
                .expect("fingerprint");
            out.push_str(&serde_json::to_string(&d.rows).expect("json"));
        }
        if self.engine == Engine::Postgres {
            let d = self
                .conn
                .run(
                    &GuardedSql::unguarded(
                        "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace), \
                         (SELECT last_value FROM order_seq), (SELECT count(*) FROM pg_largeobject_metadata), \
                         (SELECT count(*) FROM pg_db_role_setting), (SELECT count(*) FROM pg_roles)",
                    ),
                    &QueryLimits::default(),
                )
                .await
                .expect("catalog fingerprint");
            out.push_str(&serde_json::to_string(&d.rows).expect("json"));
        }
        out
    }
}

pub fn limits() -> QueryLimits {
    QueryLimits {
        timeout: Duration::from_secs(2),
        max_rows: 5_000,
        max_bytes: 4 * 1024 * 1024,
    }
}

fn multiset(d: &QueryData) -> Vec<String> {
    let mut v: Vec<String> = d
        .rows
        .iter()
        .map(|r| serde_json::to_string(r).expect("json"))
        .collect();
    v.sort();
    v
}

/// What happened to one query.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Refused,
    /// Ran and matched the tenant-only answer.
    Matched,
    /// Failed on both databases alike (a type error, a timeout).
    FailedAlike,
    /// Ran through the guard; the original query does not run as-is on the tenant-only database
    /// (it names what the guard maps away, such as `public.orders`), so only the leak check applies.
    NoOracle,
}

/// Runs `sql` for tenant A through the guard on the full database and as written on tenant A's
/// own database. `Err` describes a leak or a difference. A marker the query itself spells out
/// (`WHERE customer_id = 'bravo'`) is not a leak when it shows; the oracle judges those.
pub async fn judge(
    full: &Db,
    alone: &Db,
    guard: &SpaceGuard,
    sql: &str,
) -> Result<Verdict, String> {
    let lower_sql = sql.to_ascii_lowercase();
    let leaked = |text: &str| -> Option<&'static str> {
        let t = text.to_ascii_lowercase();
        B_MARKERS
            .iter()
            .copied()
            .find(|m| t.contains(m) && !lower_sql.contains(m))
    };
    let checked = match guard.check(sql) {
        Err(Error::QueryRejected(why)) => {
            if why.trim().is_empty() {
                return Err(format!("{sql}: a refusal must say why"));
            }
            if let Some(m) = leaked(&why) {
                return Err(format!("{sql}: the refusal leaks `{m}`: {why}"));
            }
            return Ok(Verdict::Refused);
        }
        Err(other) => {
            return Err(format!(
                "{sql}: the guard failed instead of refusing: {other:?}"
            ));
        }
        Ok(g) => g,
    };
    let ran = checked.as_str();
    // What the guard emits is itself a query the guard accepts (it re-parses and re-checks).
    if let Err(e) = guard.check(ran) {
        return Err(format!(
            "{sql}\n  the rewrite does not pass its own checks: {e}\n  ran: {ran}"
        ));
    }
    let guarded = full.conn.run(&checked, &limits()).await;
    let original = alone.conn.run(&GuardedSql::unguarded(sql), &limits()).await;
    match &guarded {
        Ok(g) => {
            let text = serde_json::to_string(&g.rows).expect("json");
            if let Some(m) = leaked(&text) {
                return Err(format!("{sql}\n  LEAKED `{m}`: {text}\n  ran: {ran}"));
            }
        }
        Err(e) => {
            let text = format!("{e}");
            if let Some(m) = leaked(&text) {
                return Err(format!(
                    "{sql}\n  the error LEAKED `{m}`: {text}\n  ran: {ran}"
                ));
            }
            if !matches!(e, Error::QueryFailed(_)) {
                return Err(format!(
                    "{sql}: a failing query must be a QueryFailed, not {e:?}"
                ));
            }
        }
    }
    match (guarded, original) {
        (Ok(g), Ok(o)) => {
            if multiset(&g) != multiset(&o) || g.columns.len() != o.columns.len() {
                return Err(format!(
                    "{sql}\n  differs from the tenant-only answer\n  guarded:  {:?}\n  original: {:?}\n  ran: {ran}",
                    first(&g),
                    first(&o)
                ));
            }
            Ok(Verdict::Matched)
        }
        (Err(_), Err(_)) => Ok(Verdict::FailedAlike),
        (Ok(_), Err(_)) => Ok(Verdict::NoOracle),
        // A name the guard quoted (`current_user` read as a column) fails when the statement is
        // compiled, before any row is read: fail-closed, not a leak.
        (Err(Error::QueryFailed(m)), Ok(_))
            if m.contains("does not exist")
                || m.contains("Unknown column")
                || m.contains("no such column") =>
        {
            Ok(Verdict::FailedAlike)
        }
        (Err(e), Ok(o)) => Err(format!(
            "{sql}\n  fails through the guard ({e}) but answers {} rows on the tenant-only database\n  ran: {ran}",
            o.rows.len()
        )),
    }
}

fn first(d: &QueryData) -> Vec<String> {
    multiset(d).into_iter().take(3).collect()
}
