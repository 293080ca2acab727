//! The differential oracle over generated queries: random SELECTs with joins, subqueries, CTEs,
//! aggregates, window functions and set operations over the two-tenant schema. Every query the
//! guard accepts must answer on the full database exactly as the original query answers on a
//! database of tenant A alone, and nothing of tenant B may show.
//!
//! CI runs a fixed seed; `BREADCRUMB_ORACLE_CASES=100000 BREADCRUMB_ORACLE_SEED=<n> cargo test
//! --release -p breadcrumb-core --test guard_oracle -- --nocapture` is the long mode.

mod common;
mod tenants;

use breadcrumb_core::guard::GuardedSql;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tenants::{Engine, Verdict, judge, limits, two_databases};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Num,
    Text,
    Time,
}

const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "customers",
        &[
            ("id", Kind::Int),
            ("customer_id", Kind::Text),
            ("name", Kind::Text),
            ("country", Kind::Text),
            ("created_at", Kind::Time),
        ],
    ),
    (
        "orders",
        &[
            ("id", Kind::Int),
            ("customer_id", Kind::Text),
            ("buyer_id", Kind::Int),
            ("amount", Kind::Num),
            ("status", Kind::Text),
            ("note", Kind::Text),
            ("created_at", Kind::Time),
        ],
    ),
    (
        "payments",
        &[
            ("id", Kind::Int),
            ("customer_id", Kind::Text),
            ("order_id", Kind::Int),
            ("paid", Kind::Num),
            ("method", Kind::Text),
        ],
    ),
];

