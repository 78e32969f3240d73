//! The read model: a generation is shared while nothing is written, and any write (even one
//! made with plain SQL behind the portal's back) starts a new one: counted from the tables'
//! announcements while the channel is followed, from Postgres's snapshot when it is not.

use std::sync::Arc;

use crate::common::{settings, spawn_app};
use app::model::Role;
use audit_portal::readmodel::ReadModel;
use audit_portal::readmodel::version::{self, snapshot};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn without_the_channel_a_generation_lasts_until_the_next_commit(db: PgPool) {
    let model = ReadModel::default();
    assert!(!model.changes.following());
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
    assert!(!snapshot(&db).await.unwrap().is_empty());

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
async fn following_the_channel_a_view_needs_no_query_and_hears_every_writer(db: PgPool) {
    let model = ReadModel::default();
    let stop = CancellationToken::new();
    tokio::spawn(version::follow(
        db.clone(),
        model.changes.clone(),
        stop.clone(),
    ));
    for _ in 0..500 {
        if model.changes.following() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(model.changes.following(), "the channel is followed");
    // Announcements are per database: other tests' writes elsewhere in the cluster do not
    // count, so two views with reads between them share one generation at once.
    let first = model.current(&db).await.unwrap();
    sqlx::query("SELECT count(*) FROM services")
        .execute(&db)
        .await
        .unwrap();
    model.changes.caught_up(&db).await.unwrap();
    assert!(Arc::ptr_eq(&first, &model.current(&db).await.unwrap()));

    // A write through another connection, a rolled-back one, then a committed one.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("INSERT INTO notify_rules (rule, enabled, changed_by) VALUES ('engine_down', false, 'test')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    model.changes.caught_up(&db).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &model.current(&db).await.unwrap()),
        "a rollback announces nothing"
    );
    sqlx::query("INSERT INTO notify_rules (rule, enabled, changed_by) VALUES ('engine_down', false, 'test')")
        .execute(&db)
        .await
        .unwrap();
    model.changes.caught_up(&db).await.unwrap();
    assert!(
        !Arc::ptr_eq(&first, &model.current(&db).await.unwrap()),
        "a commit starts a new generation"
    );
    stop.cancel();
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_table_announces_its_changes(db: PgPool) {
    let silent: Vec<String> = sqlx::query_scalar(
        "SELECT t.tablename::text FROM pg_tables t
         WHERE t.schemaname = current_schema() AND t.tablename <> '_sqlx_migrations'
           AND NOT EXISTS (
             SELECT 1 FROM pg_trigger g
             WHERE g.tgrelid = format('%I.%I', t.schemaname, t.tablename)::regclass
               AND g.tgname = 'announce_data_change')
         ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(
        silent.is_empty(),
        "tables without the announce_data_change trigger (add it in their migration): {silent:?}"
    );
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(tables > 20, "the schema's tables were listed ({tables})");
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
