//! The read model: a generation is shared while nothing is written, and any write (even one
//! made with plain SQL behind the portal's back) starts a new one, so a page never shows data
//! older than the last commit.

use std::sync::Arc;

use crate::common::{settings, spawn_app};
use app::model::Role;
use audit_portal::readmodel::{ReadModel, data_version};
use sqlx::PgPool;

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_generation_lasts_until_the_next_commit(db: PgPool) {
    let model = ReadModel::default();
    // Transaction ids are shared by the whole Postgres cluster, where other tests write too: a
    // quiet moment is waited for, in which two views (with a read-only query between them)
    // must share one generation.
    let mut shared = None;
    for _ in 0..100 {
        let first = model.current(&db).await.unwrap();
        sqlx::query("SELECT count(*) FROM services")
            .execute(&db)
            .await
            .unwrap();
        let again = model.current(&db).await.unwrap();
        if Arc::ptr_eq(&first, &again) {
            shared = Some(first);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let first = shared.expect("nothing was written: two views share one generation");
    assert!(!data_version(&db).await.unwrap().is_empty());

    sqlx::query("INSERT INTO notify_rules (rule, enabled, changed_by) VALUES ('engine_down', false, 'test')")
        .execute(&db)
        .await
        .unwrap();
    let after = model.current(&db).await.unwrap();
    assert!(
        !Arc::ptr_eq(&first, &after),
        "a commit starts a new generation"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_page_shows_a_write_made_behind_the_portals_back(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    let (status, before) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert_eq!(phase_count(&before), "0");
    sqlx::query("INSERT INTO phases (number, title, created_by) VALUES ('PHASE-77', 'Written by SQL', 'sql')")
        .execute(&db)
        .await
        .unwrap();
    let (_, after) = app.get_text("/").await;
    assert_eq!(phase_count(&after), "1", "the dashboard follows the commit");
}

/// The figure of the dashboard's Phases card.
fn phase_count(page: &str) -> &str {
    let card = &page[page.find("id=\"phase-h\"").expect("the Phases card")..];
    let figure =
        &card[card.find("<p class=\"big\">").expect("its figure") + "<p class=\"big\">".len()..];
    &figure[..figure.find('<').unwrap()]
}
