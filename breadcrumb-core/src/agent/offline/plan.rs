//! From a question to a plan over one table: what to aggregate, how to group, which rows.

use chrono::NaiveDate;
use serde_json::Value;

use super::periods::{self, Period};
use super::words::{
    ANALYTIC, LISTING, MONEY, MONEY_COLUMNS, has, is_id, is_money, mention, phrase, singular,
    time_column, words,
};
use crate::schema::{ColumnKind, TableSchema};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Agg {
    pub fn sql(self) -> &'static str {
        match self {
            Agg::Count => "COUNT",
            Agg::Sum => "SUM",
            Agg::Avg => "AVG",
            Agg::Min => "MIN",
            Agg::Max => "MAX",
        }
    }
    pub fn words(self) -> &'static str {
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
pub(super) enum Grain {
    Day,
    Week,
    Month,
    Year,
}

impl Grain {
    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Year => "year",
        }
    }
}

/// `column op value`; text compares without regard to case.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Condition {
    pub column: String,
    pub op: &'static str,
    pub value: Value,
}

/// What the question asks, in terms of one table.
#[derive(Debug)]
pub(super) struct Plan {
    pub table: String,
    pub agg: Agg,
    pub measure: Option<String>,
    pub group: Option<String>,
    pub grain: Option<(Grain, String)>,
    /// How many rows of a ranking, and whether the largest come first.
    pub top: Option<(usize, bool)>,
    pub conditions: Vec<Condition>,
    /// Rows whose time column falls in the period the question names.
    pub period: Option<(String, Period)>,
    /// "Show the latest orders": rows themselves, newest first, at most this many.
    pub list: Option<usize>,
    /// A grouping asked for that this table has no column for ("by country"), to say so.
    pub missing_group: Option<String>,
}

fn grain_word(w: &str) -> Option<Grain> {
    Some(match w {
        "day" | "date" | "daily" => Grain::Day,
        "week" | "weekly" => Grain::Week,
        "month" | "monthly" => Grain::Month,
        "year" | "yearly" => Grain::Year,
        _ => return None,
    })
}

pub(super) fn plan(question: &str, table: &str, schema: &TableSchema, today: NaiveDate) -> Plan {
    let ws = words(question);
    let kind = |c: &str| schema.column_kind(c).unwrap_or(ColumnKind::Other);
    let best_column = |ws: &[String], keep: &dyn Fn(&str) -> bool| {
        schema
            .columns
            .keys()
            .filter(|c| keep(c))
            .map(|c| (mention(c, ws), c))
            .filter(|(s, _)| *s > 0)
            .max_by_key(|(s, _)| *s)
            .map(|(_, c)| c.clone())
    };
    let dimension = |c: &str| !kind(c).is_numeric() || is_id(c);
    let mut agg = if has(&ws, &["average", "avg", "mean"]) {
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
    // The measure: the best-mentioned numeric column that is not an id; for "revenue", or an
    // aggregate of nothing named ("the average order"), the money column.
    let named_measure = best_column(&ws, &|c| kind(c).is_numeric() && !is_id(c));
    let measure_said = named_measure.is_some() || has(&ws, MONEY);
    let mut measure = named_measure.or_else(|| {
        if !has(&ws, MONEY) && agg == Agg::Count {
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
    agg = match (agg, &measure) {
        (Agg::Count, Some(_))
            if !phrase(question, "how many") && !has(&ws, &["count", "number"]) =>
        {
            Agg::Sum
        }
        (a, None) if a != Agg::Count => Agg::Count,
        (a, _) => a,
    };
    // Grouping: the words after "by", "per" or "each"; the last one wins ("total by month …
    // and by status" is by status). "Per order" on the orders table means per row.
    let mut group = None;
    let mut grain = None;
    let mut missing_group = None;
    for (i, w) in ws.iter().enumerate() {
        if !matches!(w.as_str(), "by" | "per" | "each" | "across") {
            continue;
        }
        let rest = &ws[i + 1..(i + 4).min(ws.len())];
        let Some(first) = rest.first() else { continue };
        if singular(first) == singular(&table.to_lowercase()) {
            continue;
        }
        if let Some(g) = grain_word(first) {
            grain = Some(g);
            group = None;
        } else if let Some(c) = best_column(rest, &dimension) {
            group = Some(c);
            grain = None;
        } else if !MONEY.contains(&first.as_str())
            && !ANALYTIC.contains(&first.as_str())
            && best_column(rest, &|c| kind(c).is_numeric()).is_none()
            && first.parse::<f64>().is_err()
        {
            missing_group = Some(first.clone());
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
    let mut top = ws.iter().enumerate().find_map(|(i, w)| {
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
    if group.is_none()
        && let Some(i) = ws
            .iter()
            .position(|w| matches!(w.as_str(), "top" | "bottom" | "best" | "worst"))
    {
        group = best_column(&ws[i + 1..(i + 4).min(ws.len())], &|c| {
            !kind(c).is_numeric()
        });
    }
    // "Which product sells the most?": the product at the top of a ranking, not a maximum.
    if group.is_none()
        && has(
            &ws,
            &[
                "most", "highest", "best", "largest", "biggest", "top", "more",
            ],
        )
        && let Some(i) = ws.iter().position(|w| w == "which" || w == "what")
        && let Some(c) = best_column(&ws[i + 1..(i + 3).min(ws.len())], &dimension)
    {
        group = Some(c);
        top = Some((1, true));
        // "the most orders" counts them; "sells the most" sums the money.
        if matches!(agg, Agg::Max | Agg::Min) {
            if measure_said {
                agg = Agg::Sum;
            } else {
                agg = Agg::Count;
                measure = None;
            }
        }
    }
    if group.is_some() || grain.is_some() {
        missing_group = None;
    }
    let grain = grain.and_then(|g| {
        schema
            .columns
            .keys()
            .filter(|c| kind(c).is_temporal() || c.ends_with("_at") || c.ends_with("_date"))
            .max_by_key(|c| mention(c, &ws))
            .map(|c| (g, c.clone()))
    });
    let period =
        periods::find(&ws, today).and_then(|p| time_column(schema, &ws).map(|c| (c.clone(), p)));
    let conditions = conditions(&ws, schema);
    // "Last" of "last month" is the period's, not a listing's.
    let asks_for_rows = ws
        .iter()
        .any(|w| LISTING.contains(&w.as_str()) && !(period.is_some() && w == "last"))
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
        period,
        list,
        missing_group,
    }
}

/// "status is paid", "amount over 100", "country of FR".
fn conditions(ws: &[String], schema: &TableSchema) -> Vec<Condition> {
    let mut out = Vec::new();
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
        let numeric = schema.column_kind(col).is_some_and(|k| k.is_numeric());
        let value = if numeric {
            match value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => Value::Number(n),
                None => continue,
            }
        } else if op == "=" {
            Value::String(value.to_string())
        } else {
            continue;
        };
        out.push(Condition {
            column: col.clone(),
            op,
            value,
        });
    }
    out
}
