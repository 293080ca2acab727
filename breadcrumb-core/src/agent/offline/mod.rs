//! The offline agent: answers common analytical questions with no model at all, by matching the
//! question's words to the tables, columns and values a space shows (counts, sums, averages,
//! extremes, groupings, top N, trends, periods, simple conditions, listings). Its SQL goes
//! through the guard like any model's.

mod periods;
mod plan;
mod sql;
mod words;

use async_trait::async_trait;
use serde_json::Value;

use self::plan::{Agg, Condition, Plan};
use self::words::{ANALYTIC, MONEY, has, is_id, is_money, mention, phrase, words};
use super::chart::default_chart;
use super::{Agent, AgentEvent, AgentReply, AgentRequest, DataScope};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::schema::{ColumnKind, TableSchema};

#[derive(Debug, Default, Clone)]
pub struct OfflineAgent;

/// Text columns whose values a question may name; the first this many are looked at.
const VALUE_COLUMNS: usize = 6;

impl OfflineAgent {
    /// Conditions for the values the question names ("cancelled orders", "sales of Widget"),
    /// found by asking the data, through the guard, which of its words are values of which
    /// text column.
    async fn named_values(
        &self,
        scope: &DataScope,
        plan: &Plan,
        schema: &TableSchema,
        ws: &[String],
    ) -> Vec<Condition> {
        let candidates = words::value_candidates(ws, &plan.table, schema);
        if candidates.is_empty() {
            return Vec::new();
        }
        let columns = schema
            .columns
            .iter()
            .filter(|(c, t)| {
                ColumnKind::of(t) == ColumnKind::Text
                    && !is_id(c)
                    && plan.group.as_ref() != Some(*c)
                    && !plan.conditions.iter().any(|k| &k.column == *c)
            })
            .map(|(c, _)| c)
            .take(VALUE_COLUMNS);
        let mut found = Vec::new();
        for column in columns {
            let sql = sql::values_among(scope.dialect(), &plan.table, column, &candidates);
            let Ok((_, data)) = scope.run(&sql).await else {
                continue;
            };
            // One value per column: the longest named ("cloud plan" over "cloud").
            if let Some(v) = data
                .rows
                .iter()
                .filter_map(|r| r.first().and_then(Value::as_str))
                .max_by_key(|v| v.len())
            {
                found.push(Condition {
                    column: column.clone(),
                    op: "=",
                    value: Value::String(v.to_string()),
                });
            }
        }
        found
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
                if let (Some(m), Some(d)) = (measure, dim) {
                    out.push(format!("\"Total {m} of {name} by {d}\""));
                }
                if t.columns.keys().any(|c| kind(c).is_temporal()) {
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

/// The question as the agent answers it: a follow-up ("and by month?", "what about the
/// average?") leans on the previous question when it names no table of its own but asks for a
/// grouping, period or aggregate. One that brings nothing of the kind ("what is the weather")
/// is its own.
fn with_context(req: &AgentRequest<'_>) -> String {
    let own = words(req.question);
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
    let previous = req.history.iter().rev().find(|m| m.role == Role::User);
    match previous {
        Some(prev) if own.len() <= 8 && has(&own, ANALYTIC) && (leads || !names_a_table) => {
            format!("{} {}", prev.text, req.question)
        }
        _ => req.question.to_string(),
    }
}

/// "the total amount of orders".
fn what(plan: &Plan) -> String {
    match (&plan.measure, plan.agg) {
        (Some(m), a) if a != Agg::Count => format!("the {} {m} of {}", a.words(), plan.table),
        _ => format!("the number of {}", plan.table),
    }
}

/// " by month", " by status", or nothing.
fn by(plan: &Plan) -> String {
    match (&plan.grain, &plan.group) {
        (Some((g, _)), _) => format!(" by {}", g.name()),
        (None, Some(g)) => format!(" by {g}"),
        _ => String::new(),
    }
}

/// The answer in words.
fn describe(plan: &Plan, schema: &TableSchema, data: &crate::model::QueryData) -> String {
    let table = &plan.table;
    let (what, by) = (what(plan), by(plan));
    let mut filters = String::new();
    if !plan.conditions.is_empty() {
        let c: Vec<String> = plan
            .conditions
            .iter()
            .map(|c| format!("{} {} {}", c.column, c.op, show(&c.value)))
            .collect();
        filters = format!(" where {}", c.join(" and "));
    }
    if let Some((_, p)) = &plan.period {
        filters.push_str(&format!(" {}", p.said));
    }
    let mut text = if plan.list.is_some() {
        match data.rows.len() {
            0 => format!("There are no {table}{filters}."),
            n => {
                let order = words::time_column(schema, &[]).map_or("", |_| ", newest first");
                format!("Here are {n} {table}{filters}{order}.")
            }
        }
    } else if data.rows.is_empty() {
        format!("There is no data for {what}{by}{filters}.")
    } else if plan.grain.is_none() && plan.group.is_none() {
        let v = data.rows[0].last().map(show).unwrap_or_default();
        format!("{what}{filters} is {v}.")
    } else if plan.top == Some((1, true)) && plan.group.is_some() {
        let first = &data.rows[0];
        format!(
            "{} leads {what}{by}{filters}, with {}.",
            show(&first[0]),
            show(&first[1])
        )
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
        format!(
            "Here is {what}{by}{filters}: {} rows; {lead}.",
            data.rows.len()
        )
    };
    if let Some(g) = &plan.missing_group {
        text.push_str(&format!(
            " I could not group it by {g}: {table} has no such column."
        ));
    }
    text[..1].make_ascii_uppercase();
    text
}

#[async_trait]
impl Agent for OfflineAgent {
    async fn answer(&self, req: AgentRequest<'_>) -> Result<AgentReply> {
        let question = with_context(&req);
        let ws = words(&question);
        let best = req
            .scopes
            .iter()
            .flat_map(|s| s.schema().tables.iter().map(move |(n, t)| (s, n, t)))
            .map(|(s, n, t)| {
                let table_score = mention(n, &ws) * 3;
                let column_score: usize = t.columns.keys().map(|c| mention(c, &ws)).sum();
                // "Revenue" names the money column ("What was our revenue?" no table at all),
                // a little more than any one other column.
                let money = has(&ws, MONEY) && t.columns.keys().any(|c| is_money(t, c));
                (
                    table_score + column_score + if money { 11 } else { 0 },
                    table_score,
                    s,
                    n,
                    t,
                )
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
        let mut plan = plan::plan(&question, table, schema, chrono::Utc::now().date_naive());
        let named = self.named_values(scope, &plan, schema, &ws).await;
        plan.conditions.extend(named);
        let sql = match plan.list {
            Some(n) => sql::listing(&plan, schema, scope.dialect(), n),
            None => sql::aggregate(&plan, scope.dialect()).0,
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
        let text = describe(&plan, schema, &data);
        req.emit(AgentEvent::Sql {
            sql: guarded.display().to_string(),
        });
        req.emit(AgentEvent::Rows { data: data.clone() });
        // A listing of rows is a table, not a chart.
        let visualization = if plan.list.is_some() {
            None
        } else {
            default_chart(&data, &format!("{}{}", what(&plan), by(&plan)))
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
