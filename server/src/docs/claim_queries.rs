//! Queries for what people say about the docs: claims on a service's doc, their release, attestations, and the existence checks those forms make.

use crate::auth::SessionUser;
use sqlx::PgPool;
use time::Date;

/// Whether a current service has that key on that engine.
pub async fn service_exists(db: &PgPool, engine: &str, key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM services s JOIN engines e ON e.id = s.engine_id
                        WHERE e.name = $1 AND s.key = $2 AND s.removed_at IS NULL) AS "present!""#,
        engine,
        key,
    )
    .fetch_one(db)
    .await
}

/// Whether a doc of that path is in the folder now.
pub async fn doc_exists(db: &PgPool, path: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM docs WHERE path = $1 AND removed_at IS NULL) AS "present!""#,
        path,
    )
        .fetch_one(db)
        .await
}

pub struct NewClaim<'a> {
    pub engine: &'a str,
    pub key: &'a str,
    pub due: Option<Date>,
    pub note: &'a str,
}

/// Claims a service's doc; false when it is claimed already (the partial unique index on open
/// claims answers, so two people claiming at once cannot both win).
pub async fn claim(
    conn: &mut sqlx::PgConnection,
    c: &NewClaim<'_>,
    by: &SessionUser,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO doc_claims (engine, service_key, actor_subject, actor_name, due, note)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (engine, service_key) WHERE released_at IS NULL DO NOTHING",
        c.engine,
        c.key,
        &by.subject,
        by.display_name(),
        c.due,
        c.note,
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Releases the open claim on a service; returns what it was (by, due, note), or None.
pub async fn release(
    conn: &mut sqlx::PgConnection,
    engine: &str,
    key: &str,
    by: &SessionUser,
) -> sqlx::Result<Option<serde_json::Value>> {
    let released = sqlx::query!(
        "UPDATE doc_claims SET released_at = now(), released_by = $3
         WHERE engine = $1 AND service_key = $2 AND released_at IS NULL
         RETURNING actor_name, due, note",
        engine,
        key,
        by.display_name(),
    )
    .fetch_optional(conn)
    .await?;
    Ok(released.map(|claim| {
        serde_json::json!({
            "by": claim.actor_name,
            "due": claim.due.map(|d| d.to_string()),
            "note": claim.note,
        })
    }))
}

/// A person's word that a doc matches the running service.
pub async fn attest(
    conn: &mut sqlx::PgConnection,
    path: &str,
    note: &str,
    by: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO doc_attestations (path, actor_subject, actor_name, note) VALUES ($1, $2, $3, $4)",
        path,
        &by.subject,
        by.display_name(),
        note,
    )
    .execute(conn)
    .await?;
    Ok(())
}
