//! The question's words, and how they name tables, columns, values and intents.

use crate::schema::TableSchema;

/// Words that ask for an aggregate, a grouping, a period or a ranking: what a follow-up such as
/// "and by month?" must bring for it to lean on the previous question.
pub(super) const ANALYTIC: &[&str] = &[
    "by", "per", "each", "across", "daily", "weekly", "monthly", "yearly", "annual", "trend",
    "trends", "average", "avg", "mean", "total", "sum", "count", "number", "max", "maximum", "min",
    "minimum", "highest", "lowest", "top", "bottom", "best", "worst", "revenue", "sales",
];

/// Words for money: with no measure named, they mean the money-like column.
pub(super) const MONEY: &[&str] = &[
    "revenue", "sales", "sell", "sells", "selling", "sold", "income", "spend", "spent", "spending",
    "turnover", "money", "value", "earned", "earnings", "billing", "billed",
];

/// Column names that hold the money of a row, best first.
pub(super) const MONEY_COLUMNS: &[&str] = &[
    "amount", "total", "revenue", "sales", "price", "value", "paid", "cost", "subtotal",
];

/// Words that ask for rows rather than a number.
pub(super) const LISTING: &[&str] = &[
    "show", "list", "latest", "recent", "newest", "last", "display",
];

/// Words that are never a value of the data.
const STOP: &[&str] = &[
    "the", "and", "for", "with", "what", "which", "who", "how", "many", "much", "are", "was",
    "were", "is", "of", "in", "on", "at", "to", "by", "per", "each", "all", "our", "my", "we",
    "do", "does", "did", "have", "has", "there", "that", "this", "these", "those", "from", "show",
    "list", "me", "give", "tell", "please", "get", "find", "a", "an", "or", "it", "its", "than",
    "over", "under", "above", "below", "more", "less", "most", "least", "since", "last", "ago",
    "between", "about",
];

pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-').to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// A rough singular, applied to both sides of a comparison: `categories` and `category` meet at
/// `category`, `statuses` and `status` at `status`, `orders` and `order` at `order`.
pub(super) fn singular(w: &str) -> String {
    if let Some(stem) = w.strip_suffix("ies").filter(|s| s.len() > 1) {
        return format!("{stem}y");
    }
    for plural in ["sses", "xes", "ches", "shes", "uses"] {
        if let Some(stem) = w.strip_suffix(plural) {
            return format!("{stem}{}", &plural[..plural.len() - 2]);
        }
    }
    if w.ends_with('s') && !["ss", "us", "is"].iter().any(|e| w.ends_with(e)) {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// How well a name (`order_items`) is mentioned in the question's words: 0 when not at all.
pub(super) fn mention(name: &str, ws: &[String]) -> usize {
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

pub(super) fn has(ws: &[String], any: &[&str]) -> bool {
    ws.iter().any(|w| any.contains(&w.as_str()))
}

pub(super) fn phrase(text: &str, p: &str) -> bool {
    format!(" {} ", words(text).join(" ")).contains(&format!(" {p} "))
}

/// Words and pairs of words that may be a value of a text column ("cancelled", "cloud plan"):
/// neither common words, numbers, nor the names of the table and its columns.
pub(super) fn value_candidates(ws: &[String], table: &str, schema: &TableSchema) -> Vec<String> {
    let names: Vec<String> = std::iter::once(table.to_string())
        .chain(schema.columns.keys().cloned())
        .map(|n| singular(&n.to_lowercase()))
        .collect();
    let plain = |w: &String| {
        w.len() >= 3
            && !STOP.contains(&w.as_str())
            && !ANALYTIC.contains(&w.as_str())
            && w.parse::<f64>().is_err()
    };
    let mut out: Vec<String> = Vec::new();
    for w in ws
        .iter()
        .filter(|w| plain(w) && !names.contains(&singular(w)))
    {
        out.push(w.clone());
        out.push(singular(w));
    }
    for pair in ws.windows(2) {
        if pair
            .iter()
            .all(|w| w.len() >= 2 && !STOP.contains(&w.as_str()))
        {
            out.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    out.sort();
    out.dedup();
    out.truncate(40);
    out
}

/// A numeric column whose name says it holds money (`amount`, `total_price`, …).
pub(super) fn is_money(schema: &TableSchema, col: &str) -> bool {
    let c = col.to_lowercase();
    schema.column_kind(col).is_some_and(|k| k.is_numeric())
        && !is_id(col)
        && MONEY_COLUMNS.iter().any(|m| c.contains(m))
}

/// The column periods and listings use: a date or timestamp, the one the words name or else
/// the first.
pub(super) fn time_column<'s>(schema: &'s TableSchema, ws: &[String]) -> Option<&'s String> {
    schema
        .columns
        .keys()
        .filter(|c| schema.column_kind(c).is_some_and(|k| k.is_temporal()))
        .rev()
        .max_by_key(|c| mention(c, ws))
}

pub(super) fn is_id(col: &str) -> bool {
    let c = col.to_lowercase();
    c == "id" || c.ends_with("_id")
}

#[cfg(test)]
mod tests {
    use super::singular;

    #[test]
    fn singulars_meet_their_plurals() {
        for (a, b) in [
            ("categories", "category"),
            ("orders", "order"),
            ("statuses", "status"),
            ("boxes", "box"),
            ("addresses", "address"),
        ] {
            assert_eq!(singular(a), singular(b), "{a} / {b}");
        }
    }
}
