//! The text of every identifier and string literal in the SQL that runs, written by the guard
//! itself, never by sqlparser's printer.
//!
//! sqlparser prints a quoted name or string by doubling each quote *unless* a backslash precedes
//! it or another quote follows it, and prints backslashes as they are. So the value
//! `\' UNION SELECT …` (read from `'\'' UNION SELECT …'`) came out as `'\' UNION SELECT …'`, which
//! PostgreSQL reads as the string `\` followed by the attacker's UNION; on MySQL and Redshift,
//! where a backslash escapes, the value `x\` came out as `'x\'`, a string that swallowed the next
//! literal and let the SQL inside it run. Both let a query read tables outside the space. This
//! pass replaces each of them with text that the database reads back as exactly the value the
//! guard checked, whatever the server's settings:
//!
//! - PostgreSQL: `'…'` with quotes doubled; `E'…'` with backslashes doubled too when the value
//!   has one (an `E` string means the same under either `standard_conforming_strings`).
//! - MySQL/MariaDB and Redshift: quotes and backslashes both doubled. With backslash escapes on
//!   (the connector pins `sql_mode`) that is the exact value; with them off it is still one
//!   literal of the same extent, so it can never end early.
//! - SQLite: quotes doubled; backslashes mean nothing there.
//! - Names: the dialect's quote character doubled inside it, which no dialect reads otherwise.
//!
//! Literal kinds with no such form (raw, byte, triple-quoted, Unicode-escaped strings, query
//! parameters) are refused, as are NUL characters, which some servers cut a string at.

use std::ops::ControlFlow;

use sqlparser::ast::{Ident, Query, Value, ValueWithSpan, VisitMut, VisitorMut};

use super::SqlDialect;
use crate::error::{Error, Result};

/// Takes over the text of every name and literal of the checked tree. Runs last: after it, the
/// tree only renders; its names and values are no longer fit for inspection.
pub(super) fn own_text(dialect: SqlDialect, query: &mut Query) -> Result<()> {
    match query.visit(&mut Renderer { dialect }) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

struct Renderer {
    dialect: SqlDialect,
}

fn refuse(msg: impl Into<String>) -> ControlFlow<Error> {
    ControlFlow::Break(Error::QueryRejected(msg.into()))
}

/// A name the printer may write as it is: a plain ASCII word (function and window names, which
/// the quoting pass leaves unquoted so that the database resolves them as keywords and built-ins).
fn is_bare_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A quoted name as the dialect reads it back exactly.
pub(super) fn quoted_name(dialect: SqlDialect, name: &str) -> String {
    let q = dialect.quote_char();
    let mut out = String::with_capacity(name.len() + 2);
    out.push(q);
    for c in name.chars() {
        if c == q {
            out.push(q);
        }
        out.push(c);
    }
    out.push(q);
    out
}

/// A string literal as the dialect reads it back exactly (see the module's table). Where the
/// dialect has backslash escapes, line breaks are written as `\n` and `\r`, so the SQL stays on
/// one line (the `rewrite` tool prints one line per query).
pub(super) fn string_literal(dialect: SqlDialect, value: &str) -> String {
    let escapes = match dialect {
        SqlDialect::Postgres => value.contains(['\\', '\n', '\r']),
        SqlDialect::Mysql | SqlDialect::Redshift => true,
        SqlDialect::Sqlite => false,
    };
    let mut out = String::with_capacity(value.len() + 3);
    if escapes && dialect == SqlDialect::Postgres {
        out.push('E');
    }
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if escapes => out.push_str("\\\\"),
            '\n' if escapes => out.push_str("\\n"),
            '\r' if escapes => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl VisitorMut for Renderer {
    type Break = Error;

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<Error> {
        if ident.value.contains('\0') {
            return refuse("names may not contain NUL characters");
        }
        match ident.quote_style {
            Some(_) => {
                ident.value = quoted_name(self.dialect, &ident.value);
                ident.quote_style = None;
            }
            None if is_bare_word(&ident.value) => {}
            None => {
                return refuse(format!(
                    "the name `{}` must be written in double quotes",
                    ident.value
                ));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<Error> {
        let text = match &value.value {
            Value::Number(..) | Value::Boolean(_) | Value::Null => {
                return ControlFlow::Continue(());
            }
            Value::HexStringLiteral(h) if h.chars().all(|c| c.is_ascii_hexdigit()) => {
                return ControlFlow::Continue(());
            }
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::NationalStringLiteral(s) => s,
            Value::DollarQuotedString(d) => &d.value,
            Value::Placeholder(p) => {
                return refuse(format!(
                    "query parameters such as `{p}` are not allowed; write the value itself"
                ));
            }
            other => {
                return refuse(format!(
                    "the literal `{other}` is not allowed; write strings in single quotes"
                ));
            }
        };
        if text.contains('\0') {
            return refuse("strings may not contain NUL characters");
        }
        // A placeholder prints its text verbatim: the one way to give the printer our own.
        value.value = Value::Placeholder(string_literal(self.dialect, text));
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_double_what_each_dialect_escapes() {
        use SqlDialect::*;
        assert_eq!(string_literal(Postgres, r"it's"), r"'it''s'");
        assert_eq!(string_literal(Postgres, r"\'"), r"E'\\'''");
        assert_eq!(string_literal(Mysql, r"x\"), r"'x\\'");
        assert_eq!(string_literal(Redshift, r"a'\"), r"'a''\\'");
        assert_eq!(string_literal(Sqlite, r"a'\"), r"'a''\'");
        assert_eq!(string_literal(Postgres, "a\nb"), r"E'a\nb'");
        assert_eq!(string_literal(Mysql, "a\r\nb"), r"'a\r\nb'");
        assert_eq!(string_literal(Sqlite, "a\nb"), "'a\nb'");
    }

    #[test]
    fn names_double_the_quote_character() {
        assert_eq!(quoted_name(SqlDialect::Postgres, r#"a"\"#), r#""a""\""#);
        assert_eq!(quoted_name(SqlDialect::Mysql, "a`b"), "`a``b`");
    }
}
