//! The walk over a parsed query: allow-list checks on every node that can reach data, CTE
//! scoping as the database resolves names, and the replacement of table references.

use std::ops::ControlFlow;

use std::collections::HashMap;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, InTarget, ObjectName, ObjectNamePart, Query, Select, SetExpr,
    TableAlias, TableFactor, VisitMut, VisitorMut,
};

use super::pushdown::{self, Candidate};
use super::{SpaceGuard, SqlDialect, VisibleTable, functions};
use crate::error::{Error, Result};

/// The CTEs one query defines, and how many of them are in scope at the current point.
struct Frame {
    ctes: Vec<(String, *const Query)>,
    recursive: bool,
    visible: usize,
}

struct Walker<'g> {
    guard: &'g SpaceGuard,
    frames: Vec<Frame>,
    /// Leakproof WHERE conjuncts to copy inside the fence of a table reference, keyed by the
    /// reference's address (stable while the walk is in place).
    pushable: HashMap<*const TableFactor, Vec<Candidate>>,
    /// Whether tables get the fenced replacement (some condition is not leakproof).
    fence: bool,
}

pub(super) fn rewrite(guard: &SpaceGuard, query: &mut Query, fence: bool) -> Result<()> {
    let mut w = Walker {
        guard,
        frames: Vec::new(),
        pushable: HashMap::new(),
        fence,
    };
    match query.visit(&mut w) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

fn refuse<T>(msg: impl Into<String>) -> ControlFlow<Error, T> {
    ControlFlow::Break(Error::QueryRejected(msg.into()))
}

impl Walker<'_> {
    /// The name as the database compares it, or `None` for a quoting style the dialect lacks.
    fn fold(&self, ident: &Ident) -> Option<String> {
        let d = self.guard.dialect;
        match (d, ident.quote_style) {
            (SqlDialect::Postgres, None) => Some(ident.value.to_ascii_lowercase()),
            (SqlDialect::Postgres, Some('"')) => Some(ident.value.clone()),
            (SqlDialect::Redshift, None | Some('"')) => Some(ident.value.to_ascii_lowercase()),
            (SqlDialect::Sqlite, None | Some('"' | '`' | '[')) => {
                Some(ident.value.to_ascii_lowercase())
            }
            (SqlDialect::Mysql, None | Some('`')) => Some(ident.value.clone()),
            _ => None,
        }
    }

    fn is_cte(&self, name: &str) -> bool {
        self.frames
            .iter()
            .rev()
            .any(|f| f.ctes[..f.visible].iter().any(|(n, _)| n == name))
    }

    fn parts<'a>(&self, name: &'a ObjectName) -> ControlFlow<Error, Vec<&'a Ident>> {
        let mut out = Vec::with_capacity(name.0.len());
        for p in &name.0 {
            match p {
                ObjectNamePart::Identifier(i) => out.push(i),
                _ => return refuse(format!("`{name}` is not a plain table name")),
            }
        }
        ControlFlow::Continue(out)
    }

    /// What a table reference resolves to: a CTE in scope (nothing to do) or a visible table
    /// (its fenced replacement). Anything else is refused, naming the tables that exist.
    fn resolve(&self, name: &ObjectName) -> ControlFlow<Error, Option<&'_ VisibleTable>> {
        let parts = self.parts(name)?;
        let folded: Option<Vec<String>> = parts.iter().map(|i| self.fold(i)).collect();
        let Some(folded) = folded else {
            return refuse(format!(
                "the quoting of `{name}` is not allowed in this dialect"
            ));
        };
        let table = match folded.as_slice() {
            [t] => {
                if self.is_cte(t) {
                    return ControlFlow::Continue(None);
                }
                t
            }
            [schema, t] if self.schema_matches(schema) => t,
            _ => {
                return refuse(format!(
                    "table `{name}` is not in this space; use one of: {}",
                    self.table_list()
                ));
            }
        };
        match self.guard.tables.get(&self.guard.dialect.table_key(table)) {
            Some(v) => ControlFlow::Continue(Some(v)),
            None => refuse(format!(
                "table `{name}` is not in this space; use one of: {}",
                self.table_list()
            )),
        }
    }

    fn schema_matches(&self, schema: &str) -> bool {
        let d = self.guard.dialect;
        match d.default_schema() {
            Some(s) => d.table_key(schema) == s,
            None => self.guard.database.as_deref() == Some(schema),
        }
    }

    fn table_list(&self) -> String {
        let mut names: Vec<&str> = self.guard.view.tables.keys().map(String::as_str).collect();
        names.sort();
        if names.is_empty() {
            "(no tables are visible)".into()
        } else {
            names.join(", ")
        }
    }

    fn check_query(&self, q: &Query) -> ControlFlow<Error> {
        if !q.locks.is_empty() {
            return refuse("locking clauses (FOR UPDATE, FOR SHARE) are not allowed");
        }
        if q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return refuse("FOR, SETTINGS, FORMAT and pipe clauses are not allowed");
        }
        self.check_set_expr(&q.body)
    }

    fn check_set_expr(&self, body: &SetExpr) -> ControlFlow<Error> {
        match body {
            SetExpr::Select(s) => {
                if s.into.is_some() {
                    return refuse("SELECT INTO is not allowed");
                }
                if !s.lateral_views.is_empty()
                    || s.prewhere.is_some()
                    || !s.connect_by.is_empty()
                    || !s.cluster_by.is_empty()
                    || !s.distribute_by.is_empty()
                    || !s.sort_by.is_empty()
                    || s.value_table_mode.is_some()
                    || !s.optimizer_hints.is_empty()
                {
                    return refuse("this SELECT clause is not supported");
                }
                ControlFlow::Continue(())
            }
            SetExpr::Query(_) | SetExpr::Values(_) => ControlFlow::Continue(()),
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set_expr(left)?;
                self.check_set_expr(right)
            }
            _ => refuse(
                "only SELECT queries are allowed (no INSERT, UPDATE, DELETE, MERGE or TABLE)",
            ),
        }
    }

    fn check_expr(&self, expr: &Expr) -> ControlFlow<Error> {
        match expr {
            Expr::Function(f) => {
                let name = match f.name.0.as_slice() {
                    [ObjectNamePart::Identifier(i)] => i,
                    _ => {
                        return refuse(format!(
                            "function `{}` is not allowed; call functions by their plain name",
                            f.name
                        ));
                    }
                };
                if f.uses_odbc_syntax
                    || !matches!(f.parameters, sqlparser::ast::FunctionArguments::None)
                {
                    return refuse(format!("this form of calling `{}` is not allowed", f.name));
                }
                if !functions::is_allowed(self.guard.dialect, &name.value) {
                    return refuse(format!(
                        "function `{}` is not allowed; use standard aggregates, arithmetic, string, date and window functions",
                        name.value
                    ));
                }
                functions::check_size(f).map_or(ControlFlow::Continue(()), refuse)
            }
            Expr::Identifier(i) if is_variable(i) => variable(i),
            Expr::CompoundIdentifier(parts) if parts.iter().any(is_variable) => variable(&parts[0]),
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } => refuse("assignments (`:=`) are not allowed"),
            Expr::Cast { data_type, .. } => self.check_type(&data_type.to_string()),
            Expr::TypedString(t) => self.check_type(&t.data_type.to_string()),
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::In {
                target: InTarget::List(_) | InTarget::Subquery(_),
                global: false,
                ..
            }
            | Expr::Between { .. }
            | Expr::BinaryOp { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Extract { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Position { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Nested(_)
            | Expr::Value(_)
            | Expr::Case { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::GroupingSets(_)
            | Expr::Cube(_)
            | Expr::Rollup(_)
            | Expr::Tuple(_)
            | Expr::Interval(_)
            | Expr::Wildcard(_)
            | Expr::QualifiedWildcard(..) => ControlFlow::Continue(()),
            other => refuse(format!("the expression `{other}` is not supported")),
        }
    }

    fn check_type(&self, rendered: &str) -> ControlFlow<Error> {
        if functions::is_allowed_type(rendered) {
            ControlFlow::Continue(())
        } else {
            refuse(format!("casting to `{rendered}` is not allowed"))
        }
    }
}

impl VisitorMut for Walker<'_> {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Error> {
        let ptr = query as *const Query;
        if let Some(parent) = self.frames.last_mut()
            && let Some(i) = parent.ctes.iter().position(|(_, p)| *p == ptr)
        {
            // Inside a CTE body, only earlier CTEs (and itself, when recursive) are in scope.
            parent.visible = if parent.recursive { i + 1 } else { i };
        }
        self.check_query(query)?;
        let mut frame = Frame {
            ctes: Vec::new(),
            recursive: false,
            visible: 0,
        };
        if let Some(with) = &query.with {
            frame.recursive = with.recursive;
            for cte in &with.cte_tables {
                if cte.from.is_some() {
                    return refuse("CTE `FROM` clauses are not supported");
                }
                let Some(name) = self.fold(&cte.alias.name) else {
                    return refuse(format!(
                        "the quoting of `{}` is not allowed",
                        cte.alias.name
                    ));
                };
                if frame.ctes.iter().any(|(n, _)| *n == name) {
                    return refuse(format!("the CTE name `{name}` is defined twice"));
                }
                frame.ctes.push((name, &*cte.query as *const Query));
            }
        }
        self.frames.push(frame);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<Error> {
        let ptr = query as *const Query;
        self.frames.pop();
        if let Some(parent) = self.frames.last_mut()
            && let Some(i) = parent.ctes.iter().position(|(_, p)| *p == ptr)
        {
            parent.visible = i + 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
        match factor {
            TableFactor::Table {
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_directives,
                inheritance,
                ..
            } => {
                if args.is_some() {
                    return refuse("table functions are not allowed in FROM");
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                    || inheritance.is_some()
                {
                    return refuse("table hints, samples, partitions and ONLY are not allowed");
                }
                ControlFlow::Continue(())
            }
            TableFactor::Derived { sample: None, .. } | TableFactor::NestedJoin { .. } => {
                ControlFlow::Continue(())
            }
            other => refuse(format!(
                "`{other}` is not allowed in FROM; use tables of the space and subqueries"
            )),
        }
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
        let ptr = factor as *const TableFactor;
        let TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let candidates = self.pushable.remove(&ptr).unwrap_or_default();
        let Some(visible) = self.resolve(name)? else {
            return ControlFlow::Continue(());
        };
        let fenced = if self.fence {
            let mut q = visible.fenced.clone();
            if !candidates.is_empty() {
                self.push_inside(&mut q, visible, &candidates);
            }
            q
        } else {
            visible.plain.clone()
        };
        // Without an alias, the derived table answers to the name as written; the quoting pass
        // folds both it and every reference to it the same way.
        let alias = alias.take().unwrap_or_else(|| TableAlias {
            explicit: true,
            name: last_part(name),
            columns: vec![],
            at: None,
        });
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(fenced),
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Error> {
        // `public.orders.id` (or `db.orders.id` on MySQL): the table is now a derived table
        // named `orders`, so the qualifier drops its schema.
        if let Expr::CompoundIdentifier(parts) = expr {
            if parts.len() == 3
                && self
                    .fold(&parts[0])
                    .is_some_and(|s| self.schema_matches(&s))
            {
                parts.remove(0);
            } else if parts.len() > 3 {
                return refuse(format!("`{expr}`: qualify columns by table or alias only"));
            }
        }
        self.check_expr(expr)
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<Error> {
        for twj in &select.from {
            for j in &twj.joins {
                if super::plain_join(&j.join_operator).is_none() {
                    return refuse("only INNER, LEFT, RIGHT, FULL and CROSS joins are allowed");
                }
            }
        }
        let d = self.guard.dialect;
        let fold = |i: &Ident| match (d, i.quote_style) {
            (SqlDialect::Postgres, Some(_)) => i.value.clone(),
            _ => d.column_key(&i.value.to_ascii_lowercase()),
        };
        for (ptr, c) in pushdown::collect(select, |a, b| fold(a) == fold(b)) {
            self.pushable.entry(ptr).or_default().push(c);
        }
        ControlFlow::Continue(())
    }
}

impl Walker<'_> {
    /// ANDs the candidates that are provably leakproof for this table inside its fence.
    fn push_inside(&self, fenced: &mut Query, table: &VisibleTable, candidates: &[Candidate]) {
        let d = self.guard.dialect;
        let mut extra: Vec<Expr> = Vec::new();
        for c in candidates {
            let written = match (d, c.column.quote_style) {
                (SqlDialect::Postgres, None) => c.column.value.to_ascii_lowercase(),
                _ => c.column.value.clone(),
            };
            let key = d.column_key(&written);
            let Some(column) = table.schema.columns.keys().find(|k| d.column_key(k) == key) else {
                continue;
            };
            if let Some(p) = pushdown::inner_predicate(c, &table.schema, column, d.quote_char()) {
                extra.push(p);
            }
        }
        let SetExpr::Select(select) = fenced.body.as_mut() else {
            return;
        };
        let mut selection = select
            .selection
            .take()
            .map(|filter| Expr::Nested(Box::new(filter)));
        for p in extra {
            selection = Some(match selection {
                None => p,
                Some(so_far) => Expr::BinaryOp {
                    left: Box::new(so_far),
                    op: BinaryOperator::And,
                    right: Box::new(p),
                },
            });
        }
        select.selection = selection;
    }
}

/// A MySQL user or system variable (`@x`, `@@sql_mode`): session state, which a query may
/// neither read nor set (there is no SQL to reset a MySQL session before its next query).
fn is_variable(i: &Ident) -> bool {
    i.quote_style.is_none() && i.value.starts_with('@')
}

fn variable<T>(i: &Ident) -> ControlFlow<Error, T> {
    refuse(format!(
        "variables such as `{}` are not allowed; write the value itself",
        i.value
    ))
}

fn last_part(name: &ObjectName) -> Ident {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.clone(),
        _ => Ident::new(""),
    }
}
