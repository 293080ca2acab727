//! The demo: a small shop in a SQLite file, registered as a source with one space per customer.

use std::path::Path;

use breadcrumb_core::model::{CreateSource, CreateSpace};
use breadcrumb_core::{Breadcrumb, Principal};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

pub const DEMO_FILE: &str = "demo.db";
pub const DEMO_SOURCE: &str = "Demo shop";
pub const CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("acme", "Acme Corp", "US", "enterprise"),
    ("globex", "Globex", "DE", "pro"),
    ("initech", "Initech", "GB", "starter"),
];
const PRODUCTS: &[(&str, &str, f64)] = &[
    ("Widget", "hardware", 19.5),
    ("Gadget", "hardware", 34.0),
    ("Gizmo", "hardware", 12.25),
    ("Cloud plan", "software", 49.0),
    ("Support hours", "services", 90.0),
    ("Training", "services", 250.0),
];
const STATUSES: &[&str] = &[
    "delivered",
    "delivered",
    "delivered",
    "shipped",
    "pending",
    "cancelled",
];

/// Writes the demo database if it is not there yet. Deterministic: the same rows every time.
pub async fn ensure_database(data_dir: &Path) -> Result<(), String> {
    let path = data_dir.join(DEMO_FILE);
    if path.exists() {
        return Ok(());
    }
    let tmp = data_dir.join("demo.db.tmp");
    let _ = std::fs::remove_file(&tmp);
    let opts = SqliteConnectOptions::new()
        .filename(&tmp)
        .create_if_missing(true);
    let mut c = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| e.to_string())?;
    let mut sql = String::from(
        "BEGIN;
         CREATE TABLE customers (customer_id TEXT NOT NULL, name TEXT NOT NULL, country TEXT, plan TEXT, signed_up_at DATE);
         CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, product TEXT NOT NULL, category TEXT NOT NULL,
                              status TEXT NOT NULL, quantity INTEGER NOT NULL, amount REAL NOT NULL, ordered_at TIMESTAMP NOT NULL);
         CREATE TABLE products (product TEXT NOT NULL, category TEXT NOT NULL, list_price REAL NOT NULL);\n",
    );
    for (id, name, country, plan) in CUSTOMERS {
        sql.push_str(&format!("INSERT INTO customers VALUES ('{id}', '{name}', '{country}', '{plan}', '2025-0{}-15');\n", 1 + id.len() % 9));
    }
    for (p, c, price) in PRODUCTS {
        sql.push_str(&format!(
            "INSERT INTO products VALUES ('{p}', '{c}', {price});\n"
        ));
    }
    let mut seed: u64 = 42;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 1..=900u64 {
        let customer = CUSTOMERS[next(CUSTOMERS.len() as u64) as usize].0;
        let (product, category, price) = PRODUCTS[next(PRODUCTS.len() as u64) as usize];
        let qty = 1 + next(5);
        let day = next(334);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
            + chrono::Days::new(day);
        let status = STATUSES[next(STATUSES.len() as u64) as usize];
        sql.push_str(&format!(
            "INSERT INTO orders VALUES ({i}, '{customer}', '{product}', '{category}', '{status}', {qty}, {:.2}, '{date} {:02}:{:02}:00');\n",
            price * qty as f64,
            8 + next(10),
            next(60)
        ));
    }
    sql.push_str("COMMIT;");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    c.close().await.map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
    Ok(())
}

/// Registers the demo source and a space per customer for this partner, once.
pub async fn ensure_registered(service: &Breadcrumb, partner: &Principal) -> Result<(), String> {
    let e = |e: breadcrumb_core::Error| e.to_string();
    let sources = service.list_sources(partner).await.map_err(e)?;
    if sources
        .iter()
        .any(|s| s.source_name.as_deref() == Some(DEMO_SOURCE))
    {
        return Ok(());
    }
    let source = service
        .create_source(
            partner,
            CreateSource {
                database_type: "sqlite".into(),
                host: "localhost".into(),
                port: 1,
                database: DEMO_FILE.into(),
                username: "demo".into(),
                password: String::new(),
                source_name: Some(DEMO_SOURCE.into()),
            },
        )
        .await
        .map_err(e)?;
    for (id, name, _, _) in CUSTOMERS {
        service
            .create_space(
                partner,
                CreateSpace {
                    source_id: source.source_id.clone(),
                    name: format!("{name} analytics"),
                    customer_id: (*id).into(),
                    filters: Some(serde_json::json!({ "customer_id": id })),
                },
            )
            .await
            .map_err(e)?;
    }
    Ok(())
}
