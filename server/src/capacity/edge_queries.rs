//! Queries for the dependency edges between services, as the latest refresh stored them.

use app::model::capacity::DependencyLink;
use sqlx::PgPool;

/// One end of an edge, as the pages name it.
struct EdgeRow {
    from_engine: String,
    from_key: String,
    from_name: String,
    from_state: String,
    from_health: Option<String>,
    to_engine: String,
    to_key: String,
    to_name: String,
    to_state: String,
    to_health: Option<String>,
    via: Vec<String>,
}

/// A dependency edge with both ends, as stored at the latest refresh.
#[derive(Clone, Debug)]
pub struct StoredEdge {
    pub from: DependencyLink,
    pub from_health: Option<String>,
    pub to: DependencyLink,
    pub to_health: Option<String>,
}

fn stored(r: EdgeRow) -> StoredEdge {
    StoredEdge {
        from: DependencyLink {
            engine: r.from_engine,
            key: r.from_key,
            name: r.from_name,
            state: r.from_state,
            via: r.via.clone(),
        },
        from_health: r.from_health,
        to: DependencyLink {
            engine: r.to_engine,
            key: r.to_key,
            name: r.to_name,
            state: r.to_state,
            via: r.via,
        },
        to_health: r.to_health,
    }
}

/// The edges of one engine, or those of it that touch one service (either end).
async fn edges(db: &PgPool, engine: &str, service: Option<&str>) -> sqlx::Result<Vec<StoredEdge>> {
    let rows = sqlx::query_as!(
        EdgeRow,
        r#"SELECT fe.name AS from_engine, f.key AS from_key, f.display_name AS from_name,
                f.state AS from_state, f.health AS "from_health?",
                te.name AS to_engine, t.key AS to_key, t.display_name AS to_name,
                t.state AS to_state, t.health AS "to_health?", d.via
         FROM service_dependencies d
         JOIN services f ON f.id = d.from_service JOIN engines fe ON fe.id = f.engine_id
         JOIN services t ON t.id = d.to_service JOIN engines te ON te.id = t.engine_id
         WHERE f.removed_at IS NULL AND t.removed_at IS NULL AND fe.name = $1
           AND ($2::text IS NULL OR f.key = $2 OR t.key = $2)
         ORDER BY f.display_name, t.display_name"#,
        engine,
        service,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(stored).collect())
}

/// Every edge of one engine.
pub async fn engine_edges(db: &PgPool, engine: &str) -> sqlx::Result<Vec<StoredEdge>> {
    edges(db, engine, None).await
}

/// The edges that touch one service, either end.
pub async fn service_edges(db: &PgPool, engine: &str, key: &str) -> sqlx::Result<Vec<StoredEdge>> {
    edges(db, engine, Some(key)).await
}
