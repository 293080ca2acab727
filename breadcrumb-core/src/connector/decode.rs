//! Turning result rows into JSON, shared by the connectors. Values arrive as text (the simple
//! protocol) or as SQLite's dynamic types; numbers that may not survive a JavaScript double
//! (INT8 beyond 2^53, NUMERIC) stay strings.

use serde_json::Value;
use sqlx::{Column, Row, TypeInfo};

use crate::model::{ColumnMeta, QueryData};

/// Collects rows under the row and byte caps.
pub(crate) struct RowSink {
    pub data: QueryData,
    bytes: usize,
    max_rows: usize,
    max_bytes: usize,
}

impl RowSink {
    pub fn new(max_rows: usize, max_bytes: usize) -> Self {
        RowSink {
            data: QueryData::default(),
            bytes: 0,
            max_rows,
            max_bytes,
        }
    }

    /// The result's columns, read off its first row (later rows have the same).
    pub fn columns_from<R: Row>(&mut self, row: &R) {
        if self.data.columns.is_empty() {
            self.data.columns = row
                .columns()
                .iter()
                .map(|c| ColumnMeta {
                    name: c.name().to_string(),
                    data_type: c.type_info().name().to_ascii_lowercase(),
                })
                .collect();
        }
    }

    /// Adds a row; returns false when a cap is reached and the rest must be dropped.
    pub fn push(&mut self, row: Vec<Value>) -> bool {
        if self.data.rows.len() >= self.max_rows {
            self.data.truncated = true;
            return false;
        }
        let size: usize = row.iter().map(approx_size).sum::<usize>() + 2;
        if self.bytes + size > self.max_bytes {
            self.data.truncated = true;
            return false;
        }
        self.bytes += size;
        self.data.rows.push(row);
        true
    }
}

fn approx_size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 3,
        Value::Null => 4,
        _ => 8,
    }
}

/// A text-format value of a PostgreSQL or MySQL type, as JSON.
pub(crate) fn from_text(type_name: &str, text: &str) -> Value {
    let t = type_name.to_ascii_uppercase();
    match t.as_str() {
        "INT2" | "INT4" | "SMALLINT" | "INT" | "INTEGER" | "MEDIUMINT" | "TINYINT" | "YEAR"
        | "SMALLINT UNSIGNED" | "TINYINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.into())),
        "INT8" | "BIGINT" | "BIGINT UNSIGNED" => match text.parse::<i64>() {
            Ok(i) if i.unsigned_abs() <= (1u64 << 53) => Value::from(i),
            _ => Value::String(text.into()),
        },
        "FLOAT4" | "FLOAT8" | "FLOAT" | "DOUBLE" | "REAL" => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.into())),
        "BOOL" | "BOOLEAN" => match text {
            "t" | "true" | "1" => Value::Bool(true),
            "f" | "false" | "0" => Value::Bool(false),
            other => Value::String(other.into()),
        },
        _ => Value::String(text.into()),
    }
}

/// Adds one row of a text-protocol result (PostgreSQL, MySQL) to `sink`: `text` reads cell `i` as
/// text, `None` for NULL. Returns false when a cap is reached.
pub(crate) fn push_text_row<R: Row>(
    sink: &mut RowSink,
    row: &R,
    text: impl Fn(&R, usize) -> sqlx::Result<Option<String>>,
) -> sqlx::Result<bool> {
    sink.columns_from(row);
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        out.push(match text(row, i)? {
            None => Value::Null,
            Some(s) => from_text(col.type_info().name(), &s),
        });
    }
    Ok(sink.push(out))
}
