//! Deciding whether a query needs the fence at all.
//!
//! PostgreSQL flattens a derived table into the query around it and then orders each table
//! scan's conditions by cost, so a condition the caller wrote may run on a row before the space's
//! filter has removed it. That is harmless for a condition that can neither fail nor have an
//! effect, whatever row it meets: it can only drop rows, and the filter drops the others anyway.
//! It is a leak for anything else (`note::int > 0` fails on another tenant's note, and even a
//! failure without a value is one bit about that row).
//!
//! So a query whose every condition, at every level, is built only from column references,
//! literals, comparisons, AND/OR/NOT, IS [NOT] NULL, BETWEEN, IN lists and subqueries of the same
//! kind, and whose derived tables and CTEs only pass columns through (or aggregate them, which
//! happens after filtering), runs on plain derived tables that the planner may flatten and
//! optimise like the query a person would write. Any other query gets the fence (`OFFSET 0`),
//! under which nothing of the caller's is evaluated before the filter; see `pushdown` for what
//! is still moved inside.
//!
//! Comparisons of built-in types are leakproof: PostgreSQL marks the integer, float, text, date,
//! timestamp and boolean comparison functions `proleakproof`; the numeric ones are not marked but
//! have no error path. Implicit casts between compared columns only widen (integer to numeric,
//! date to timestamp) and cannot fail; a comparison of incompatible types fails when the query
//! is planned, before any row is read.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, JoinConstraint, Query,
    Select, SelectItem, SetExpr, TableFactor, UnaryOperator, Value, Visit, Visitor,
};

/// Whether some condition of `query` might fail or act on a row outside the space if the planner
/// evaluated it before the space's filter.
pub(super) fn needs_fence(query: &Query) -> bool {
    matches!(query.visit(&mut Finder), ControlFlow::Break(()))
}

struct Finder;

fn guard(ok: bool) -> ControlFlow<()> {
    if ok {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

impl Visitor for Finder {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                guard(passes_through(&cte.query))?;
            }
        }
        guard(quals_safe(&q.body))
    }

    fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
        match f {
            TableFactor::Derived { subquery, .. } => guard(passes_through(subquery)),
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Every WHERE, JOIN ON and HAVING of this body (HAVING without aggregates may become WHERE).
fn quals_safe(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => select_quals_safe(s),
        SetExpr::SetOperation { left, right, .. } => quals_safe(left) && quals_safe(right),
        SetExpr::Query(q) => quals_safe(&q.body),
        SetExpr::Values(_) => true,
        _ => false,
    }
}

fn select_quals_safe(s: &Select) -> bool {
    let joins_ok = s.from.iter().flat_map(|t| &t.joins).all(|j| {
        let Some(c) = super::plain_join(&j.join_operator) else {
            return false;
        };
        match c {
            JoinConstraint::On(e) => safe_expr(e),
            JoinConstraint::Using(_) | JoinConstraint::Natural | JoinConstraint::None => true,
            _ => false,
        }
    });
    joins_ok
        && s.selection.as_ref().is_none_or(safe_expr)
        && s.having.as_ref().is_none_or(safe_expr)
}

/// A derived table or CTE whose output columns are its input columns, literals, or aggregates
/// and window functions (computed after filtering, never pushed below it): a condition on its
/// output stays a condition of the same kind when the planner moves it inside.
fn passes_through(q: &Query) -> bool {
    fn body(b: &SetExpr) -> bool {
        match b {
            SetExpr::Select(s) => projection_is(s, |e| operand(e) || is_aggregate_or_window(e)),
            SetExpr::SetOperation { left, right, .. } => body(left) && body(right),
            SetExpr::Query(q) => passes_through(q),
            SetExpr::Values(v) => literal_rows(v),
            _ => false,
        }
    }
    body(&q.body)
}

/// Every output column is `*` or an expression that passes `ok`.
fn projection_is(s: &Select, ok: impl Fn(&Expr) -> bool) -> bool {
    s.projection.iter().all(|item| match item {
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => true,
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => ok(e),
        _ => false,
    })
}

fn literal_rows(v: &sqlparser::ast::Values) -> bool {
    v.rows
        .iter()
        .flat_map(|r| &r.content)
        .all(|e| matches!(e, Expr::Value(_)))
}

