//! A space's filters: parsed from the API's JSON, typed against the source's columns at space
//! creation, and turned into a predicate that sea-query renders with every value escaped.
//!
//! Grammar (keys are column names): a string, number or boolean means `column = value`; an array
//! of those means `column IN (…)`; `null` means `column IS NULL`; an object of operators
//! (`eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `in`, `not_in`, `is_null`) combines with AND.

use sea_query::{Cond, Expr, ExprTrait, SimpleExpr};
use serde_json::Value;

use crate::error::{Error, FieldError, Result};
use crate::schema::{ColumnKind, SourceSchema, TableSchema};

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Eq(Scalar),
    Ne(Scalar),
    Gt(Scalar),
    Gte(Scalar),
    Lt(Scalar),
    Lte(Scalar),
    In(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    IsNull(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters(pub Vec<Filter>);

fn problem(key: &str, msg: impl Into<String>) -> FieldError {
    FieldError {
        loc: vec!["body".into(), "filters".into(), key.into()],
        msg: msg.into(),
        kind: "value_error".into(),
    }
}

fn scalar(key: &str, v: &Value) -> std::result::Result<Scalar, FieldError> {
    match v {
        Value::String(s) => Ok(Scalar::Text(s.clone())),
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(Scalar::Int(i)),
            None => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Scalar::Float)
                .ok_or_else(|| problem(key, "number out of range")),
        },
        _ => Err(problem(key, "expected a string, number or boolean")),
    }
}

fn list(key: &str, v: &Value) -> std::result::Result<Vec<Scalar>, FieldError> {
    let Value::Array(items) = v else {
        return Err(problem(key, "expected an array of values"));
    };
    if items.is_empty() {
        return Err(problem(key, "a list of values must not be empty"));
    }
    if items.len() > 10_000 {
        return Err(problem(key, "a list holds at most 10000 values"));
    }
    items.iter().map(|i| scalar(key, i)).collect()
}

impl Filters {
    /// Parses the API's `filters` value. `None` and `{}` both mean "no filters".
    pub fn parse(value: Option<&Value>) -> Result<Filters> {
        let map = match value {
            None | Some(Value::Null) => return Ok(Filters::default()),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(Error::validation(
                    "filters",
                    "filters must be an object whose keys are column names, or null",
                ));
            }
        };
        let mut errors = Vec::new();
        let mut filters = Vec::new();
        for (key, v) in map {
            if key.is_empty() || key.len() > 128 {
                errors.push(problem(key, "a column name has 1 to 128 characters"));
                continue;
            }
            let parsed = match v {
                Value::Null => Ok(vec![Condition::IsNull(true)]),
                Value::Array(_) => list(key, v).map(|l| vec![Condition::In(l)]),
                Value::Object(ops) if ops.is_empty() => Err(problem(key, "no operator given")),
                Value::Object(ops) => ops
                    .iter()
                    .map(|(op, arg)| Self::operator(key, op, arg))
                    .collect(),
                _ => scalar(key, v).map(|s| vec![Condition::Eq(s)]),
            };
            match parsed {
                Ok(conditions) => filters.push(Filter {
                    column: key.clone(),
                    conditions,
                }),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(Filters(filters))
        } else {
            Err(Error::Validation(errors))
        }
    }

