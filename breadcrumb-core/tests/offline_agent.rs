//! The offline agent answers the common analytical questions over a real SQLite database with
//! two customers, from inside one customer's space: counts, sums, averages, extremes, groupings,
//! top N, trends by day, week, month and year, simple conditions, follow-ups, listings, and a
//! helpful refusal. Every figure is checked against SQL written here by hand over that
//! customer's rows alone.

use std::sync::Arc;

use breadcrumb_core::agent::{Agent, AgentReply, AgentRequest, DataScope, OfflineAgent};
use breadcrumb_core::connector::{Connector, QueryLimits, SqliteConnector};
use breadcrumb_core::filters::Filters;
use breadcrumb_core::guard::SpaceGuard;
use breadcrumb_core::model::{DataSourceRef, DataSourceType, Message, Role};
use serde_json::{Value, json};
use sqlx::{Connection, Row, SqliteConnection, ValueRef};

struct Shop {
    dir: std::path::PathBuf,
    scope: DataScope,
}

impl Shop {
    async fn open() -> Shop {
        let dir =
            std::env::temp_dir().join(format!("bc_offline_{}", breadcrumb_core::ids::new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
        let mut c = SqliteConnection::connect(&url).await.unwrap();
        let mut ddl = vec![
            "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, product TEXT NOT NULL, status TEXT NOT NULL, quantity INTEGER NOT NULL, amount REAL NOT NULL, ordered_at TIMESTAMP NOT NULL)".to_string(),
        ];
        for i in 0..120 {
            let (customer, amount) = if i % 3 == 0 {
                ("rival", 9000.0 + f64::from(i))
            } else {
                ("acme", 10.0 + f64::from(i * 7 % 90))
            };
            let product = ["Widget", "Gizmo", "Cloud plan", "Support"][i as usize % 4];
            let status =
                ["shipped", "pending", "cancelled"][i as usize % 3 % 2 + (i as usize / 60)];
            ddl.push(format!(
                "INSERT INTO orders VALUES ({i}, '{customer}', '{product}', '{status}', {}, {amount}, '{}-{:02}-{:02} 10:00:00')",
                1 + i % 4,
                2025 + i % 2,
                1 + i % 12,
                1 + i % 27
            ));
        }
        for s in &ddl {
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                .execute(&mut c)
                .await
                .unwrap();
        }
        let connector = Arc::new(SqliteConnector::open(&dir, "shop.db").await.unwrap());
        let schema = connector.schema().await.unwrap();
        let filters = Filters::parse(Some(&json!({"customer_id": "acme"}))).unwrap();
        let guard = SpaceGuard::new(connector.dialect(), &schema, &filters, None).unwrap();
        let scope = DataScope::new(
            DataSourceRef {
                kind: DataSourceType::Space,
                id: "space_acme".into(),
                name: "Acme".into(),
            },
            Arc::new(guard),
            connector,
            QueryLimits::default(),
        );
        Shop { dir, scope }
    }

    /// Rows of hand-written SQL over acme's rows alone, as JSON.
    async fn truth(&self, sql: &str) -> Vec<Vec<Value>> {
        let url = format!("sqlite://{}", self.dir.join("shop.db").display());
        let mut c = SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut c)
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        if r.try_get_raw(i).is_ok_and(|v| v.is_null()) {
                            return Value::Null;
                        }
                        r.try_get::<i64, _>(i)
                            .map(Value::from)
                            .or_else(|_| r.try_get::<f64, _>(i).map(Value::from))
                            .or_else(|_| r.try_get::<String, _>(i).map(Value::from))
                            .unwrap_or(Value::Null)
                    })
                    .collect()
            })
            .collect()
    }

    /// Asks, and checks the rows against hand-written SQL over acme's rows.
    async fn ask_expecting(&self, question: &str, history: &[Message], truth: &str) -> AgentReply {
        let r = self.ask(question, history).await;
        assert!(
            same(&rows(&r), &self.truth(truth).await),
            "{question}: {:?} (sql {:?})",
            rows(&r),
            r.sql
        );
        r
    }

    async fn ask(&self, question: &str, history: &[Message]) -> AgentReply {
        OfflineAgent
            .answer(AgentRequest {
                question,
                history,
                scopes: std::slice::from_ref(&self.scope),
                events: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{question}: {e}"))
    }
}

fn rows(r: &AgentReply) -> Vec<Vec<Value>> {
    r.data.as_ref().map(|d| d.rows.clone()).unwrap_or_default()
}

/// Numbers compared to the cent (SQLite sums floats in its own order).
fn same(a: &[Vec<Value>], b: &[Vec<Value>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| match (p.as_f64(), q.as_f64()) {
                        (Some(p), Some(q)) => (p - q).abs() < 0.01,
                        _ => p == q,
                    })
        })
}

