//! Moving the caller's provably leakproof predicates inside a table's fence.
//!
//! Every visible table becomes a derived table that PostgreSQL may not flatten (`OFFSET 0`), so
//! no expression of the caller's query is evaluated on a row outside the space. That fence also
//! stops the planner from using the caller's selective conditions (an index range on `id`), so the
//! guard copies inside the ones that cannot fail or leak whatever row they meet: a column of a
//! plain built-in type compared with a literal (`=`, `<>`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `IN`).
//! Such a predicate only removes rows; it never raises an error that could carry a value, and the
//! original stays in the outer query, so the result is unchanged. Predicates are strict (NULL on a
//! NULL column), so copying one below an outer join changes nothing the outer WHERE keeps.

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, InTarget, Select, TableFactor, UnaryOperator, Value,
};

use crate::schema::{ColumnKind, TableSchema};

/// A WHERE conjunct that names one column of one FROM item and otherwise only literals.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// The column as written (folded later against the table's schema).
    pub column: Ident,
    shape: Shape,
}

#[derive(Debug, Clone)]
enum Shape {
    Compare(BinaryOperator, Literal),
    Between {
        negated: bool,
        low: Literal,
        high: Literal,
    },
    In {
        negated: bool,
        list: Vec<Literal>,
    },
}

#[derive(Debug, Clone)]
enum Literal {
    Number(Box<Expr>),
    Text(Box<Expr>),
    Bool(Box<Expr>),
}

impl Literal {
    fn of(e: &Expr) -> Option<Literal> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(..) => Some(Literal::Number(Box::new(e.clone()))),
                Value::SingleQuotedString(_) => Some(Literal::Text(Box::new(e.clone()))),
                Value::Boolean(_) => Some(Literal::Bool(Box::new(e.clone()))),
                _ => None,
            },
            Expr::UnaryOp {
                op: UnaryOperator::Minus | UnaryOperator::Plus,
                expr,
            } if matches!(&**expr, Expr::Value(v) if matches!(v.value, Value::Number(..))) => {
                Some(Literal::Number(Box::new(e.clone())))
            }
            Expr::Nested(inner) => Literal::of(inner),
            _ => None,
        }
    }

    fn expr(&self) -> Expr {
        match self {
            Literal::Number(e) | Literal::Text(e) | Literal::Bool(e) => (**e).clone(),
        }
    }

    /// Whether comparing a column of `kind` with this literal can neither fail on a row's value
    /// nor call anything but a leakproof comparison.
    fn fits(&self, kind: ColumnKind, op: Option<&BinaryOperator>) -> bool {
        let equality = matches!(op, None | Some(BinaryOperator::Eq | BinaryOperator::NotEq));
        match (self, kind) {
            (Literal::Number(_), ColumnKind::Integer | ColumnKind::Decimal) => true,
            (Literal::Text(_), ColumnKind::Date | ColumnKind::Timestamp) => true,
            // Text ordering depends on collation code; only equality is leakproof.
            (Literal::Text(_), ColumnKind::Text) => equality,
            (Literal::Bool(_), ColumnKind::Boolean) => equality,
            _ => false,
        }
    }
}

/// A column reference: `col` or `q.col`.
fn column_ref(e: &Expr) -> Option<(Option<&Ident>, &Ident)> {
    match e {
        Expr::Identifier(c) => Some((None, c)),
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => Some((Some(&parts[0]), &parts[1])),
        Expr::Nested(inner) => column_ref(inner),
        _ => None,
    }
}

fn flip(op: &BinaryOperator) -> Option<BinaryOperator> {
    Some(match op {
        BinaryOperator::Eq => BinaryOperator::Eq,
        BinaryOperator::NotEq => BinaryOperator::NotEq,
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        _ => return None,
    })
}

/// Splits a WHERE clause into its top-level AND terms.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        other => out.push(other),
    }
}

