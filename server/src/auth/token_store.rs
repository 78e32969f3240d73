//! API tokens: created with their audit record, looked up by hash, revoked, listed.

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::evidence::TokenRow;

use crate::auth::tokens::{ApiCaller, Scope};

pub struct NewToken<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub hash: &'a [u8],
    pub scopes: &'a [Scope],
    pub created_by: &'a str,
    pub expires_at: Option<OffsetDateTime>,
}

/// Inserts a token; `Ok(None)` when the name is taken (the unique constraint answers).
pub async fn create(conn: &mut sqlx::PgConnection, t: &NewToken<'_>) -> sqlx::Result<Option<i64>> {
    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar!(
        "INSERT INTO api_tokens (name, prefix, secret_hash, scopes, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        t.name,
        t.prefix,
        t.hash,
        &scopes as _,
        t.created_by,
        t.expires_at,
    )
    .fetch_optional(conn)
    .await
}

/// Why a presented token opens nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Revoked,
    Expired,
}

/// The token with this hash, if it is usable now; its last use is recorded.
pub async fn authenticate(db: &PgPool, hash: &[u8]) -> sqlx::Result<Result<ApiCaller, Refusal>> {
    let row = sqlx::query!(
        "SELECT id, name, scopes, expires_at, revoked_at FROM api_tokens WHERE secret_hash = $1",
        hash,
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    if row.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if row
        .expires_at
        .is_some_and(|e| e <= OffsetDateTime::now_utc())
    {
        return Ok(Err(Refusal::Expired));
    }
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
        row.id,
    )
    .execute(db)
    .await?;
    Ok(Ok(ApiCaller {
        token_id: row.id,
        name: row.name,
        scopes: row.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
    }))
}

/// Revokes a token still active; returns its name, or None when there is none to revoke.
pub async fn revoke(
    conn: &mut sqlx::PgConnection,
    id: i64,
    by: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
         WHERE id = $1 AND revoked_at IS NULL RETURNING name",
        id,
        by,
    )
    .fetch_optional(conn)
    .await
}

struct Row {
    id: i64,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created_by: String,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
    revoked_by: Option<String>,
}

pub async fn list(db: &PgPool) -> sqlx::Result<Vec<TokenRow>> {
    let rows: Vec<Row> = sqlx::query_as!(
        Row,
        "SELECT id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at,
                revoked_at, revoked_by
         FROM api_tokens ORDER BY revoked_at IS NOT NULL, created_at DESC",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TokenRow {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
        })
        .collect())
}
