//! One conformance suite for every metadata store: in memory, SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use breadcrumb_core::model::*;
use breadcrumb_core::schema::{SourceSchema, TableSchema};
use breadcrumb_core::store::{MemoryStore, MetaStore, SqlStore};
use breadcrumb_core::{Error, ids};
use chrono::Utc;

fn source(partner: &str) -> StoredSource {
    let mut schema = SourceSchema::default();
    let mut t = TableSchema::default();
    t.columns.insert("id".into(), "integer".into());
    t.columns.insert("customer_id".into(), "text".into());
    schema.tables.insert("orders".into(), t);
    StoredSource {
        partner_id: partner.into(),
        connector: DatabaseConnector {
            source_id: ids::new_id("src"),
            database_type: DatabaseType::Postgres,
            host: "db".into(),
            port: 5432,
            database: "d".into(),
            username: "u".into(),
            source_name: Some("s".into()),
            status: "READY".into(),
            created_at: Utc::now(),
        },
        password_sealed: "v1.sealed".into(),
        schema,
    }
}

fn message(text: &str) -> Message {
    Message {
        text: text.into(),
        role: Role::User,
        visualization: None,
        message_id: ids::new_message_id(),
        created_at: Utc::now(),
        sql: Some("SELECT 1".into()),
        data: Some(QueryData {
            columns: vec![],
            rows: vec![vec![serde_json::json!(1)]],
            truncated: false,
        }),
        usage: Some(breadcrumb_core::llm::Usage {
            input_tokens: 3,
            output_tokens: 4,
        }),
    }
}

