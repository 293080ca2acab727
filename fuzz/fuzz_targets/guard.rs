//! The space guard on arbitrary input, in every dialect: it never panics; whatever it accepts
//! comes out as SQL that re-parses and passes the same guard again; and every string value of
//! the input is a string value of the output (so no literal can end early, or swallow another,
//! when the database reads the rewrite).

#![no_main]

use std::ops::ControlFlow;
use std::sync::OnceLock;

use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;
use libfuzzer_sys::fuzz_target;
use sqlparser::ast::{Expr, visit_expressions};
use sqlparser::dialect::{
    Dialect, MySqlDialect, PostgreSqlDialect, RedshiftSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

const DIALECTS: [SqlDialect; 4] =
    [SqlDialect::Postgres, SqlDialect::Redshift, SqlDialect::Sqlite, SqlDialect::Mysql];

fn guards() -> &'static [SpaceGuard; 4] {
    static G: OnceLock<[SpaceGuard; 4]> = OnceLock::new();
    G.get_or_init(|| {
        let schema: SourceSchema = serde_json::from_str(
            r#"{"tables": {
                "orders": {"columns": {"id": "integer", "customer_id": "text", "amount": "numeric", "note": "text", "created_at": "timestamp"}},
                "customers": {"columns": {"id": "integer", "customer_id": "text", "name": "text"}},
                "secrets": {"columns": {"id": "integer", "secret": "text"}}
            }}"#,
        )
        .expect("schema");
        let filters = Filters::parse(Some(&serde_json::json!({"customer_id": ["acme", "acme-2"]})))
            .expect("filters");
        DIALECTS.map(|d| SpaceGuard::new(d, &schema, &filters, Some("shop")).expect("guard"))
    })
}

fn parser(d: SqlDialect) -> Box<dyn Dialect> {
    match d {
        SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialect::Redshift => Box::new(RedshiftSqlDialect {}),
        SqlDialect::Mysql => Box::new(MySqlDialect {}),
        SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// The string values of a query, sorted; `None` when it does not parse.
fn strings(d: SqlDialect, sql: &str) -> Option<Vec<String>> {
    // The guard's own recursion limit, so a deep input it accepted re-parses here too.
    let statements = Parser::new(parser(d).as_ref())
        .with_recursion_limit(64)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .ok()?;
    let mut out = Vec::new();
    let _ = visit_expressions(&statements, |e| {
        if let Expr::Value(v) = e
            && let Some(s) = v.value.clone().into_string()
        {
            out.push(s);
        }
        ControlFlow::<()>::Continue(())
    });
    out.sort();
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(sql) = std::str::from_utf8(rest) else { return };
    let i = usize::from(pick) % 4;
    let guard = &guards()[i];
    let Ok(out) = guard.check(sql) else { return };
    if let Err(e) = guard.check(out.as_str()) {
        panic!("accepted {sql:?}\nbut its rewrite fails its own checks: {e}\n{}", out.as_str());
    }
    let (Some(written), Some(mut produced)) = (strings(DIALECTS[i], sql), strings(DIALECTS[i], out.as_str()))
    else {
        panic!("accepted {sql:?} but its rewrite does not parse:\n{}", out.as_str());
    };
    for s in &written {
        match produced.iter().position(|p| p == s) {
            Some(at) => {
                produced.remove(at);
            }
            None => panic!("the value {s:?} of {sql:?} is not in the rewrite:\n{}", out.as_str()),
        }
    }
});
