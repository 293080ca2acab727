//! From a plan to SQL in the source's dialect. Whatever it writes goes through the space guard.

use serde_json::Value;

use super::plan::{Agg, Grain, Plan};
use super::words::time_column;
use crate::guard::SqlDialect;
use crate::schema::TableSchema;

pub(super) fn quote_name(dialect: SqlDialect, s: &str) -> String {
    match dialect {
        SqlDialect::Mysql => format!("`{}`", s.replace('`', "``")),
        _ => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The plan's conditions and period; text compares without regard to case.
fn where_clause(plan: &Plan, dialect: SqlDialect) -> String {
    let q = |s: &str| quote_name(dialect, s);
    let mut conds: Vec<String> = plan
        .conditions
        .iter()
        .map(|c| match &c.value {
            Value::String(s) => format!("LOWER({}) {} LOWER({})", q(&c.column), c.op, text(s)),
            other => format!("{} {} {other}", q(&c.column), c.op),
        })
        .collect();
    if let Some((column, p)) = &plan.period {
        conds.push(format!(
            "{c} >= '{}' AND {c} < '{}'",
            p.from.format("%Y-%m-%d"),
            p.to.format("%Y-%m-%d"),
            c = q(column)
        ));
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// The aggregate query, and the label of its value column.
pub(super) fn aggregate(plan: &Plan, dialect: SqlDialect) -> (String, String) {
    let q = |s: &str| quote_name(dialect, s);
    let (agg, label) = match (&plan.measure, plan.agg) {
        (Some(m), a) if a != Agg::Count => (
            format!("{}({})", a.sql(), q(m)),
            format!("{}_{}", a.words(), m),
        ),
        _ => ("COUNT(*)".to_string(), "count".to_string()),
    };
    let mut select = Vec::new();
    let mut group = Vec::new();
    if let Some((grain, col)) = &plan.grain {
        select.push(format!(
            "{} AS {}",
            bucket(dialect, *grain, &q(col)),
            q(grain.name())
        ));
        group.push(q(grain.name()));
    } else if let Some(g) = &plan.group {
        select.push(q(g));
        group.push(q(g));
    }
    select.push(format!("{agg} AS {}", q(&label)));
    let mut sql = format!("SELECT {} FROM {}", select.join(", "), q(&plan.table));
    sql.push_str(&where_clause(plan, dialect));
    if !group.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
        if plan.grain.is_some() {
            sql.push_str(&format!(" ORDER BY {}", group.join(", ")));
        } else {
            let dir = if plan.top.is_some_and(|(_, desc)| !desc) {
                "ASC"
            } else {
                "DESC"
            };
            sql.push_str(&format!(" ORDER BY {} {dir}", q(&label)));
        }
        let limit =
            plan.top
                .map(|(n, _)| n)
                .unwrap_or(if plan.grain.is_some() { 1000 } else { 50 });
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    (sql, label)
}

/// `SELECT *` of the table, newest first when it has a time column.
pub(super) fn listing(plan: &Plan, schema: &TableSchema, dialect: SqlDialect, n: usize) -> String {
    let q = |s: &str| quote_name(dialect, s);
    let mut sql = format!("SELECT * FROM {}", q(&plan.table));
    sql.push_str(&where_clause(plan, dialect));
    if let Some(t) = time_column(schema, &[]) {
        sql.push_str(&format!(" ORDER BY {} DESC", q(t)));
    }
    sql.push_str(&format!(" LIMIT {n}"));
    sql
}

/// Which of `candidates` are values of `column` (compared without regard to case), looked for
/// in the first rows of the table so that a large table costs no full scan.
pub(super) fn values_among(
    dialect: SqlDialect,
    table: &str,
    column: &str,
    candidates: &[String],
) -> String {
    let q = |s: &str| quote_name(dialect, s);
    let list: Vec<String> = candidates.iter().map(|c| text(c)).collect();
    format!(
        "SELECT DISTINCT {c} FROM (SELECT {c} FROM {t} LIMIT 5000) AS sample WHERE LOWER({c}) IN ({}) LIMIT 10",
        list.join(", "),
        c = q(column),
        t = q(table)
    )
}

fn bucket(dialect: SqlDialect, grain: Grain, col: &str) -> String {
    match dialect {
        SqlDialect::Postgres | SqlDialect::Redshift => {
            format!("CAST(date_trunc('{}', {col}) AS date)", grain.name())
        }
        SqlDialect::Sqlite => match grain {
            Grain::Day => format!("date({col})"),
            Grain::Week => format!("date({col}, 'weekday 0', '-6 days')"),
            Grain::Month => format!("strftime('%Y-%m-01', {col})"),
            Grain::Year => format!("strftime('%Y-01-01', {col})"),
        },
        SqlDialect::Mysql => match grain {
            Grain::Day => format!("DATE({col})"),
            Grain::Week => format!("DATE_SUB(DATE({col}), INTERVAL WEEKDAY({col}) DAY)"),
            Grain::Month => format!("DATE_FORMAT({col}, '%Y-%m-01')"),
            Grain::Year => format!("DATE_FORMAT({col}, '%Y-01-01')"),
        },
    }
}