    fn operator(key: &str, op: &str, arg: &Value) -> std::result::Result<Condition, FieldError> {
        Ok(match op {
            "eq" => Condition::Eq(scalar(key, arg)?),
            "ne" => Condition::Ne(scalar(key, arg)?),
            "gt" => Condition::Gt(scalar(key, arg)?),
            "gte" => Condition::Gte(scalar(key, arg)?),
            "lt" => Condition::Lt(scalar(key, arg)?),
            "lte" => Condition::Lte(scalar(key, arg)?),
            "in" => Condition::In(list(key, arg)?),
            "not_in" => Condition::NotIn(list(key, arg)?),
            "is_null" => match arg {
                Value::Bool(b) => Condition::IsNull(*b),
                _ => return Err(problem(key, "is_null takes true or false")),
            },
            other => {
                return Err(problem(
                    key,
                    format!(
                        "unknown operator `{other}`; use eq, ne, gt, gte, lt, lte, in, not_in or is_null"
                    ),
                ));
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|f| f.column.as_str())
    }

    /// Secure by default: a table is visible only if it has every filter column.
    pub fn applies_to(&self, table: &TableSchema) -> bool {
        self.columns().all(|c| table.columns.contains_key(c))
    }

    /// Checks every key names a column of some table, and every value fits that column's type.
    pub fn validate(&self, schema: &SourceSchema) -> Result<()> {
        let mut errors = Vec::new();
        for f in &self.0 {
            let tables: Vec<&TableSchema> = schema
                .tables
                .values()
                .filter(|t| t.columns.contains_key(&f.column))
                .collect();
            if tables.is_empty() {
                errors.push(problem(
                    &f.column,
                    format!("`{}` is not a column of any table of this source", f.column),
                ));
                continue;
            }
            for t in tables {
                let kind = t.column_kind(&f.column).unwrap_or(ColumnKind::Other);
                if let Some(bad) = f.scalars().find(|s| !fits(s, kind)) {
                    errors.push(problem(
                        &f.column,
                        format!(
                            "value {bad:?} does not fit column `{}` of type {}",
                            f.column, t.columns[&f.column]
                        ),
                    ));
                    break;
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The space's predicate for one table, with every value bound by sea-query.
    pub fn condition(&self) -> Cond {
        let mut all = Cond::all();
        for f in &self.0 {
            for c in &f.conditions {
                all = all.add(condition(&f.column, c));
            }
        }
        all
    }
}

impl Filter {
    fn scalars(&self) -> impl Iterator<Item = &Scalar> {
        self.conditions.iter().flat_map(|c| match c {
            Condition::Eq(s)
            | Condition::Ne(s)
            | Condition::Gt(s)
            | Condition::Gte(s)
            | Condition::Lt(s)
            | Condition::Lte(s) => std::slice::from_ref(s).iter(),
            Condition::In(l) | Condition::NotIn(l) => l.iter(),
            Condition::IsNull(_) => [].iter(),
        })
    }
}

fn fits(s: &Scalar, kind: ColumnKind) -> bool {
    match (kind, s) {
        (ColumnKind::Integer, Scalar::Int(_)) => true,
        (ColumnKind::Decimal, Scalar::Int(_) | Scalar::Float(_)) => true,
        (ColumnKind::Text, Scalar::Text(_)) => true,
        (ColumnKind::Boolean, Scalar::Bool(_)) => true,
        (ColumnKind::Date, Scalar::Text(t)) => {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()
        }
        (ColumnKind::Timestamp, Scalar::Text(t)) => {
            chrono::DateTime::parse_from_rfc3339(t).is_ok()
                || chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok()
                || chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()
        }
        (ColumnKind::Other, _) => true,
        _ => false,
    }
}

fn value(s: &Scalar) -> SimpleExpr {
    match s {
        Scalar::Text(t) => Expr::val(t.clone()),
        Scalar::Int(i) => Expr::val(*i),
        Scalar::Float(f) => Expr::val(*f),
        Scalar::Bool(b) => Expr::val(*b),
    }
}

fn condition(column: &str, c: &Condition) -> SimpleExpr {
    let col = || Expr::col(column.to_string());
    match c {
        Condition::Eq(s) => col().eq(value(s)),
        Condition::Ne(s) => col().ne(value(s)),
        Condition::Gt(s) => col().gt(value(s)),
        Condition::Gte(s) => col().gte(value(s)),
        Condition::Lt(s) => col().lt(value(s)),
        Condition::Lte(s) => col().lte(value(s)),
        Condition::In(l) => col().is_in(l.iter().map(value)),
        Condition::NotIn(l) => col().is_not_in(l.iter().map(value)),
        Condition::IsNull(true) => col().is_null(),
        Condition::IsNull(false) => col().is_not_null(),
    }
}