async fn conformance(store: Arc<dyn MetaStore>) {
    // partners and keys
    let p = Partner {
        partner_id: ids::new_id("partner"),
        name: "p".into(),
        created_at: Utc::now(),
    };
    store.insert_partner(&p).await.unwrap();
    store
        .insert_api_key(&p.partner_id, "hash1", "k")
        .await
        .unwrap();
    assert_eq!(
        store
            .partner_by_key_hash("hash1")
            .await
            .unwrap()
            .unwrap()
            .partner_id,
        p.partner_id
    );
    assert!(store.partner_by_key_hash("nope").await.unwrap().is_none());
    let listed = store.list_partners().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0].partner_id, &listed[0].name),
        (&p.partner_id, &p.name)
    );
    assert!(store.revoke_api_key("hash1").await.unwrap());
    assert!(store.partner_by_key_hash("hash1").await.unwrap().is_none());
    assert!(!store.revoke_api_key("hash1").await.unwrap());
    // settings
    store.put_setting("a", "1").await.unwrap();
    store.put_setting("a", "2").await.unwrap();
    assert_eq!(store.get_setting("a").await.unwrap().as_deref(), Some("2"));
    // sources are scoped by partner
    let s = source(&p.partner_id);
    store.insert_source(&s).await.unwrap();
    assert_eq!(
        store
            .get_source(&p.partner_id, &s.connector.source_id)
            .await
            .unwrap(),
        Some(s.clone())
    );
    assert!(
        store
            .get_source("partner_other", &s.connector.source_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.list_sources(&p.partner_id).await.unwrap().len(), 1);
    // a source's schema is read again as tables come and go
    let mut grown = s.schema.clone();
    grown
        .tables
        .insert("added_later".into(), Default::default());
    assert!(
        store
            .update_source_schema(&p.partner_id, &s.connector.source_id, &grown)
            .await
            .unwrap()
    );
    let back = store
        .get_source(&p.partner_id, &s.connector.source_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.schema, grown);
    assert!(
        !store
            .update_source_schema("partner_other", &s.connector.source_id, &grown)
            .await
            .unwrap(),
        "another partner's source is not touched"
    );
    store
        .update_source_schema(&p.partner_id, &s.connector.source_id, &s.schema)
        .await
        .unwrap();
    assert!(
        store
            .list_sources("partner_other")
            .await
            .unwrap()
            .is_empty()
    );
    // spaces
    let sp = Space {
        space_id: ids::new_id("space"),
        source_id: s.connector.source_id.clone(),
        name: "n".into(),
        partner_id: p.partner_id.clone(),
        customer_id: "cust_1".into(),
        filters: Some(serde_json::json!({"customer_id": "cust_1"})),
        created_at: Utc::now(),
    };
    store.insert_space(&sp).await.unwrap();
    assert_eq!(
        store.get_space(&p.partner_id, &sp.space_id).await.unwrap(),
        Some(sp.clone())
    );
    assert!(
        store
            .get_space("partner_other", &sp.space_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .delete_space("partner_other", &sp.space_id)
            .await
            .unwrap()
    );
    // users are unique per partner and email
    let u = User {
        user_id: ids::new_id("user"),
        partner_id: p.partner_id.clone(),
        email: "a@b.c".into(),
        name: "A".into(),
        created_at: Utc::now(),
    };
    let first = store.upsert_user(&u).await.unwrap();
    let again = store
        .upsert_user(&User {
            user_id: ids::new_id("user"),
            ..u.clone()
        })
        .await
        .unwrap();
    assert_eq!(first.user_id, again.user_id);
    // conversations and messages
    let c = Conversation {
        conversation_id: ids::new_id("conv"),
        partner_id: p.partner_id.clone(),
        user_id: Some(first.user_id.clone()),
        customer_id: Some("cust_1".into()),
        data_sources: vec![DataSourceRef {
            kind: DataSourceType::Space,
            id: sp.space_id.clone(),
            name: "n".into(),
        }],
        created_at: Utc::now(),
    };
    store.insert_conversation(&c).await.unwrap();
    assert!(matches!(
        store.insert_conversation(&c).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        store
            .get_conversation(&c.conversation_id)
            .await
            .unwrap()
            .unwrap()
            .data_sources,
        c.data_sources
    );
    let msgs: Vec<Message> = (0..25).map(|i| message(&format!("m{i}"))).collect();
    for m in &msgs {
        store.insert_message(&c.conversation_id, m).await.unwrap();
    }
    let page = store
        .list_messages(&c.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(page, msgs[..10]);
    let page = store
        .list_messages(&c.conversation_id, Some(&msgs[9].message_id), 100)
        .await
        .unwrap();
    assert_eq!(page, msgs[10..]);
    let newest = store.latest_messages(&c.conversation_id, 7).await.unwrap();
    assert_eq!(newest, msgs[18..], "the newest seven, oldest first");
    assert_eq!(
        store
            .get_message(&c.conversation_id, &msgs[3].message_id)
            .await
            .unwrap()
            .as_ref(),
        Some(&msgs[3])
    );
    assert!(
        store
            .get_message(&c.conversation_id, "msg_nope")
            .await
            .unwrap()
            .is_none()
    );
    // usage per customer, since a time
    let t0 = Utc::now() - chrono::Duration::days(40);
    for (i, (customer, at)) in [
        ("acme", Utc::now()),
        ("acme", Utc::now()),
        ("globex", Utc::now()),
        ("acme", t0),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .record_usage(&breadcrumb_core::store::UsageRecord {
                partner_id: p.partner_id.clone(),
                customer_id: customer.into(),
                message_id: format!("msg_usage_{i}"),
                usage: breadcrumb_core::llm::Usage {
                    input_tokens: 100,
                    output_tokens: 10,
                },
                at,
            })
            .await
            .unwrap();
    }
    let since = Utc::now() - chrono::Duration::days(1);
    let all = store.usage_since(&p.partner_id, None, since).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].0, "acme");
    assert_eq!((all[0].1.input_tokens, all[0].1.output_tokens), (200, 20));
    assert_eq!(all[1].1.total(), 110);
    let one = store
        .usage_since(&p.partner_id, Some("globex"), since)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(
        store
            .usage_since("partner_other", None, since)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .latest_messages(&c.conversation_id, 100)
            .await
            .unwrap(),
        msgs
    );
    assert_eq!(
        store
            .list_conversations(&p.partner_id, Some(&first.user_id))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .list_conversations(&p.partner_id, Some("user_other"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_conversation(&c.conversation_id).await.unwrap());
    assert!(
        store
            .get_conversation(&c.conversation_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_messages(&c.conversation_id, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // deleting a source
    assert!(
        store
            .delete_source(&p.partner_id, &s.connector.source_id)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_source(&p.partner_id, &s.connector.source_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn memory_store_conforms() {
    conformance(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = std::env::temp_dir().join(ids::new_id("bc"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/meta.db?mode=rwc", dir.display());
    conformance(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
    // Re-opening runs no migration twice and keeps the data.
    let again = SqlStore::connect(&url).await.unwrap();
    assert_eq!(
        breadcrumb_core::store::SettingStore::get_setting(&again, "a")
            .await
            .unwrap()
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn postgres_store_conforms() {
    let Some(url) = common::fresh_pg_database().await else {
        return;
    };
    conformance(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
    let again = SqlStore::connect(&url).await.unwrap();
    assert_eq!(
        breadcrumb_core::store::SettingStore::get_setting(&again, "a")
            .await
            .unwrap()
            .as_deref(),
        Some("2")
    );
}
