//! Signing off a phase: the decision is checked, the evidence the signer was looking at is
//! captured, and the record is appended to the chain with its audit entry in one transaction.

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::phases::{EvidenceSnapshot, PhaseSummary, RemediationItem};

use super::chain::SignoffRecord;
use crate::audited::Recorded;
use crate::auth::SessionUser;
use crate::config::DocsSettings;
use crate::phases::queries::NewDeliverable;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionKind {
    Approved,
    Conditional,
    Rejected,
}

impl DecisionKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approved" => Some(Self::Approved),
            "conditional" => Some(Self::Conditional),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Conditional => "conditional",
            Self::Rejected => "rejected",
        }
    }
}

/// A decision that passed validation: conditional ones carry remediation, rejections reasons.
#[derive(Clone, Debug)]
pub struct Decision {
    pub kind: DecisionKind,
    pub comment: String,
    pub reasons: String,
    pub remediation: Vec<RemediationItem>,
}

impl Decision {
    pub fn parse(
        decision: &str,
        comment: &str,
        reasons: &str,
        remediation: &str,
    ) -> Result<Self, String> {
        let kind = DecisionKind::parse(decision)
            .ok_or_else(|| "Choose a decision: approved, conditional or rejected.".to_string())?;
        let comment = comment.trim().to_string();
        let reasons = reasons.trim().to_string();
        if comment.chars().count() > 4000 || reasons.chars().count() > 4000 {
            return Err("The comment and the reasons are limited to 4000 characters each.".into());
        }
        let remediation = super::remediation::parse(remediation)?;
        match kind {
            DecisionKind::Conditional if remediation.is_empty() => {
                return Err("A conditional sign-off lists its remediation items (item | owner | YYYY-MM-DD).".into());
            }
            DecisionKind::Rejected if reasons.is_empty() => {
                return Err("A rejection states its reasons.".into());
            }
            DecisionKind::Approved | DecisionKind::Rejected if !remediation.is_empty() => {
                return Err("Remediation items belong to a conditional sign-off only.".into());
            }
            _ => {}
        }
        Ok(Self {
            kind,
            comment,
            reasons,
            remediation,
        })
    }
}

/// Why a sign-off was not recorded.
#[derive(Debug)]
pub enum Refusal {
    /// Approval while these deliverables are open.
    Blocked(Vec<String>),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

/// Captures what the signer is looking at: the grade, the inventory, the docs coverage.
pub async fn evidence(
    db: &PgPool,
    docs: &DocsSettings,
    phase: &PhaseSummary,
) -> sqlx::Result<(EvidenceSnapshot, i32, String, i32)> {
    let coverage = crate::docs::live::current_report(db, docs).await?.overall;
    let ((version, _, result), services) = tokio::try_join!(
        crate::grade::live::current_with(db, &coverage),
        crate::phases::signoff_queries::service_evidence(db),
    )?;
    let total = result.total.hundredths_truncated() as i32;
    let snapshot = EvidenceSnapshot {
        grade_total: result.total.shown(),
        grade_letter: result.letter.clone(),
        capped_by: result.cap.clone(),
        rubric_version: version,
        services: services.len() as i64,
        running: services.iter().filter(|(_, running)| *running).count() as i64,
        findings: services.iter().map(|(s, _)| s.findings).sum(),
        docs_documented: coverage.documented,
        docs_passing: coverage.passing,
        docs_fresh: coverage.fresh,
        deliverables_done: phase.done,
        deliverables_waived: phase.waived,
        per_service: services.into_iter().map(|(s, _)| s).collect(),
        claimed_grade: phase.claimed_grade.clone(),
        target_grade: phase.target_grade.clone(),
    };
    Ok((snapshot, total, result.letter, version))
}

/// Records the decision: refuses an approval while deliverables are open; a conditional
/// sign-off's remediation items become open deliverables of the phase.
pub async fn sign(
    db: &PgPool,
    docs: &DocsSettings,
    phase: &PhaseSummary,
    decision: &Decision,
    signer: &SessionUser,
) -> Result<SignoffRecord, Refusal> {
    let (snapshot, total, letter, version) = evidence(db, docs, phase).await?;
    crate::audited::write_recording(db, signer, "phase.sign_off", async |conn| {
        if decision.kind == DecisionKind::Approved {
            let open =
                crate::phases::signoff_queries::open_deliverables(&mut *conn, phase.id).await?;
            if !open.is_empty() {
                return Err(Refusal::Blocked(open));
            }
        }
        let now = OffsetDateTime::now_utc();
        let record = SignoffRecord {
            id: 0,
            seq: 0,
            phase_id: phase.id,
            phase_number: phase.number.clone(),
            decision: decision.kind.as_str().into(),
            comment: decision.comment.clone(),
            reasons: decision.reasons.clone(),
            remediation: serde_json::to_string(&decision.remediation)
                .unwrap_or_else(|_| "[]".into()),
            grade_total: total,
            grade_letter: letter,
            rubric_version: version,
            evidence: serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".into()),
            supersedes: None,
            signer_issuer: signer.issuer.clone(),
            signer_subject: signer.subject.clone(),
            signer_name: signer.display_name().to_string(),
            auth_time: signer.auth_time,
            signed_at_micros: (now.unix_timestamp_nanos() / 1000) as i64,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let record = crate::phases::signoff_queries::append_signoff(&mut *conn, record).await?;
        for item in &decision.remediation {
            crate::phases::queries::add_deliverable(
                &mut *conn,
                phase.id,
                &NewDeliverable {
                    text: &item.text,
                    origin: "remediation",
                    owner: Some(&item.owner),
                    due_on: Some(item.due_on),
                    signoff_id: Some(record.id),
                },
                signer,
            )
            .await?;
        }
        let recorded = Recorded::<(), _> {
            target: phase.number.clone(),
            before: None,
            after: Some(serde_json::json!({
                "decision": record.decision, "seq": record.seq, "hash": record.hash,
                "remediation": decision.remediation.len(), "grade": record.grade_total,
            })),
        };
        Ok((record, recorded))
    })
    .await
}