fn candidate(e: &Expr) -> Option<(Option<&Ident>, Candidate)> {
    let (q, column, shape) = match e {
        Expr::BinaryOp { left, op, right } => {
            if let (Some((q, c)), Some(l)) = (column_ref(left), Literal::of(right)) {
                (q, c, Shape::Compare(flip(op).map(|_| op.clone())?, l))
            } else if let (Some(l), Some((q, c))) = (Literal::of(left), column_ref(right)) {
                (q, c, Shape::Compare(flip(op)?, l))
            } else {
                return None;
            }
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let (q, c) = column_ref(expr)?;
            (
                q,
                c,
                Shape::Between {
                    negated: *negated,
                    low: Literal::of(low)?,
                    high: Literal::of(high)?,
                },
            )
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            global: false,
        } if !list.is_empty() && list.len() <= 1000 => {
            let (q, c) = column_ref(expr)?;
            let list = list.iter().map(Literal::of).collect::<Option<Vec<_>>>()?;
            (
                q,
                c,
                Shape::In {
                    negated: *negated,
                    list,
                },
            )
        }
        _ => return None,
    };
    Some((
        q,
        Candidate {
            column: column.clone(),
            shape,
        },
    ))
}

/// The FROM items of a SELECT that are plain table names, with the name each answers to.
fn named_factors(select: &Select) -> (Vec<(*const TableFactor, Ident)>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    for twj in &select.from {
        for f in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            count += 1;
            if let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = f
            {
                let answers_to = match alias {
                    Some(a) => Some(a.name.clone()),
                    None => name.0.last().and_then(|p| p.as_ident()).cloned(),
                };
                if let Some(id) = answers_to {
                    out.push((f as *const TableFactor, id));
                }
            }
        }
    }
    (out, count)
}

/// For each plain table in this SELECT's FROM, the WHERE conjuncts that only it could answer.
/// `same` says whether two names denote the same relation name in the dialect.
pub(super) fn collect(
    select: &Select,
    same: impl Fn(&Ident, &Ident) -> bool,
) -> Vec<(*const TableFactor, Candidate)> {
    let Some(selection) = &select.selection else {
        return Vec::new();
    };
    let (factors, count) = named_factors(select);
    let mut terms = Vec::new();
    conjuncts(selection, &mut terms);
    let mut out = Vec::new();
    for t in terms {
        let Some((q, c)) = candidate(t) else { continue };
        let target = match q {
            // Unqualified: only when the SELECT reads one table, so the name cannot be another's.
            None if count == 1 && factors.len() == 1 => Some(factors[0].0),
            None => None,
            Some(q) => {
                let mut matching = factors.iter().filter(|(_, id)| same(id, q));
                match (matching.next(), matching.next()) {
                    (Some((p, _)), None) => Some(*p),
                    _ => None,
                }
            }
        };
        if let Some(p) = target {
            out.push((p, c));
        }
    }
    out
}

/// The predicate to AND inside the fence, over `column` (the schema's own name, quoted), or
/// `None` when the column's type does not make it provably leakproof.
pub(super) fn inner_predicate(
    c: &Candidate,
    table: &TableSchema,
    column: &str,
    quote: char,
) -> Option<Expr> {
    let type_name = table.columns.get(column)?;
    if type_name.eq_ignore_ascii_case("money") {
        return None;
    }
    let kind = ColumnKind::of(type_name);
    let col = Box::new(Expr::Identifier(Ident::with_quote(quote, column)));
    Some(match &c.shape {
        Shape::Compare(op, lit) if lit.fits(kind, Some(op)) => Expr::BinaryOp {
            left: col,
            op: op.clone(),
            right: Box::new(lit.expr()),
        },
        Shape::Between { negated, low, high }
            if low.fits(kind, Some(&BinaryOperator::Lt))
                && high.fits(kind, Some(&BinaryOperator::Lt)) =>
        {
            Expr::Between {
                expr: col,
                negated: *negated,
                low: Box::new(low.expr()),
                high: Box::new(high.expr()),
            }
        }
        Shape::In { negated, list } if list.iter().all(|l| l.fits(kind, None)) => Expr::In {
            expr: col,
            target: InTarget::List(list.iter().map(Literal::expr).collect()),
            negated: *negated,
            global: false,
        },
        _ => return None,
    })
}
