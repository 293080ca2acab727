//! Quoting every identifier of the checked tree before it is rendered, folded the way the
//! database would fold it. What runs is then read by the database exactly as the guard read it:
//! a name that sqlparser took for a column (`current_schema`, say) cannot turn back into a
//! function call or a keyword. Function names stay as written (quoting one would change which
//! function, or make special forms like `coalesce` unknown); the allow-list already checked them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, ObjectName, ObjectNamePart, Query, Select, SelectItem, TableAlias,
    TableFactor, VisitMut, VisitorMut,
};

use super::SqlDialect;

pub(super) struct Quoter {
    pub dialect: SqlDialect,
}

impl Quoter {
    pub fn quote(&self, id: &mut Ident) {
        let q = self.dialect.quote_char();
        match (self.dialect, id.quote_style) {
            (SqlDialect::Postgres, None) | (SqlDialect::Redshift, _) => {
                id.value = id.value.to_ascii_lowercase();
            }
            _ => {}
        }
        id.quote_style = Some(q);
    }

    fn quote_name(&self, name: &mut ObjectName) {
        for part in &mut name.0 {
            if let ObjectNamePart::Identifier(i) = part {
                self.quote(i);
            }
        }
    }

    fn quote_alias(&self, alias: &mut TableAlias) {
        self.quote(&mut alias.name);
        for c in &mut alias.columns {
            self.quote(&mut c.name);
        }
    }
}

pub(super) fn quote_all(dialect: SqlDialect, query: &mut Query) {
    let _ = query.visit(&mut Quoter { dialect });
}

impl VisitorMut for Quoter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(with) = &mut query.with {
            for cte in &mut with.cte_tables {
                self.quote_alias(&mut cte.alias);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        for item in &mut select.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                self.quote(alias);
            }
        }
        for twj in &mut select.from {
            for j in &mut twj.joins {
                if let Some(JoinConstraint::Using(names)) =
                    super::plain_join_mut(&mut j.join_operator)
                {
                    for n in names {
                        self.quote_name(n);
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                self.quote_name(name);
                if let Some(a) = alias {
                    self.quote_alias(a);
                }
            }
            TableFactor::Derived { alias: Some(a), .. } => self.quote_alias(a),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(i) => self.quote(i),
            Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(|i| self.quote(i)),
            Expr::QualifiedWildcard(name, _) => self.quote_name(name),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
