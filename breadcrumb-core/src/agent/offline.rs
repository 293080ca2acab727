//! The offline agent: answers common analytical questions with no model at all, by matching the
//! question's words to the names of the tables and columns a space shows. Its SQL goes through
//! the guard like any model's.

use async_trait::async_trait;
use serde_json::Value;

use super::chart::default_chart;
use super::{Agent, AgentEvent, AgentReply, AgentRequest, DataScope};
use crate::error::{Error, Result};
use crate::guard::SqlDialect;
use crate::schema::{ColumnKind, TableSchema};

#[derive(Debug, Default, Clone)]
pub struct OfflineAgent;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Agg {
    fn sql(self) -> &'static str {
        match self {
            Agg::Count => "COUNT",
            Agg::Sum => "SUM",
            Agg::Avg => "AVG",
            Agg::Min => "MIN",
            Agg::Max => "MAX",
        }
    }
    fn words(self) -> &'static str {
        match self {
            Agg::Count => "number",
            Agg::Sum => "total",
            Agg::Avg => "average",
            Agg::Min => "minimum",
            Agg::Max => "maximum",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Grain {
    Day,
    Week,
    Month,
    Year,
}

/// What the question asks, in terms of one table.
#[derive(Debug)]
struct Plan {
    table: String,
    agg: Agg,
    measure: Option<String>,
    group: Option<String>,
    grain: Option<(Grain, String)>,
    top: Option<(usize, bool)>,
    conditions: Vec<(String, &'static str, Value)>,
    /// "Show the latest orders": rows themselves, newest first, at most this many.
    list: Option<usize>,
}

/// Words that ask for an aggregate, a grouping, a period or a ranking: what a follow-up such as
/// "and by month?" must bring for it to lean on the previous question.
const ANALYTIC: &[&str] = &[
    "by", "per", "each", "across", "daily", "weekly", "monthly", "yearly", "annual", "trend",
    "trends", "average", "avg", "mean", "total", "sum", "count", "number", "max", "maximum", "min",
    "minimum", "highest", "lowest", "top", "bottom", "best", "worst", "revenue", "sales",
];

/// Words for money: with no measure named, they mean the money-like column.
const MONEY: &[&str] = &[
    "revenue", "sales", "sold", "income", "spend", "spent", "spending", "turnover", "money",
    "value", "earned", "earnings", "billing", "billed",
];

/// Column names that hold the money of a row, best first.
const MONEY_COLUMNS: &[&str] = &[
    "amount", "total", "revenue", "sales", "price", "value", "paid", "cost", "subtotal",
];

/// Words that ask for rows rather than a number.
const LISTING: &[&str] = &[
    "show", "list", "latest", "recent", "newest", "last", "display",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-').to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

fn singular(w: &str) -> &str {
    w.strip_suffix("ies")
        .map(|_| w)
        .or_else(|| w.strip_suffix('s'))
        .unwrap_or(w)
}

/// How well a name (`order_items`) is mentioned in the question's words: 0 when not at all.
fn mention(name: &str, ws: &[String]) -> usize {
    let name = name.to_lowercase();
    let parts: Vec<&str> = name.split('_').filter(|p| !p.is_empty()).collect();
    let joined = ws.join(" ");
    if ws
        .iter()
        .any(|w| w == &name || singular(w) == singular(&name))
        || joined.contains(&parts.join(" ")) && parts.len() > 1
    {
        return 10 * parts.len();
    }
    parts
        .iter()
        .filter(|p| p.len() > 2 && !matches!(**p, "id" | "at" | "the"))
        .filter(|p| ws.iter().any(|w| singular(w) == singular(p)))
        .count()
}

fn has(ws: &[String], any: &[&str]) -> bool {
    ws.iter().any(|w| any.contains(&w.as_str()))
}

fn phrase(text: &str, p: &str) -> bool {
    format!(" {} ", words(text).join(" ")).contains(&format!(" {p} "))
}

/// A numeric column whose name says it holds money (`amount`, `total_price`, …).
fn is_money(schema: &TableSchema, col: &str) -> bool {
    let c = col.to_lowercase();
    schema.column_kind(col).is_some_and(|k| k.is_numeric())
        && !is_id(col)
        && MONEY_COLUMNS.iter().any(|m| c.contains(m))
}

/// The column a listing is ordered by, newest first.
fn time_column(schema: &TableSchema) -> Option<&String> {
    schema
        .columns
        .keys()
        .find(|c| schema.column_kind(c).is_some_and(|k| k.is_temporal()))
}

fn is_id(col: &str) -> bool {
    let c = col.to_lowercase();
    c == "id" || c.ends_with("_id")
}

impl OfflineAgent {
    fn plan(&self, question: &str, table: &str, schema: &TableSchema) -> Plan {
        let ws = words(question);
        let kind = |c: &str| schema.column_kind(c).unwrap_or(ColumnKind::Other);
        let agg = if has(&ws, &["average", "avg", "mean"]) {
            Agg::Avg
        } else if has(&ws, &["total", "sum", "revenue"]) {
            Agg::Sum
        } else if has(
            &ws,
            &["max", "maximum", "highest", "largest", "biggest", "most"],
        ) && !phrase(question, "how many")
        {
            Agg::Max
        } else if has(&ws, &["min", "minimum", "lowest", "smallest", "least"]) {
            Agg::Min
        } else {
            Agg::Count
        };
        // The measure: the best-mentioned numeric column that is not an id.
        let measure = schema
            .columns
            .keys()
            .filter(|c| kind(c).is_numeric() && !is_id(c))
            .map(|c| (mention(c, &ws), c))
            .filter(|(s, _)| *s > 0)
            .max_by_key(|(s, _)| *s)
            .map(|(_, c)| c.clone());
        // "Revenue", or an aggregate of nothing named ("the average order"): the money column.
        let measure = measure.or_else(|| {
            if !has(&ws, MONEY) && matches!(agg, Agg::Count) {
                return None;
            }
            MONEY_COLUMNS.iter().find_map(|m| {
                schema
                    .columns
                    .keys()
                    .find(|c| is_money(schema, c) && c.to_lowercase().contains(m))
                    .cloned()
            })
        });
        let agg = match (agg, &measure) {
            (Agg::Count, Some(_))
                if !phrase(question, "how many") && !has(&ws, &["count", "number"]) =>
            {
                Agg::Sum
            }
            (a, None) if a != Agg::Count => Agg::Count,
            (a, _) => a,
        };
        // Grouping: words after "by", "per" or "each".
        let mut group = None;
        let mut grain = None;
        for (i, w) in ws.iter().enumerate() {
            if !matches!(w.as_str(), "by" | "per" | "each" | "across") {
                continue;
            }
            let rest = &ws[i + 1..(i + 4).min(ws.len())];
            let g = match rest.first().map(String::as_str) {
                Some("day" | "date" | "daily") => Some(Grain::Day),
                Some("week" | "weekly") => Some(Grain::Week),
                Some("month" | "monthly") => Some(Grain::Month),
                Some("year" | "yearly") => Some(Grain::Year),
                _ => None,
            };
            // The last grouping wins: in "total by month ... and by status" it is the status.
            if let Some(g) = g {
                grain = Some(g);
                group = None;
                continue;
            }
            if let Some(c) = schema
                .columns
                .keys()
                .filter(|c| !kind(c).is_numeric() || is_id(c))
                .map(|c| (mention(c, rest), c))
                .filter(|(s, _)| *s > 0)
                .max_by_key(|(s, _)| *s)
                .map(|(_, c)| c.clone())
            {
                group = Some(c);
                grain = None;
            }
        }
        if grain.is_none() && group.is_none() {
            grain = if has(&ws, &["daily"]) {
                Some(Grain::Day)
            } else if has(&ws, &["weekly"]) {
                Some(Grain::Week)
            } else if has(&ws, &["monthly", "trend", "trends"]) || phrase(question, "over time") {
                Some(Grain::Month)
            } else if has(&ws, &["yearly", "annual"]) {
                Some(Grain::Year)
            } else {
                None
            };
        }
        if group.is_none()
            && let Some(i) = ws
                .iter()
                .position(|w| matches!(w.as_str(), "top" | "bottom" | "best" | "worst"))
        {
            let rest = &ws[i + 1..(i + 4).min(ws.len())];
            group = schema
                .columns
                .keys()
                .filter(|c| !kind(c).is_numeric())
                .map(|c| (mention(c, rest), c))
                .filter(|(s, _)| *s > 0)
                .max_by_key(|(s, _)| *s)
                .map(|(_, c)| c.clone());
        }
        let grain = grain.and_then(|g| {
            let temporal: Vec<&String> = schema
                .columns
                .keys()
                .filter(|c| kind(c).is_temporal() || c.ends_with("_at") || c.ends_with("_date"))
                .collect();
            temporal
                .iter()
                .max_by_key(|c| mention(c, &ws))
                .map(|c| (g, (*c).clone()))
        });
        let top = ws.iter().enumerate().find_map(|(i, w)| {
            let desc = match w.as_str() {
                "top" | "best" | "largest" | "biggest" => true,
                "bottom" | "worst" => false,
                _ => return None,
            };
            let n = ws
                .get(i + 1)
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(5);
            Some((n.clamp(1, 100), desc))
        });
        let mut conditions = Vec::new();
        for (i, w) in ws.iter().enumerate() {
            let Some(col) = schema
                .columns
                .keys()
                .find(|c| c.to_lowercase() == *w || singular(&c.to_lowercase()) == singular(w))
            else {
                continue;
            };
            let rest: Vec<&str> = ws[i + 1..].iter().map(String::as_str).take(4).collect();
            let (op, value) = match rest.as_slice() {
                ["is" | "equals" | "=", v, ..] | ["of", v, ..] => ("=", *v),
                ["over" | "above" | "exceeding", v, ..]
                | ["greater", "than", v, ..]
                | ["more", "than", v, ..] => (">", *v),
                ["under" | "below", v, ..] | ["less", "than", v, ..] => ("<", *v),
                _ => continue,
            };
            let v = if kind(col).is_numeric() {
                match value.parse::<f64>() {
                    Ok(n) => serde_json::Number::from_f64(n)
                        .map(Value::Number)
                        .unwrap_or(Value::Null),
                    Err(_) => continue,
                }
            } else if op == "=" {
                Value::String(value.to_string())
            } else {
                continue;
            };
            conditions.push((col.clone(), op, v));
        }
        let asks_for_rows = has(&ws, LISTING)
            && !phrase(question, "how many")
            && !has(&ws, ANALYTIC)
            && !has(&ws, MONEY)
            && group.is_none()
            && grain.is_none();
        let list = asks_for_rows.then(|| {
            ws.iter()
                .find_map(|w| w.parse::<usize>().ok())
                .unwrap_or(20)
                .clamp(1, 200)
        });
        Plan {
            table: table.to_string(),
            agg,
            measure,
            group,
            grain,
            top,
            conditions,
            list,
        }
    }

    /// `SELECT *` of the table, newest first when it has a time column.
    fn list_sql(&self, plan: &Plan, schema: &TableSchema, dialect: SqlDialect, n: usize) -> String {
        let q = |s: &str| quote_name(dialect, s);
        let mut sql = format!("SELECT * FROM {}", q(&plan.table));
        sql.push_str(&where_clause(plan, dialect));
        if let Some(t) = time_column(schema) {
            sql.push_str(&format!(" ORDER BY {} DESC", q(t)));
        }
        sql.push_str(&format!(" LIMIT {n}"));
        sql
    }

    fn sql(&self, plan: &Plan, dialect: SqlDialect) -> (String, String) {
        let q = |s: &str| quote_name(dialect, s);
        let value_label = match (&plan.measure, plan.agg) {
            (Some(m), a) if a != Agg::Count => format!("{}_{}", a.words(), m),
            _ => "count".to_string(),
        };
        let agg = match (&plan.measure, plan.agg) {
            (Some(m), a) if a != Agg::Count => format!("{}({})", a.sql(), q(m)),
            _ => "COUNT(*)".to_string(),
        };
        let mut select = Vec::new();
        let mut group = Vec::new();
        if let Some((grain, col)) = &plan.grain {
            let expr = bucket(dialect, *grain, &q(col));
            let label = match grain {
                Grain::Day => "day",
                Grain::Week => "week",
                Grain::Month => "month",
                Grain::Year => "year",
            };
            select.push(format!("{expr} AS {}", q(label)));
            group.push(q(label));
        } else if let Some(g) = &plan.group {
            select.push(q(g));
            group.push(q(g));
        }
        select.push(format!("{agg} AS {}", q(&value_label)));
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
                sql.push_str(&format!(" ORDER BY {} {dir}", q(&value_label)));
            }
            let limit =
                plan.top
                    .map(|(n, _)| n)
                    .unwrap_or(if plan.grain.is_some() { 1000 } else { 50 });
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        (sql, value_label)
    }

    fn suggestions(&self, scopes: &[DataScope]) -> String {
        let mut out = Vec::new();
        for s in scopes {
            for (name, t) in s.schema().tables.iter().take(3) {
                out.push(format!("\"How many {name} are there?\""));
                let kind = |c: &str| t.column_kind(c).unwrap_or(ColumnKind::Other);
                let measure = t
                    .columns
                    .keys()
                    .find(|c| is_money(t, c))
                    .or_else(|| t.columns.keys().find(|c| kind(c).is_numeric() && !is_id(c)));
                let dim = t
                    .columns
                    .keys()
                    .find(|c| kind(c) == ColumnKind::Text && !is_id(c));
                let time = t.columns.keys().find(|c| kind(c).is_temporal());
                if let (Some(m), Some(d)) = (measure, dim) {
                    out.push(format!("\"Total {m} of {name} by {d}\""));
                }
                if let Some(_t) = time {
                    out.push(format!("\"{name} by month\""));
                }
            }
        }
        if out.is_empty() {
            "This space shows no tables yet.".to_string()
        } else {
            format!(
                "Try for example: {}.",
                out.into_iter().take(5).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

fn quote_name(dialect: SqlDialect, s: &str) -> String {
    match dialect {
        SqlDialect::Mysql => format!("`{}`", s.replace('`', "``")),
        _ => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

/// The plan's conditions; text compares without regard to case.
fn where_clause(plan: &Plan, dialect: SqlDialect) -> String {
    if plan.conditions.is_empty() {
        return String::new();
    }
    let conds: Vec<String> = plan
        .conditions
        .iter()
        .map(|(c, op, v)| {
            let c = quote_name(dialect, c);
            match v {
                Value::String(s) => {
                    format!("LOWER({c}) {op} LOWER('{}')", s.replace('\'', "''"))
                }
                other => format!("{c} {op} {other}"),
            }
        })
        .collect();
    format!(" WHERE {}", conds.join(" AND "))
}

fn bucket(dialect: SqlDialect, grain: Grain, col: &str) -> String {
    match dialect {
        SqlDialect::Postgres | SqlDialect::Redshift => {
            let g = match grain {
                Grain::Day => "day",
                Grain::Week => "week",
                Grain::Month => "month",
                Grain::Year => "year",
            };
            format!("CAST(date_trunc('{g}', {col}) AS date)")
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

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.2}"),
            _ => n.to_string(),
        },
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

#[async_trait]
impl Agent for OfflineAgent {
    async fn answer(&self, req: AgentRequest<'_>) -> Result<AgentReply> {
        let own = words(req.question);
        // A follow-up ("and by month?", "what about the average?") leans on the previous
        // question: it names no table of its own but asks for a grouping, period or aggregate.
        // A question that brings nothing of the kind ("what is the weather") is its own.
        let leads = own.first().is_some_and(|w| {
            matches!(
                w.as_str(),
                "and" | "by" | "per" | "now" | "also" | "only" | "same" | "then"
            )
        }) || phrase(req.question, "what about")
            || phrase(req.question, "how about");
        let names_a_table = req
            .scopes
            .iter()
            .flat_map(|s| s.schema().tables.keys())
            .any(|t| mention(t, &own) > 0);
        let previous = req
            .history
            .iter()
            .rev()
            .find(|m| m.role == crate::model::Role::User);
        let question = match previous {
            Some(prev) if own.len() <= 8 && has(&own, ANALYTIC) && (leads || !names_a_table) => {
                format!("{} {}", prev.text, req.question)
            }
            _ => req.question.to_string(),
        };
        let ws = words(&question);
        let best = req
            .scopes
            .iter()
            .flat_map(|s| s.schema().tables.iter().map(move |(n, t)| (s, n, t)))
            .map(|(s, n, t)| {
                let table_score = mention(n, &ws) * 3;
                let column_score: usize = t.columns.keys().map(|c| mention(c, &ws)).sum();
                (table_score + column_score, table_score, s, n, t)
            })
            .map(|(score, table_score, s, n, t)| {
                // "What was our revenue?" names no table: the one with a money column.
                let money = has(&ws, MONEY) && t.columns.keys().any(|c| is_money(t, c));
                (score + usize::from(money), table_score, s, n, t)
            })
            .filter(|(score, ..)| *score > 0)
            .max_by_key(|(score, table_score, ..)| (*table_score, *score));
        let Some((_, _, scope, table, schema)) = best else {
            return Ok(AgentReply {
                text: format!(
                    "I could not match your question to the data in this space. {}",
                    self.suggestions(req.scopes)
                ),
                ..Default::default()
            });
        };
        let plan = self.plan(&question, table, schema);
        let sql = match plan.list {
            Some(n) => self.list_sql(&plan, schema, scope.dialect(), n),
            None => self.sql(&plan, scope.dialect()).0,
        };
        let (guarded, data) = match scope.run(&sql).await {
            Ok(r) => r,
            Err(Error::QueryRejected(why) | Error::QueryFailed(why)) => {
                return Ok(AgentReply {
                    text: format!(
                        "I could not run the query for that question: {why}. {}",
                        self.suggestions(req.scopes)
                    ),
                    sql: Some(sql),
                    ..Default::default()
                });
            }
            Err(e) => return Err(e),
        };
        let what = match (&plan.measure, plan.agg) {
            (Some(m), a) if a != Agg::Count => format!("the {} {m} of {table}", a.words()),
            _ => format!("the number of {table}"),
        };
        let by = match (&plan.grain, &plan.group) {
            (Some((g, _)), _) => format!(" by {}", format!("{g:?}").to_lowercase()),
            (None, Some(g)) => format!(" by {g}"),
            _ => String::new(),
        };
        let filters = if plan.conditions.is_empty() {
            String::new()
        } else {
            let c: Vec<String> = plan
                .conditions
                .iter()
                .map(|(c, op, v)| format!("{c} {op} {}", show(v)))
                .collect();
            format!(" where {}", c.join(" and "))
        };
        let text = if plan.list.is_some() {
            match data.rows.len() {
                0 => format!("There are no {table}{filters}."),
                n => {
                    let order = time_column(schema).map_or("", |_| ", newest first");
                    format!("Here are {n} {table}{filters}{order}.")
                }
            }
        } else if data.rows.is_empty() {
            format!("There is no data for {what}{by}{filters}.")
        } else if plan.grain.is_none() && plan.group.is_none() {
            let v = data.rows[0].last().map(show).unwrap_or_default();
            let mut t = format!("{what}{filters} is {v}.");
            t[..1].make_ascii_uppercase();
            t
        } else {
            let first = &data.rows[0];
            let lead = if plan.grain.is_some() {
                let last = &data.rows[data.rows.len() - 1];
                format!(
                    "from {} ({}) to {} ({})",
                    show(&first[0]),
                    show(&first[1]),
                    show(&last[0]),
                    show(&last[1])
                )
            } else {
                format!(
                    "the largest is {} with {}",
                    show(&first[0]),
                    show(&first[1])
                )
            };
            let mut t = format!(
                "Here is {what}{by}{filters}: {} rows; {lead}.",
                data.rows.len()
            );
            t[..1].make_ascii_uppercase();
            t
        };
        let title = format!("{what}{by}");
        req.emit(AgentEvent::Sql {
            sql: guarded.display().to_string(),
        });
        req.emit(AgentEvent::Rows { data: data.clone() });
        // A listing of rows is a table, not a chart.
        let visualization = if plan.list.is_some() {
            None
        } else {
            default_chart(&data, &title)
        };
        if let Some(v) = &visualization {
            req.emit(AgentEvent::Chart {
                visualization: v.clone(),
            });
        }
        Ok(AgentReply {
            visualization,
            text,
            sql: Some(guarded.display().to_string()),
            data: Some(data),
            ..Default::default()
        })
    }
}