/// A FROM clause and the columns it offers (qualified), with the unique key to order by.
struct Source {
    from: String,
    columns: Vec<(String, Kind)>,
    key: String,
    has_orders: Option<String>,
}

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.random_range(0..xs.len())]
    }
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn literal(&mut self, k: Kind) -> String {
        match k {
            Kind::Int => {
                let v = *self.pick(&[1i64, 3, 5, 8, 105, 120, 139, 90200, 90305, 501, 0]);
                v.to_string()
            }
            Kind::Num => self
                .pick(&["10.5", "100", "250.25", "400", "7777.05", "0"])
                .to_string(),
            Kind::Text => self
                .pick(&[
                    "'acme'",
                    "'acme-3'",
                    "'bravo'",
                    "'paid'",
                    "'open'",
                    "'refunded'",
                    "'bravo-only'",
                    "'DE'",
                    "'FR'",
                    "'card'",
                    "'invoice'",
                    "'9'",
                    "'Acme Unit 2'",
                ])
                .to_string(),
            Kind::Time => self
                .pick(&[
                    "'2023-06-01 00:00:00'",
                    "'2024-01-01 00:00:00'",
                    "'2024-03-15 12:00:00'",
                ])
                .to_string(),
        }
    }

    fn table(&mut self, alias: &str) -> Source {
        let (name, cols) = *self.pick(TABLES);
        Source {
            from: format!("{name} {alias}"),
            columns: cols
                .iter()
                .map(|(c, k)| (format!("{alias}.{c}"), *k))
                .collect(),
            key: format!("{alias}.id"),
            has_orders: (name == "orders").then(|| alias.to_string()),
        }
    }

    fn source(&mut self, depth: u32) -> Source {
        match self.rng.random_range(0..10) {
            0..=3 => self.table("t"),
            4 | 5 => {
                let join = *self.pick(&["JOIN", "LEFT JOIN", "INNER JOIN"]);
                let mut cols: Vec<(String, Kind)> = TABLES[1]
                    .1
                    .iter()
                    .map(|(c, k)| (format!("o.{c}"), *k))
                    .collect();
                cols.extend(TABLES[0].1.iter().map(|(c, k)| (format!("c.{c}"), *k)));
                Source {
                    from: format!("orders o {join} customers c ON c.id = o.buyer_id"),
                    columns: cols,
                    key: "o.id".into(),
                    has_orders: Some("o".into()),
                }
            }
            6 => {
                let mut cols: Vec<(String, Kind)> = TABLES[2]
                    .1
                    .iter()
                    .map(|(c, k)| (format!("p.{c}"), *k))
                    .collect();
                cols.extend(TABLES[1].1.iter().map(|(c, k)| (format!("o.{c}"), *k)));
                Source {
                    from: "payments p JOIN orders o ON o.id = p.order_id".into(),
                    columns: cols,
                    key: "p.id".into(),
                    has_orders: Some("o".into()),
                }
            }
            7 | 8 if depth < 2 => {
                // A derived table over a filtered table.
                let (name, cols) = *self.pick(TABLES);
                let inner = Source {
                    from: format!("{name} i"),
                    columns: cols.iter().map(|(c, k)| (format!("i.{c}"), *k)).collect(),
                    key: "i.id".into(),
                    has_orders: None,
                };
                let pred = self.predicate(&inner, depth + 1);
                Source {
                    from: format!("(SELECT * FROM {name} i WHERE {pred}) d"),
                    columns: cols.iter().map(|(c, k)| (format!("d.{c}"), *k)).collect(),
                    key: "d.id".into(),
                    has_orders: (name == "orders").then(|| "d".into()),
                }
            }
            _ => self.table("t"),
        }
    }

    fn column(&mut self, s: &Source) -> (String, Kind) {
        self.pick(&s.columns).clone()
    }

    fn predicate(&mut self, s: &Source, depth: u32) -> String {
        let (c, k) = self.column(s);
        let simple = match self.rng.random_range(0..12) {
            0..=3 => {
                let op = *self.pick(&["=", "<>", "<", "<=", ">", ">="]);
                format!("{c} {op} {}", self.literal(k))
            }
            4 => format!("{c} IS {}NULL", if self.chance(0.5) { "NOT " } else { "" }),
            5 => {
                let (a, b) = (self.literal(k), self.literal(k));
                format!(
                    "{c} {}BETWEEN {a} AND {b}",
                    if self.chance(0.3) { "NOT " } else { "" }
                )
            }
            6 => {
                let items: Vec<String> = (0..self.rng.random_range(1..4))
                    .map(|_| self.literal(k))
                    .collect();
                format!(
                    "{c} {}IN ({})",
                    if self.chance(0.3) { "NOT " } else { "" },
                    items.join(", ")
                )
            }
            7 if k == Kind::Text => {
                format!("{c} LIKE '{}%'", self.pick(&["a", "b", "A", "p", "9"]))
            }
            8 if depth < 2 => {
                format!(
                    "{c} IN (SELECT {} FROM {})",
                    match k {
                        Kind::Int => "buyer_id",
                        Kind::Num => "amount",
                        Kind::Text => "customer_id",
                        Kind::Time => "created_at",
                    },
                    if k == Kind::Int || k == Kind::Num || k == Kind::Time {
                        "orders"
                    } else {
                        "customers"
                    }
                )
            }
            9 if depth < 2 && s.has_orders.is_some() => {
                let o = s.has_orders.clone().unwrap_or_default();
                format!(
                    "{}EXISTS (SELECT 1 FROM payments p2 WHERE p2.order_id = {o}.id)",
                    if self.chance(0.4) { "NOT " } else { "" }
                )
            }
            10 if depth < 2 && s.has_orders.is_some() => {
                let o = s.has_orders.clone().unwrap_or_default();
                format!("{o}.amount > (SELECT avg(amount) FROM orders)")
            }
            _ => format!("{c} = {}", self.literal(k)),
        };
        if depth < 2 && self.chance(0.3) {
            let other = self.predicate(s, depth + 1);
            let op = *self.pick(&["AND", "OR"]);
            let not = if self.chance(0.15) { "NOT " } else { "" };
            format!("{not}({simple} {op} {other})")
        } else {
            simple
        }
    }

    fn aggregate(&mut self, s: &Source) -> String {
        let nums: Vec<String> = s
            .columns
            .iter()
            .filter(|(_, k)| matches!(k, Kind::Num | Kind::Int))
            .map(|(c, _)| c.clone())
            .collect();
        let n = self.pick(&nums).clone();
        let (any, _) = self.column(s);
        match self.rng.random_range(0..6) {
            0 => "count(*)".into(),
            1 => format!("sum({n})"),
            2 => format!("min({any})"),
            3 => format!("max({any})"),
            4 => format!("count(DISTINCT {any})"),
            _ => format!("round(avg({n}), 4)"),
        }
    }

    fn select(&mut self, depth: u32) -> String {
        let s = self.source(depth);
        let where_ = if self.chance(0.6) {
            format!(" WHERE {}", self.predicate(&s, depth))
        } else {
            String::new()
        };
        let (items, group, n_out) = match self.rng.random_range(0..10) {
            // Grouped aggregates.
            0..=3 => {
                let dims: Vec<String> = (0..self.rng.random_range(0..3))
                    .map(|_| self.column(&s).0)
                    .collect();
                let mut items = dims.clone();
                for _ in 0..self.rng.random_range(1..3) {
                    items.push(self.aggregate(&s));
                }
                let n = items.len();
                let mut group = if dims.is_empty() {
                    String::new()
                } else {
                    format!(" GROUP BY {}", dims.join(", "))
                };
                if !dims.is_empty() && self.chance(0.3) {
                    group.push_str(&format!(
                        " HAVING count(*) > {}",
                        self.rng.random_range(0..4)
                    ));
                }
                (items, group, n)
            }
            // Window functions.
            4 | 5 => {
                let (part, _) = self.column(&s);
                let nums: Vec<String> = s
                    .columns
                    .iter()
                    .filter(|(_, k)| *k == Kind::Num)
                    .map(|(c, _)| c.clone())
                    .collect();
                let w = if !nums.is_empty() && self.chance(0.5) {
                    format!("sum({}) OVER (PARTITION BY {part})", self.pick(&nums))
                } else {
                    format!("row_number() OVER (PARTITION BY {part} ORDER BY {})", s.key)
                };
                let items = vec![s.key.clone(), self.column(&s).0, w];
                (items, String::new(), 3)
            }
            // A correlated scalar subquery.
            6 if s.has_orders.is_some() && depth < 2 => {
                let o = s.has_orders.clone().unwrap_or_default();
                let items = vec![
                    s.key.clone(),
                    format!("(SELECT count(*) FROM payments p3 WHERE p3.order_id = {o}.id)"),
                ];
                (items, String::new(), 2)
            }
            // Plain columns.
            _ => {
                let mut items = vec![s.key.clone()];
                for _ in 0..self.rng.random_range(1..4) {
                    items.push(self.column(&s).0);
                }
                let n = items.len();
                (items, String::new(), n)
            }
        };
        let aliased: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{e} AS c{i}"))
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {}{where_}{group}",
            aliased.join(", "),
            s.from
        );
        if self.chance(0.3) {
            let order: Vec<String> = (1..=n_out).map(|i| i.to_string()).collect();
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                order.join(", "),
                self.rng.random_range(1..20)
            ));
        }
        sql
    }

    fn query(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => {
                // Set operation over one compatible column.
                let (t1, c1) = *self.pick(&[
                    ("orders", "customer_id"),
                    ("customers", "customer_id"),
                    ("payments", "customer_id"),
                    ("orders", "status"),
                ]);
                let (t2, c2) = *self.pick(&[
                    ("customers", "country"),
                    ("payments", "method"),
                    ("orders", "status"),
                    ("customers", "customer_id"),
                ]);
                let op = *self.pick(&["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]);
                format!("SELECT {c1} AS v FROM {t1} {op} SELECT {c2} AS v FROM {t2}")
            }
            1 => {
                // A CTE over a filtered table, queried again.
                let (name, cols) = *self.pick(TABLES);
                let base = Source {
                    from: format!("{name} b"),
                    columns: cols.iter().map(|(c, k)| (format!("b.{c}"), *k)).collect(),
                    key: "b.id".into(),
                    has_orders: None,
                };
                let pred = self.predicate(&base, 1);
                let (col, _) = *self.pick(cols);
                format!(
                    "WITH w AS (SELECT * FROM {name} b WHERE {pred}) SELECT {col}, count(*) AS n FROM w GROUP BY {col}"
                )
            }
            _ => self.select(0),
        }
    }
}

