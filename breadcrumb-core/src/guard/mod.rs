//! The space guard: the only way SQL reaches a data source. It parses a query in the source's
//! dialect, accepts only what is known to be safe (one read-only query, tables of the space,
//! allow-listed functions and types) and replaces every table reference with a derived table that
//! carries the space's filters. Only the SQL rendered from the checked tree ever runs.

mod functions;
mod leakproof;
mod pushdown;
mod quote;
mod render;
mod walker;

use std::collections::HashMap;

use sea_query::{
    Asterisk, MysqlQueryBuilder, PostgresQueryBuilder, Query as SeaQuery, SqliteQueryBuilder,
};
use sqlparser::ast::{JoinConstraint, JoinOperator, Query, SetExpr, Statement};
use sqlparser::dialect::{
    Dialect, MySqlDialect, PostgreSqlDialect, RedshiftSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::filters::Filters;
use crate::schema::SourceSchema;

pub use functions::{is_allowed as is_allowed_function, is_allowed_type};

/// Longest SQL text the guard will parse; a model has no business writing more.
pub const MAX_SQL_LEN: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    Postgres,
    Redshift,
    Sqlite,
    Mysql,
}

impl SqlDialect {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Self::Postgres,
            "redshift" => Self::Redshift,
            "sqlite" => Self::Sqlite,
            "mysql" | "mariadb" => Self::Mysql,
            _ => return None,
        })
    }

    pub(crate) fn parser_dialect(self) -> Box<dyn Dialect> {
        match self {
            Self::Postgres => Box::new(PostgreSqlDialect {}),
            Self::Redshift => Box::new(RedshiftSqlDialect {}),
            Self::Sqlite => Box::new(SQLiteDialect {}),
            Self::Mysql => Box::new(MySqlDialect {}),
        }
    }

    /// The key a table name is looked up by, as the database itself would compare names.
    fn table_key(self, name: &str) -> String {
        match self {
            Self::Postgres | Self::Mysql => name.to_string(),
            Self::Redshift | Self::Sqlite => name.to_ascii_lowercase(),
        }
    }

    /// How the dialect quotes an identifier. SQLite reads a double-quoted name that matches no
    /// column as a string literal, so a misspelt column would silently become text; a
    /// backquoted name is always an identifier.
    fn quote_char(self) -> char {
        match self {
            Self::Mysql | Self::Sqlite => '`',
            _ => '"',
        }
    }

    /// The key a column name is looked up by: PostgreSQL compares exactly (after folding),
    /// the others ignore case.
    fn column_key(self, name: &str) -> String {
        match self {
            Self::Postgres => name.to_string(),
            _ => name.to_ascii_lowercase(),
        }
    }

    /// What makes a derived table opaque to the planner: PostgreSQL does not pull up or push
    /// predicates into a subquery with OFFSET, MySQL and MariaDB do not merge one with LIMIT,
    /// SQLite does not flatten one with LIMIT into a join.
    fn fence(self) -> &'static str {
        match self {
            Self::Postgres | Self::Redshift => " OFFSET 0",
            Self::Sqlite => " LIMIT -1 OFFSET 0",
            Self::Mysql => " LIMIT 18446744073709551615",
        }
    }

    /// The schema that unqualified names resolve to (the pinned search path).
    fn default_schema(self) -> Option<&'static str> {
        match self {
            Self::Postgres | Self::Redshift => Some("public"),
            Self::Sqlite => Some("main"),
            Self::Mysql => None,
        }
    }
}

/// SQL that passed the guard. Only the guard can make one, so a connector that takes a
/// `GuardedSql` cannot be handed unchecked text by mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedSql {
    sql: String,
    display: String,
}

impl GuardedSql {
    /// The rewritten SQL that runs on the database.
    pub fn as_str(&self) -> &str {
        &self.sql
    }
    /// The caller's query as the space sees it (checked and normalised, before the filters).
    pub fn display(&self) -> &str {
        &self.display
    }
}

#[cfg(feature = "test-oracle")]
impl GuardedSql {
    /// SQL that did not pass the guard, for the differential oracle: the original query run on
    /// a database that holds only one tenant's rows. Exists only under the `test-oracle` feature.
    pub fn unguarded(sql: &str) -> Self {
        GuardedSql {
            sql: sql.to_string(),
            display: sql.to_string(),
        }
    }
}

struct VisibleTable {
    /// The filtered derived query that replaces each reference when every condition of the
    /// caller's query is leakproof, parsed once; the planner may flatten it.
    plain: Query,
    /// The same with the fence, for every other query.
    fenced: Query,
    schema: crate::schema::TableSchema,
}

/// A guard for one space: the source's dialect and schema, and the space's filters.
pub struct SpaceGuard {
    dialect: SqlDialect,
    tables: HashMap<String, VisibleTable>,
    view: SourceSchema,
    database: Option<String>,
}

