//! The shape of the guard's output, without a database: when the fence is used, what is moved
//! inside it, how identifiers come out, and what is refused before parsing.

use breadcrumb_core::Error;
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;
use serde_json::json;

fn guard(dialect: SqlDialect) -> SpaceGuard {
    let schema: SourceSchema = serde_json::from_value(json!({"tables": {
        "orders": {"columns": {"id": "integer", "customer_id": "text", "amount": "numeric", "note": "text", "created_at": "timestamp"}},
        "customers": {"columns": {"id": "integer", "customer_id": "text", "name": "text"}},
        "products": {"columns": {"id": "integer", "name": "text"}}
    }}))
    .unwrap();
    let filters = Filters::parse(Some(&json!({"customer_id": "acme"}))).unwrap();
    SpaceGuard::new(dialect, &schema, &filters, Some("shop")).unwrap()
}

fn pg(sql: &str) -> String {
    guard(SqlDialect::Postgres)
        .check(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .as_str()
        .to_string()
}

#[test]
fn leakproof_conditions_leave_the_planner_free() {
    for sql in [
        "SELECT * FROM orders WHERE id BETWEEN 5 AND 10",
        "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.id WHERE c.name = 'x' AND o.amount > 10",
        "SELECT * FROM orders WHERE amount > (SELECT avg(amount) FROM orders)",
        "SELECT * FROM customers WHERE id IN (SELECT id FROM orders WHERE amount > 100)",
        "WITH r AS (SELECT * FROM orders WHERE created_at >= '2024-01-01') SELECT count(*) FROM r",
        "SELECT note::int FROM orders",
    ] {
        let out = pg(sql);
        assert!(!out.contains("OFFSET 0"), "{sql} -> {out}");
        assert!(out.contains("\"customer_id\" = 'acme'"), "{out}");
    }
}

#[test]
fn a_condition_that_could_fail_on_a_row_fences_every_table() {
    for sql in [
        "SELECT * FROM orders WHERE note::int > 0",
        "SELECT * FROM orders WHERE 1 / (amount - 5) > 0",
        "SELECT * FROM orders WHERE lower(note) = 'x'",
        "SELECT * FROM orders o JOIN customers c ON c.name::int = o.id",
        "WITH n AS (SELECT note::int AS v FROM orders) SELECT * FROM n WHERE v > 0",
        "SELECT * FROM (SELECT amount * 2 AS twice FROM orders) d WHERE twice > 4",
        "SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = o.note::int)",
        "SELECT * FROM orders o WHERE o.id = (SELECT c.id FROM customers c WHERE c.name = o.note)",
        "SELECT status FROM (SELECT note AS status FROM orders) s GROUP BY status HAVING status::int > 1",
    ] {
        let out = pg(sql);
        assert!(out.contains("OFFSET 0"), "{sql} -> {out}");
        assert!(
            !out.contains("FROM \"public\".\"orders\" WHERE \"customer_id\" = 'acme') "),
            "{out}"
        );
    }
}

#[test]
fn leakproof_conjuncts_move_inside_the_fence_and_stay_outside_too() {
    let out = pg(
        "SELECT * FROM orders o WHERE o.id BETWEEN 5 AND 10 AND o.note::int > 0 AND o.customer_id = 'x'",
    );
    assert!(out.contains("WHERE (\"customer_id\" = 'acme') AND \"id\" BETWEEN 5 AND 10 AND \"customer_id\" = 'x' OFFSET 0"), "{out}");
    assert!(out.contains("WHERE \"o\".\"id\" BETWEEN 5 AND 10"), "{out}");
    // Not moved: a cast, a function, an unqualified name when two tables are read.
    assert!(!out.contains("\"note\"::INT > 0 OFFSET 0"), "{out}");
    let two = pg("SELECT * FROM orders o, customers c WHERE id = 5 AND lower(c.name) = 'x'");
    assert!(!two.contains("\"id\" = 5 OFFSET 0"), "{two}");
}

#[test]
fn every_identifier_comes_out_quoted_and_folded() {
    let out = pg("SELECT O.ID, Amount AS Total FROM ORDERS O WHERE current_schema = 'x'");
    assert!(
        out.starts_with("SELECT \"o\".\"id\", \"amount\" AS \"total\" FROM"),
        "{out}"
    );
    assert!(
        out.contains("\"current_schema\" = 'x'"),
        "read as a column, as sqlparser read it: {out}"
    );
    let out = pg("SELECT public.orders.id FROM public.orders");
    assert!(out.starts_with("SELECT \"orders\".\"id\" FROM"), "{out}");
    // SQLite would read a double-quoted unknown name as a string; backquotes stay names.
    let lite = guard(SqlDialect::Sqlite)
        .check("SELECT nme FROM customers")
        .unwrap();
    assert!(
        lite.as_str().starts_with("SELECT `nme` FROM"),
        "{}",
        lite.as_str()
    );
    let my = guard(SqlDialect::Mysql)
        .check("SELECT o.id FROM shop.orders o")
        .unwrap();
    assert!(
        my.as_str()
            .starts_with("SELECT `o`.`id` FROM (SELECT * FROM `orders`"),
        "{}",
        my.as_str()
    );
}

#[test]
fn unrepresentable_input_is_refused_with_a_reason() {
    let g = guard(SqlDialect::Postgres);
    for sql in [
        "SELECT U&\"\\0069d\" FROM orders",
        "SELECT * FROM orders WHERE note = U&'\\0061'",
        "SELECT * FROM orders WHERE note = U&'!0061' UESCAPE '!'",
    ] {
        match g.check(sql) {
            Err(Error::QueryRejected(why)) => assert!(why.contains("Unicode"), "{why}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    match g.check("SELECT * FROM products") {
        Err(Error::QueryRejected(why)) => {
            assert!(
                why.contains("products") && why.contains("customers, orders"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn strings_built_to_a_size_need_a_small_literal_size() {
    let g = guard(SqlDialect::Postgres);
    for sql in [
        "SELECT repeat(note, 1000000000) FROM orders",
        "SELECT lpad(note, id) FROM orders",
        "SELECT rpad(note, 10001) FROM orders",
    ] {
        let e = g.check(sql).expect_err(sql).to_string();
        assert!(e.contains("up to 10000"), "{sql}: {e}");
    }
    for sql in [
        "SELECT lpad(note, 12, '.') FROM orders",
        "SELECT repeat('-', 10000) FROM orders",
    ] {
        assert!(g.check(sql).is_ok(), "{sql}");
    }
}

/// MySQL keeps user and system variables for the session, and no SQL resets a session before
/// the pool lends it to the next query: the guard lets no query read or set one. (On
/// PostgreSQL `@` is the absolute value, and `@leak` merely a column that does not exist.)
#[test]
fn mysql_session_variables_are_refused() {
    let g = guard(SqlDialect::Mysql);
    for sql in [
        "SELECT @leak",
        "SELECT @@session.sql_mode",
        "SELECT @@version",
        "SELECT o.id FROM orders o WHERE o.amount > @limit",
        "SELECT @x := amount FROM orders",
    ] {
        let e = g.check(sql).expect_err(sql).to_string();
        assert!(
            e.contains("variables") || e.contains("assignments"),
            "{sql}: {e}"
        );
    }
}
