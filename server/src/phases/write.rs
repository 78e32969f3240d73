//! Writing an imported plan: the one service function behind the import form, the upload and
//! `audit-portal import-phase`, so the three cannot drift apart.

use sqlx::PgPool;

use super::import::PlanDraft;
use crate::audited::{self, Change};
use crate::auth::SessionUser;
use crate::config::Settings;
use crate::phases::queries::NewPhase;

/// The outcome of writing an imported plan.
#[derive(Debug)]
pub enum Imported {
    Created { id: i64, number: String },
    Refused(String),
}

/// Why the write stopped: a refusal to show the person, or the database.
enum Stop {
    Taken,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        // The unique constraint on the number answers "exists already", even for two imports
        // of the same number at once, where a check before the insert could not.
        match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("phases_number_key") => Stop::Taken,
            _ => Stop::Database(e),
        }
    }
}

/// Writes the phase, binds the items whose words promise a live check, appends the audit record
/// (all in one transaction), then gives those checks their verdict at once rather than at the
/// next refresh.
pub async fn import_plan(
    db: &PgPool,
    settings: &Settings,
    draft: &PlanDraft,
    number: Option<String>,
    source: &str,
    actor: &SessionUser,
) -> sqlx::Result<Imported> {
    let Some(number) = number else {
        return Ok(Imported::Refused(
            "The plan states no phase number: give one in the field below (e.g. PHASE-03).".into(),
        ));
    };
    let after = serde_json::json!({
        "title": draft.title, "items": draft.items.len(),
        "checked": draft.items.iter().filter(|i| i.checked).count(),
        "notes": draft.notes,
    });
    let change = Change::<(), _> {
        actor,
        action: "phase.import",
        target: &number,
        before: None,
        after: Some(after),
    };
    let written = audited::write(db, change, async |conn| -> Result<i64, Stop> {
        let id = crate::phases::queries::create(
            conn,
            &NewPhase {
                number: &number,
                title: &draft.title,
                starts_on: draft.starts_on,
                due_on: draft.due_on,
                target_grade: draft.target_grade,
                claimed_grade: draft.claimed_grade,
                objectives: &draft.objectives,
                criteria: &draft.criteria,
                source: Some(source),
                notes: &draft.notes,
                items: &draft.items,
            },
            actor,
        )
        .await?;
        let ids = crate::phases::signoff_queries::deliverable_ids(&mut *conn, id).await?;
        for (deliverable, item) in ids.iter().zip(&draft.items) {
            if let Some(check) = super::checks::suggest(&item.text) {
                crate::phases::signoff_queries::set_check(
                    &mut *conn,
                    *deliverable,
                    Some(&check.spec()),
                    actor,
                )
                .await?;
            }
        }
        Ok(id)
    })
    .await;
    let id = match written {
        Ok(id) => id,
        Err(Stop::Taken) => {
            return Ok(Imported::Refused(format!(
                "{number} exists already. Imports never overwrite a phase: give this plan another number."
            )));
        }
        Err(Stop::Database(e)) => return Err(e),
    };
    let coverage = crate::docs::live::current_report(db, &settings.docs)
        .await?
        .overall;
    super::live::check_deliverables(
        db,
        settings,
        &coverage,
        crate::phases::signoff_queries::CheckScope::Phase(id),
        None,
    )
    .await?;
    Ok(Imported::Created { id, number })
}