impl SpaceGuard {
    /// `database` is the MySQL database name that a qualified name may use.
    pub fn new(
        dialect: SqlDialect,
        schema: &SourceSchema,
        filters: &Filters,
        database: Option<&str>,
    ) -> Result<Self> {
        let mut tables = HashMap::new();
        let mut view = SourceSchema::default();
        let condition = filters.condition();
        for (name, table) in &schema.tables {
            if !filters.applies_to(table) {
                continue;
            }
            let mut q = SeaQuery::select();
            q.column(Asterisk);
            match dialect.default_schema() {
                Some(schema) => q.from((schema.to_string(), name.clone())),
                None => q.from(name.clone()),
            };
            if !filters.is_empty() {
                q.cond_where(condition.clone());
            }
            let sql = match dialect {
                SqlDialect::Postgres | SqlDialect::Redshift => q.to_string(PostgresQueryBuilder),
                SqlDialect::Sqlite => q.to_string(SqliteQueryBuilder),
                SqlDialect::Mysql => q.to_string(MysqlQueryBuilder),
            };
            // The filter is rendered by sea-query's PostgreSQL builder for Redshift too, whose
            // `E'…'` strings only the PostgreSQL parser reads; the render pass then writes them
            // as Redshift reads them.
            let built_for = match dialect {
                SqlDialect::Redshift => SqlDialect::Postgres,
                d => d,
            };
            let reparse = |sql: &str| {
                parse_one(built_for, sql).map_err(|e| {
                    Error::Internal(format!("filter predicate for {name} did not re-parse: {e}"))
                })
            };
            tables.insert(
                dialect.table_key(name),
                VisibleTable {
                    plain: reparse(&sql)?,
                    fenced: reparse(&format!("{sql}{}", dialect.fence()))?,
                    schema: table.clone(),
                },
            );
            view.tables.insert(name.clone(), table.clone());
        }
        Ok(SpaceGuard {
            dialect,
            tables,
            view,
            database: database.map(str::to_string),
        })
    }

    pub fn dialect(&self) -> SqlDialect {
        self.dialect
    }

    /// The tables and columns this space shows: what the agent may be told about.
    pub fn visible_schema(&self) -> &SourceSchema {
        &self.view
    }

    /// Checks a query and rewrites it so that it only ever sees the space's rows.
    pub fn check(&self, sql: &str) -> Result<GuardedSql> {
        if sql.len() > MAX_SQL_LEN {
            return Err(Error::QueryRejected(format!(
                "the query is longer than {MAX_SQL_LEN} characters"
            )));
        }
        refuse_unrepresentable(sql)?;
        let mut query = parse_one(self.dialect, sql)?;
        let display = query.to_string();
        let fence = leakproof::needs_fence(&query);
        walker::rewrite(self, &mut query, fence)?;
        quote::quote_all(self.dialect, &mut query);
        render::own_text(self.dialect, &mut query)?;
        Ok(GuardedSql {
            sql: query.to_string(),
            display,
        })
    }
}

/// Input that sqlparser cannot represent exactly is refused rather than guessed at: PostgreSQL's
/// Unicode-escaped identifiers and strings (`U&"…"`, `U&'…'`), which sqlparser reads as an `&`
/// between a column `U` and another name, and the `UESCAPE` clause that goes with them.
fn refuse_unrepresentable(sql: &str) -> Result<()> {
    let b = sql.as_bytes();
    let unicode_escape = b
        .windows(3)
        .any(|w| matches!(w[0], b'u' | b'U') && w[1] == b'&' && matches!(w[2], b'"' | b'\''));
    if unicode_escape || sql.to_ascii_lowercase().contains("uescape") {
        return Err(Error::QueryRejected(
            "Unicode-escaped names and strings (U&\"…\", U&'…', UESCAPE) are not allowed; write the characters themselves"
                .into(),
        ));
    }
    Ok(())
}

/// The constraint of a plain join (INNER, LEFT, RIGHT, FULL, CROSS); `None` for every other kind
/// (ASOF, APPLY, SEMI, ANTI, STRAIGHT_JOIN…), which the guard refuses.
fn plain_join(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c) => Some(c),
        _ => None,
    }
}

fn plain_join_mut(op: &mut JoinOperator) -> Option<&mut JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c) => Some(c),
        _ => None,
    }
}

/// Parses exactly one query statement in the dialect, refusing anything else.
fn parse_one(dialect: SqlDialect, sql: &str) -> Result<Query> {
    let d = dialect.parser_dialect();
    let mut statements = Parser::new(d.as_ref())
        .with_recursion_limit(64)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| Error::QueryRejected(format!("the SQL does not parse: {e}")))?;
    if statements.len() != 1 {
        return Err(Error::QueryRejected(format!(
            "exactly one statement is allowed, found {}",
            statements.len()
        )));
    }
    match statements.pop() {
        Some(Statement::Query(q)) => match *q.body {
            SetExpr::Select(_)
            | SetExpr::Query(_)
            | SetExpr::SetOperation { .. }
            | SetExpr::Values(_) => Ok(*q),
            _ => Err(Error::QueryRejected(
                "only SELECT queries are allowed (no INSERT, UPDATE, DELETE, MERGE or TABLE)"
                    .into(),
            )),
        },
        Some(other) => Err(Error::QueryRejected(format!(
            "only a single SELECT query is allowed; this is a {} statement",
            statement_kind(&other)
        ))),
        None => Err(Error::QueryRejected("the SQL is empty".into())),
    }
}

fn statement_kind(s: &Statement) -> String {
    let text = s.to_string();
    text.split_whitespace()
        .next()
        .unwrap_or("unknown")
        .to_ascii_uppercase()
}
