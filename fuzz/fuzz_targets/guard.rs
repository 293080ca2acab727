//! The space guard on arbitrary input, in every dialect: it never panics, and whatever it
//! accepts comes out as SQL that re-parses and passes the same guard again.

#![no_main]

use std::sync::OnceLock;

use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::{SpaceGuard, SqlDialect};
use breadcrumb_core::schema::SourceSchema;
use libfuzzer_sys::fuzz_target;

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
        [SqlDialect::Postgres, SqlDialect::Redshift, SqlDialect::Sqlite, SqlDialect::Mysql].map(|d| {
            SpaceGuard::new(d, &schema, &filters, Some("shop")).expect("guard")
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(sql) = std::str::from_utf8(rest) else { return };
    let guard = &guards()[usize::from(pick) % 4];
    if let Ok(out) = guard.check(sql) {
        if let Err(e) = guard.check(out.as_str()) {
            panic!("accepted {sql:?}\nbut its rewrite fails its own checks: {e}\n{}", out.as_str());
        }
    }
});