fn is_aggregate_or_window(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => {
            f.over.is_some()
                || matches!(
                    f.name.to_string().to_ascii_lowercase().as_str(),
                    "count" | "sum" | "avg" | "min" | "max"
                )
        }
        Expr::Nested(inner) => is_aggregate_or_window(inner),
        _ => false,
    }
}

/// A value a leakproof comparison may take: a column, a literal, or a subquery that is itself
/// leakproof and returns at most one row by construction (one aggregate, no GROUP BY).
fn operand(e: &Expr) -> bool {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Value(v) => !matches!(v.value, Value::Placeholder(_)),
        Expr::TypedString(_) => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => matches!(**expr, Expr::Value(_)),
        Expr::Nested(inner) => operand(inner),
        Expr::Subquery(q) => single_aggregate(q) && safe_subquery(q),
        _ => false,
    }
}

fn single_aggregate(q: &Query) -> bool {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return false;
    };
    matches!(&s.group_by, sqlparser::ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty())
        && s.projection.len() == 1
        && matches!(&s.projection[0],
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } if plain_aggregate(e))
}

/// count/sum/avg/min/max over a column or `*`: no error path, whatever the rows.
fn plain_aggregate(e: &Expr) -> bool {
    let Expr::Function(f) = e else { return false };
    if f.over.is_some() || f.filter.is_some() {
        return false;
    }
    let name = f.name.to_string().to_ascii_lowercase();
    if !matches!(name.as_str(), "count" | "sum" | "avg" | "min" | "max") {
        return false;
    }
    match &f.args {
        FunctionArguments::List(l) => l.args.iter().all(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => true,
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
            }
            _ => false,
        }),
        _ => false,
    }
}

/// A subquery used inside a condition: it may be evaluated once per candidate row, with that
/// row's values, so everything in it must be leakproof, not only its conditions.
fn safe_subquery(q: &Query) -> bool {
    fn body(b: &SetExpr) -> bool {
        match b {
            SetExpr::Select(s) => {
                select_quals_safe(s)
                    && projection_is(s, |e| operand(e) || plain_aggregate(e))
                    && s.from.iter().all(|t| {
                        std::iter::once(&t.relation)
                            .chain(t.joins.iter().map(|j| &j.relation))
                            .all(|f| match f {
                                TableFactor::Table { .. } => true,
                                TableFactor::Derived { subquery, .. } => safe_subquery(subquery),
                                _ => false,
                            })
                    })
                    && match &s.group_by {
                        sqlparser::ast::GroupByExpr::Expressions(g, _) => g.iter().all(operand),
                        _ => false,
                    }
            }
            SetExpr::SetOperation { left, right, .. } => body(left) && body(right),
            SetExpr::Query(q) => safe_subquery(q),
            SetExpr::Values(v) => literal_rows(v),
            _ => false,
        }
    }
    q.with.is_none()
        && q.order_by.is_none()
        && q.limit_clause.is_none()
        && q.fetch.is_none()
        && body(&q.body)
}

/// A condition that can neither fail nor act, whatever row it is evaluated on.
fn safe_expr(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => safe_expr(inner),
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::And | BinaryOperator::Or => safe_expr(left) && safe_expr(right),
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => operand(left) && operand(right),
            _ => false,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => safe_expr(expr),
        Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::IsTrue(x)
        | Expr::IsFalse(x)
        | Expr::IsNotTrue(x)
        | Expr::IsNotFalse(x)
        | Expr::IsUnknown(x)
        | Expr::IsNotUnknown(x) => operand(x),
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => operand(a) && operand(b),
        Expr::Between {
            expr, low, high, ..
        } => operand(expr) && operand(low) && operand(high),
        Expr::In {
            expr,
            target,
            global: false,
            ..
        } => {
            operand(expr)
                && match target {
                    sqlparser::ast::InTarget::List(l) => l.iter().all(operand),
                    sqlparser::ast::InTarget::Subquery(q) => safe_subquery(q),
                    _ => false,
                }
        }
        Expr::Exists { subquery, .. } => safe_subquery(subquery),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Value(_) => true,
        _ => false,
    }
}
