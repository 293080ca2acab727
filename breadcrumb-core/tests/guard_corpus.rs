//! The adversarial corpus (tests/corpus) against real engines holding two tenants: nothing of
//! tenant B shows in an answer or an error, every accepted query answers exactly as the original
//! does on tenant A's own database, whole techniques are refused outright, and the database is
//! unchanged afterwards. PostgreSQL and MariaDB are the real servers; SQLite is a file.

mod common;
mod corpus;
mod tenants;

use std::collections::BTreeMap;

use breadcrumb_core::guard::GuardedSql;
use tenants::{A_CUSTOMERS, Engine, Verdict, judge, limits, two_databases};

async fn run_corpus(engine: Engine) {
    let Some((full, alone)) = two_databases(engine).await else {
        return;
    };
    let guard = full.guard().await;
    let visible: Vec<&String> = guard.visible_schema().tables.keys().collect();
    assert_eq!(
        visible,
        ["customers", "orders", "payments"],
        "secrets (no customer_id) and the view stay invisible"
    );
    let before = full.fingerprint().await;
    let mut tally: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let mut failures = Vec::new();
    for (technique, must_refuse, sql) in corpus::all() {
        let v = match judge(&full, &alone, &guard, sql).await {
            Ok(v) => v,
            Err(why) => {
                failures.push(format!("[{technique}] {why}"));
                continue;
            }
        };
        if must_refuse && v != Verdict::Refused {
            failures.push(format!("[{technique}] must be refused, was {v:?}: {sql}"));
        }
        let slot = match v {
            Verdict::Refused => 0,
            Verdict::Matched => 1,
            Verdict::FailedAlike => 2,
            Verdict::NoOracle => 3,
        };
        tally.entry(technique).or_default()[slot] += 1;
    }
    assert!(
        failures.is_empty(),
        "{engine:?}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(before, full.fingerprint().await, "the database changed");
    eprintln!("{engine:?}: technique: refused / matched / failed alike / no oracle");
    for (t, c) in &tally {
        eprintln!("  {t}: {c:?}");
    }
    let matched: usize = tally.values().map(|c| c[1]).sum();
    let total: usize = tally.values().map(|c| c.iter().sum::<usize>()).sum();
    assert!(total >= 150, "the corpus has {total} queries");
    assert!(
        matched >= 40,
        "the guard must still answer ordinary queries, matched {matched}"
    );
}

#[tokio::test]
async fn postgres_corpus_shows_nothing_of_the_other_tenant() {
    run_corpus(Engine::Postgres).await;
}

#[tokio::test]
async fn mariadb_corpus_shows_nothing_of_the_other_tenant() {
    run_corpus(Engine::Mysql).await;
}

#[tokio::test]
async fn sqlite_corpus_shows_nothing_of_the_other_tenant() {
    run_corpus(Engine::Sqlite).await;
}

/// The corpus is only as good as its data: on it, a derived table without the fence lets
/// PostgreSQL evaluate the caller's cast on tenant B's rows and fail, while the guard's fenced
/// rewrite of the same query answers exactly as on tenant A's own database.
#[tokio::test]
async fn postgres_data_reproduces_the_predicate_order_leak_the_fence_stops() {
    let Some((full, alone)) = two_databases(Engine::Postgres).await else {
        return;
    };
    let list = A_CUSTOMERS
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let unfenced = format!(
        "SELECT count(*) FROM (SELECT * FROM orders WHERE customer_id IN ({list})) o WHERE note::int > 0"
    );
    let err = full
        .conn
        .run(&GuardedSql::unguarded(&unfenced), &limits())
        .await
        .expect_err("without a fence the cast meets tenant B's note and fails");
    assert!(err.to_string().contains("invalid input syntax"), "{err}");
    let guard = full.guard().await;
    let attack = "SELECT count(*) FROM orders o WHERE note::int > 0";
    assert!(guard.check(attack).unwrap().as_str().contains("OFFSET 0"));
    assert_eq!(
        judge(&full, &alone, &guard, attack).await,
        Ok(Verdict::Matched)
    );
}
