//! The automatic checks against the live inventory, run by the worker after each refresh: an
//! item's status changes, with the fact behind it, only when what the inventory proves changes.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::types::Json;

use app::model::ServiceFacts;
use app::model::docs::DocStatus;
use app::model::rollouts::ItemStatus;

use super::checks::{self, Check, Chosen, Context, LiveService};
use crate::rollouts::item_queries::{ItemEvent, ItemRow};

/// Every non-removed service on a configured engine, marked stale when its engine has not
/// answered within `stale_after`.
async fn live_services(pool: &PgPool, stale_after: Duration) -> sqlx::Result<Vec<LiveService>> {
    let rows = sqlx::query!(
        r#"SELECT e.name AS engine, s.key, s.facts AS "facts: Json<ServiceFacts>",
                (NOT e.reachable OR e.last_success_at IS NULL
                 OR e.last_success_at < now() - make_interval(secs => $1)) AS "stale!",
                s.findings AS "findings: Json<Vec<app::model::Finding>>",
                EXISTS (SELECT 1 FROM routes r JOIN probe_results p ON p.url = r.url
                        WHERE r.service_id = s.id AND p.ok) AS "route_probed_ok!"
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured ORDER BY e.name, s.key"#,
        stale_after.as_secs_f64(),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LiveService {
            engine: r.engine,
            key: r.key,
            facts: r.facts.0,
            stale: r.stale,
            findings: r.findings.0.iter().map(|f| f.kind).collect(),
            route_probed_ok: r.route_probed_ok,
        })
        .collect())
}

/// Runs every rollout's automatic checks; returns how many items changed.
pub async fn check_all(
    pool: &PgPool,
    docs: &[DocStatus],
    stale_after: Duration,
    backup_jobs: &[crate::evidence::backups::EffectiveJob],
) -> sqlx::Result<usize> {
    let items = crate::rollouts::item_queries::auto_items(pool).await?;
    if items.is_empty() {
        return Ok(0);
    }
    let services = live_services(pool, stale_after).await?;
    let mut changed = 0;
    let mut rollout_items: Vec<&ItemRow> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        rollout_items.push(item);
        let last_of_rollout = items
            .get(index + 1)
            .is_none_or(|next| next.rollout_id != item.rollout_id);
        if last_of_rollout {
            changed += check_rollout(
                pool,
                item.rollout_id,
                &rollout_items,
                &services,
                docs,
                backup_jobs,
            )
            .await?;
            rollout_items.clear();
        }
    }
    crate::rollouts::item_queries::mark_checked(pool).await?;
    Ok(changed)
}

async fn check_rollout(
    pool: &PgPool,
    rollout: i64,
    items: &[&ItemRow],
    services: &[LiveService],
    docs: &[DocStatus],
    backup_jobs: &[crate::evidence::backups::EffectiveJob],
) -> sqlx::Result<usize> {
    let (decision, target) = tokio::try_join!(
        crate::rollouts::queries::decision(pool, rollout),
        crate::rollouts::queries::check_target(pool, rollout),
    )?;
    let Some((host, allowlist)) = target else {
        return Ok(0);
    };
    let chosen = decision.map(|d| Chosen {
        decided: format!(
            "{} chosen by {} on {}.",
            d.candidate,
            d.actor_name,
            d.at.date()
        ),
        name: d.candidate,
        service_match: d.service_match,
    });
    let cx = Context {
        chosen: chosen.as_ref(),
        host: &host,
        allowlist_middleware: allowlist.as_deref(),
        services,
        docs,
        backup_jobs,
    };
    let mut changed = 0;
    let mut tx = pool.begin().await?;
    for item in items {
        let Some(check) = item.auto_check.as_deref().and_then(Check::parse) else {
            continue;
        };
        let outcome = checks::run(check, &cx);
        let status = if outcome.verified {
            ItemStatus::Verified
        } else {
            ItemStatus::Todo
        };
        let unchanged = item.portal_status.as_deref() == Some(status.as_str())
            && item.portal_fact.as_deref() == Some(outcome.fact.as_str());
        if unchanged {
            continue;
        }
        if item.status == ItemStatus::Verified || outcome.verified {
            tracing::info!(item = %item.title, status = status.as_str(), fact = %outcome.fact, "rollout check changed");
        }
        crate::rollouts::item_queries::add_item_event(
            &mut *tx,
            &ItemEvent {
                item: item.id,
                status,
                source: "portal",
                owner: item.owner.as_deref(),
                due_on: item.due_on,
                note: &outcome.fact,
                link: None,
                actor: "portal",
            },
        )
        .await?;
        changed += 1;
    }
    tx.commit().await?;
    Ok(changed)
}