async fn run_generated(engine: Engine, default_cases: usize) {
    let cases: usize = std::env::var("BREADCRUMB_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let seed: u64 = std::env::var("BREADCRUMB_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261203);
    let Some((full, alone)) = two_databases(engine).await else {
        return;
    };
    let guard = full.guard().await;
    let before = full.fingerprint().await;
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let (mut refused, mut matched, mut failed, mut no_oracle) = (Vec::new(), 0, 0, 0);
    let mut sensitive = 0;
    let mut failures = Vec::new();
    for _ in 0..cases {
        let sql = g.query();
        match judge(&full, &alone, &guard, &sql).await {
            Ok(Verdict::Refused) => refused.push(sql),
            Ok(Verdict::Matched) => {
                matched += 1;
                // Would tenant B have shown without the guard? Then this case could have failed.
                let open = full.conn.run(&GuardedSql::unguarded(&sql), &limits()).await;
                let own = alone
                    .conn
                    .run(&GuardedSql::unguarded(&sql), &limits())
                    .await;
                if let (Ok(a), Ok(b)) = (open, own)
                    && a.rows != b.rows
                {
                    sensitive += 1;
                }
            }
            Ok(Verdict::FailedAlike) => failed += 1,
            Ok(Verdict::NoOracle) => no_oracle += 1,
            Err(why) => failures.push(why),
        }
    }
    eprintln!(
        "{engine:?} seed {seed}: {cases} generated, {matched} matched ({sensitive} of them would show tenant B unguarded), {failed} failed alike, {} refused, {no_oracle} without oracle",
        refused.len()
    );
    for r in refused.iter().take(5) {
        eprintln!("  refused: {r}: {:?}", guard.check(r).err());
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} generated queries failed the oracle (seed {seed}):\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        refused.len() * 100 <= cases,
        "the guard refused {} ordinary generated queries",
        refused.len()
    );
    assert!(
        matched * 10 >= cases * 8,
        "only {matched} of {cases} were compared"
    );
    assert!(
        sensitive * 3 >= matched,
        "only {sensitive} of {matched} generated queries would differ without the guard: the generator is too tame"
    );
    assert_eq!(before, full.fingerprint().await, "the database changed");
}

#[tokio::test]
async fn postgres_generated_queries_answer_as_on_the_tenant_alone() {
    run_generated(Engine::Postgres, 2000).await;
}

#[tokio::test]
async fn mariadb_generated_queries_answer_as_on_the_tenant_alone() {
    run_generated(Engine::Mysql, 1000).await;
}

#[tokio::test]
async fn sqlite_generated_queries_answer_as_on_the_tenant_alone() {
    run_generated(Engine::Sqlite, 1000).await;
}