fn user(text: &str) -> Message {
    Message {
        text: text.into(),
        role: Role::User,
        visualization: None,
        message_id: "msg_1".into(),
        created_at: chrono::Utc::now(),
        sql: None,
        data: None,
        usage: None,
    }
}

const ACME: &str = "FROM orders WHERE customer_id = 'acme'";

#[tokio::test]
async fn counts_sums_averages_and_extremes_match_hand_written_sql() {
    let shop = Shop::open().await;
    for (question, truth) in [
        (
            "How many orders are there?",
            format!("SELECT count(*) {ACME}"),
        ),
        (
            "Total amount of orders",
            format!("SELECT sum(amount) {ACME}"),
        ),
        (
            "What is the average amount?",
            format!("SELECT avg(amount) {ACME}"),
        ),
        (
            "Highest amount of an order",
            format!("SELECT max(amount) {ACME}"),
        ),
        ("lowest amount", format!("SELECT min(amount) {ACME}")),
        (
            "What was our revenue?",
            format!("SELECT sum(amount) {ACME}"),
        ),
        ("total quantity", format!("SELECT sum(quantity) {ACME}")),
    ] {
        let r = shop.ask_expecting(question, &[], &truth).await;
        assert!(r.visualization.is_none(), "{question}: one value, no chart");
        assert!(!r.text.contains("9000"), "{question}: {}", r.text);
    }
}

#[tokio::test]
async fn groupings_top_n_and_conditions_match_hand_written_sql() {
    let shop = Shop::open().await;
    for (question, truth) in [
        (
            "Average amount by status",
            format!("SELECT status, avg(amount) AS a {ACME} GROUP BY status ORDER BY a DESC"),
        ),
        (
            "Top 3 products by revenue",
            format!(
                "SELECT product, sum(amount) AS s {ACME} GROUP BY product ORDER BY s DESC LIMIT 3"
            ),
        ),
        (
            "number of orders per product",
            format!("SELECT product, count(*) AS n {ACME} GROUP BY product ORDER BY n DESC"),
        ),
        (
            "How many orders where status is shipped?",
            format!("SELECT count(*) {ACME} AND status = 'shipped'"),
        ),
        (
            "total amount of orders with amount over 50",
            format!("SELECT sum(amount) {ACME} AND amount > 50"),
        ),
    ] {
        shop.ask_expecting(question, &[], &truth).await;
    }
    let by_status = shop.ask("Average amount by status", &[]).await;
    let chart: Value = serde_json::from_str(by_status.visualization.as_deref().unwrap()).unwrap();
    assert_eq!(chart["mark"], "bar", "category and measure: a bar chart");
    let columns = &by_status.data.as_ref().unwrap().columns;
    let types: Vec<&str> = columns.iter().map(|c| c.data_type.as_str()).collect();
    assert_eq!(
        types,
        ["text", "real"],
        "computed columns are typed by their values"
    );
}

#[tokio::test]
async fn trends_by_day_week_month_and_year_are_lines() {
    let shop = Shop::open().await;
    for (question, bucket) in [
        ("Orders by month", "strftime('%Y-%m-01', ordered_at)"),
        ("total amount by year", "strftime('%Y-01-01', ordered_at)"),
        ("orders by day", "date(ordered_at)"),
        ("weekly amount", "date(ordered_at, 'weekday 0', '-6 days')"),
    ] {
        let agg = if question.contains("amount") {
            "sum(amount)"
        } else {
            "count(*)"
        };
        let truth = format!("SELECT {bucket} AS b, {agg} {ACME} GROUP BY b ORDER BY b");
        let r = shop.ask_expecting(question, &[], &truth).await;
        let chart: Value = serde_json::from_str(
            r.visualization
                .as_deref()
                .unwrap_or_else(|| panic!("{question}: no chart for {:?}", r.data)),
        )
        .unwrap();
        assert_eq!(
            chart["mark"]["type"], "line",
            "{question}: time and measure"
        );
    }
}

