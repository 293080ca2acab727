//! A data source's schema as Breadcrumb sees it: tables and typed columns, in database order.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceSchema {
    #[schema(value_type = Object)]
    pub tables: IndexMap<String, TableSchema>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TableSchema {
    /// Column name to the database's type name.
    #[schema(value_type = Object)]
    pub columns: IndexMap<String, String>,
}

impl TableSchema {
    pub fn column_kind(&self, column: &str) -> Option<ColumnKind> {
        self.columns.get(column).map(|t| ColumnKind::of(t))
    }
}

/// A coarse classification of database type names, shared by filters, the agent and charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Decimal,
    Text,
    Boolean,
    Date,
    Timestamp,
    Other,
}

impl ColumnKind {
    pub fn of(type_name: &str) -> Self {
        let t = type_name.to_ascii_lowercase();
        let t = t.trim();
        if t.starts_with("bool") || t == "tinyint(1)" {
            ColumnKind::Boolean
        } else if t.contains("int") || t == "serial" || t == "bigserial" || t == "smallserial" {
            ColumnKind::Integer
        } else if t.starts_with("numeric")
            || t.starts_with("decimal")
            || t.starts_with("real")
            || t.starts_with("double")
            || t.starts_with("float")
            || t == "money"
        {
            ColumnKind::Decimal
        } else if t.starts_with("timestamp") || t.starts_with("datetime") {
            ColumnKind::Timestamp
        } else if t == "date" {
            ColumnKind::Date
        } else if t.contains("char")
            || t == "text"
            || t == "uuid"
            || t.starts_with("enum")
            || t == "citext"
            || t == "name"
        {
            ColumnKind::Text
        } else {
            ColumnKind::Other
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnKind::Integer | ColumnKind::Decimal)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, ColumnKind::Date | ColumnKind::Timestamp)
    }
}
