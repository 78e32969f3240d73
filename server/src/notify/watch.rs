//! The worker's step after each refresh: evaluate the rules that are on, open a condition (and
//! queue one message per channel) for each that started, close those that stopped. Runs only
//! when a channel is configured.

use std::collections::HashSet;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::notify::{Mode, Rule, RuleSetting};

use super::conditions::{self, Condition, Facts, GradeNow};
use super::delivery_queries::{self, NewDelivery};
use super::queries;
use crate::config::Settings;
use crate::phases::live::Graded;

/// What one step changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Watched {
    pub opened: usize,
    pub closed: usize,
    pub queued: usize,
}

/// Reads only what a rule that is on needs: a query not awaited never runs.
async fn when<T>(
    needed: bool,
    read: impl Future<Output = sqlx::Result<Vec<T>>>,
) -> sqlx::Result<Vec<T>> {
    if needed { read.await } else { Ok(vec![]) }
}

async fn facts(
    db: &PgPool,
    settings: &Settings,
    rules: &[RuleSetting],
    graded: Option<&Graded>,
) -> sqlx::Result<Facts> {
    let on = |r: Rule| rules.iter().any(|s| s.rule == r && s.enabled);
    let stale_after = crate::worker::stale_after(settings);
    let services = when(
        on(Rule::HighFinding) || on(Rule::BackupLate),
        crate::inventory::services::summaries(db, stale_after),
    );
    let open_actions = when(on(Rule::FindingOpen), queries::open_actions(db));
    let engines = when(
        on(Rule::EngineDown),
        crate::inventory::engines::statuses(db, stale_after),
    );
    let phases = when(
        on(Rule::PhaseAwaitingSignoff),
        crate::phases::queries::summaries(db),
    );
    let fallen = when(on(Rule::RolloutFellBack), queries::fallen_items(db));
    let routes = when(on(Rule::CertExpiring), crate::edge::queries::list(db, None));
    let (services, open_actions, engines, phases, fallen, routes) =
        tokio::try_join!(services, open_actions, engines, phases, fallen, routes)?;
    Ok(Facts {
        services,
        open_actions,
        grade: graded.map(|(_, _, g)| GradeNow {
            letter: g.letter.clone(),
            total: g.total.shown(),
            cap: g.cap.clone(),
        }),
        engines,
        phases,
        fallen,
        routes,
    })
}

pub async fn run(
    db: &PgPool,
    settings: &Settings,
    graded: Option<&Graded>,
    now: OffsetDateTime,
) -> sqlx::Result<Watched> {
    let channels = &settings.notify.channels;
    if channels.is_empty() {
        return Ok(Watched::default());
    }
    let rules = queries::rules(db).await?;
    let (facts, modes) = tokio::try_join!(facts(db, settings, &rules, graded), queries::modes(db))?;
    let mut seen = HashSet::new();
    let found: Vec<Condition> = conditions::evaluate(&facts, &rules, now)
        .into_iter()
        .filter(|c| seen.insert((c.rule, c.key.clone())))
        .collect();
    // Without a grade this time, the grade's conditions are unknown, not gone.
    let unknown: Vec<Rule> = if graded.is_none() {
        vec![Rule::LetterChanged, Rule::CapBinding]
    } else {
        vec![]
    };
    let mut watched = Watched::default();
    let mut tx = db.begin().await?;
    let open = queries::open_conditions(&mut tx).await?;
    let is_open = |c: &Condition| {
        open.iter()
            .any(|(_, rule, key)| rule == c.rule.slug() && *key == c.key)
    };
    for mut c in found.iter().filter(|c| !is_open(c)).cloned() {
        // The letter's first sighting is where the portal starts watching, not a change.
        let silent =
            c.rule == Rule::LetterChanged && !queries::rule_seen_before(&mut tx, c.rule).await?;
        if c.rule == Rule::LetterChanged
            && let Some((_, _, before)) = open.iter().find(|(_, r, _)| r == c.rule.slug())
        {
            c.title = format!("The grade's letter changed from {before} to {}", c.key);
        }
        let id = queries::open_condition(&mut tx, &c).await?;
        watched.opened += 1;
        if silent {
            continue;
        }
        for channel in channels {
            let held = modes.get(&channel.name) == Some(&Mode::Digest);
            delivery_queries::queue(
                &mut tx,
                &NewDelivery {
                    channel: &channel.name,
                    kind: "event",
                    condition_id: Some(id),
                    title: &c.title,
                    body: &c.body,
                    severity: c.level.as_str(),
                    link: c.link.as_deref(),
                    state: if held { "held" } else { "pending" },
                    requested_by: None,
                },
            )
            .await?;
            watched.queued += 1;
        }
    }
    let stopped: Vec<i64> = open
        .iter()
        .filter(|(_, rule, key)| {
            !unknown.iter().any(|u| u.slug() == rule)
                && !found.iter().any(|c| c.rule.slug() == rule && c.key == *key)
        })
        .map(|(id, _, _)| *id)
        .collect();
    queries::close_conditions(&mut tx, &stopped).await?;
    watched.closed = stopped.len();
    tx.commit().await?;
    Ok(watched)
}