#[tokio::test]
async fn a_follow_up_leans_on_the_previous_question_and_its_grouping_wins() {
    let shop = Shop::open().await;
    let history = [user("Total amount of orders by status")];
    let by_month = format!(
        "SELECT strftime('%Y-%m-01', ordered_at) AS b, sum(amount) {ACME} GROUP BY b ORDER BY b"
    );
    shop.ask_expecting("and by month?", &history, &by_month)
        .await;
    let by_product =
        format!("SELECT product, sum(amount) AS s {ACME} GROUP BY product ORDER BY s DESC");
    shop.ask_expecting("what about per product?", &history, &by_product)
        .await;
}

#[tokio::test]
async fn a_question_it_cannot_match_is_said_so_with_suggestions() {
    let shop = Shop::open().await;
    let history = [user("Average amount by status")];
    for question in ["What is the weather in Paris?", "tell me a joke"] {
        let r = shop.ask(question, &history).await;
        assert!(r.sql.is_none(), "{question}: ran {:?}", r.sql);
        assert!(r.text.contains("could not match"), "{question}: {}", r.text);
        assert!(r.text.contains("How many orders"), "suggests: {}", r.text);
    }
}

#[tokio::test]
async fn a_listing_shows_the_newest_rows_of_the_space_only() {
    let shop = Shop::open().await;
    let r = shop.ask("Show the latest 5 orders", &[]).await;
    let truth = shop
        .truth(&format!("SELECT * {ACME} ORDER BY ordered_at DESC LIMIT 5"))
        .await;
    assert!(same(&rows(&r), &truth), "{:?} {:?}", rows(&r), r.sql);
    assert!(r.visualization.is_none(), "rows are a table, not a chart");
    assert!(r.text.starts_with("Here are 5 orders"), "{}", r.text);
    let all = shop.ask("list orders", &[]).await;
    assert_eq!(rows(&all).len(), 20, "a listing is capped at 20 by default");
    assert!(
        rows(&all).iter().all(|row| row[1] == "acme"),
        "only the space's rows"
    );
}

#[tokio::test]
async fn values_periods_and_rankings_named_in_words_match_hand_written_sql() {
    let shop = Shop::open().await;
    for (question, truth) in [
        (
            "How many cancelled orders are there?",
            format!("SELECT count(*) {ACME} AND status = 'cancelled'"),
        ),
        (
            "total amount of Cloud plan orders",
            format!("SELECT sum(amount) {ACME} AND product = 'Cloud plan'"),
        ),
        (
            "how many widgets were ordered",
            format!("SELECT count(*) {ACME} AND product = 'Widget'"),
        ),
        (
            "How many orders in 2025?",
            format!(
                "SELECT count(*) {ACME} AND ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01'"
            ),
        ),
        (
            "revenue in february 2026",
            format!(
                "SELECT sum(amount) {ACME} AND ordered_at >= '2026-02-01' AND ordered_at < '2026-03-01'"
            ),
        ),
        (
            "Which product sells the most?",
            format!(
                "SELECT product, sum(amount) AS s {ACME} GROUP BY product ORDER BY s DESC LIMIT 1"
            ),
        ),
        (
            "Which status has the most orders?",
            format!("SELECT status, count(*) AS n {ACME} GROUP BY status ORDER BY n DESC LIMIT 1"),
        ),
        (
            "average quantity per order",
            format!("SELECT avg(quantity) {ACME}"),
        ),
    ] {
        shop.ask_expecting(question, &[], &truth).await;
    }
    let r = shop.ask("total amount by country", &[]).await;
    assert!(
        r.text.contains("could not group it by country"),
        "says what it could not do: {}",
        r.text
    );
}
