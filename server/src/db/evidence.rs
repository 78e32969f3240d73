//! Measured category scores (Monitoring, Backup/DR, Change Control) as the worker publishes them.

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

/// One category's score from evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredCategory {
    pub category: String,
    /// Hundredths of a point.
    pub score: i32,
    pub formula: String,
    pub lines: Vec<String>,
    pub restore_unverified: bool,
    pub computed_at: OffsetDateTime,
}

/// Replaces the measured categories: those given are stored, every other one is removed (its
/// source is no longer configured, so it is assessed again).
pub async fn publish(db: &PgPool, measured: &[MeasuredCategory]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let names: Vec<&str> = measured.iter().map(|m| m.category.as_str()).collect();
    sqlx::query("DELETE FROM category_evidence WHERE category <> ALL($1)")
        .bind(&names)
        .execute(&mut *tx)
        .await?;
    for m in measured {
        sqlx::query(
            "INSERT INTO category_evidence (category, score, formula, lines, restore_unverified, computed_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (category) DO UPDATE SET score = $2, formula = $3, lines = $4,
                 restore_unverified = $5, computed_at = $6",
        )
        .bind(&m.category)
        .bind(m.score)
        .bind(&m.formula)
        .bind(Json(&m.lines))
        .bind(m.restore_unverified)
        .bind(m.computed_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn measured(db: &PgPool) -> sqlx::Result<Vec<MeasuredCategory>> {
    type Row = (String, i32, String, Json<Vec<String>>, bool, OffsetDateTime);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT category, score, formula, lines, restore_unverified, computed_at
         FROM category_evidence ORDER BY category",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(category, score, formula, lines, restore_unverified, computed_at)| MeasuredCategory {
                category,
                score,
                formula,
                lines: lines.0,
                restore_unverified,
                computed_at,
            },
        )
        .collect())
}
