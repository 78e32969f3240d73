//! Phases as the pages show them: plans, deliverables, reports, sign-offs and the chain check.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseSummary {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub due_on: Option<Date>,
    /// e.g. "93.00", when the plan states one.
    pub target_grade: Option<String>,
    /// The grade the plan claimed at its start ("91.00"), when it states one.
    pub claimed_grade: Option<String>,
    pub created_at: OffsetDateTime,
    /// The grade measured at the latest sign-off.
    pub last_decision_grade: Option<String>,
    /// The grade the portal had measured when the plan was imported (its latest snapshot then).
    pub grade_at_import: Option<String>,
    pub total: i64,
    pub done: i64,
    pub waived: i64,
    pub last_decision: Option<String>,
    pub last_decision_at: Option<OffsetDateTime>,
}

impl PhaseSummary {
    pub fn open(&self) -> i64 {
        self.total - self.done - self.waived
    }

    /// The title without a leading repetition of the number ("PHASE-01: Foundation" under
    /// PHASE-01 reads "Foundation").
    pub fn short_title(&self) -> &str {
        let title = self.title.trim();
        let rest = title
            .get(..self.number.len())
            .filter(|head| head.eq_ignore_ascii_case(&self.number))
            .map(|_| &title[self.number.len()..])
            .map(|r| r.trim_start_matches([':', '-', '—', '–', '·', ' ']))
            .unwrap_or(title);
        if rest.is_empty() { title } else { rest }
    }

    /// Where the plan's grade claims and the measured grade disagree, in words: a starting
    /// grade above the one measured at import, or a sign-off at a grade below the target.
    pub fn contradictions(&self) -> Vec<String> {
        let number = |g: &Option<String>| g.as_deref().and_then(|g| g.parse::<f64>().ok());
        let mut found = vec![];
        if let (Some(claimed), Some(measured)) =
            (number(&self.claimed_grade), number(&self.grade_at_import))
            && claimed > measured
        {
            found.push(format!(
                "The plan claimed {} at its start; the portal measured {} when it was imported.",
                self.claimed_grade.as_deref().unwrap_or_default(),
                self.grade_at_import.as_deref().unwrap_or_default()
            ));
        }
        let signed_off = matches!(
            self.last_decision.as_deref(),
            Some("approved" | "conditional")
        );
        if let (true, Some(target), Some(measured)) = (
            signed_off,
            number(&self.target_grade),
            number(&self.last_decision_grade),
        ) && measured < target
        {
            found.push(format!(
                "Signed off at a measured {}, below the target of {}.",
                self.last_decision_grade.as_deref().unwrap_or_default(),
                self.target_grade.as_deref().unwrap_or_default()
            ));
        }
        found
    }

    /// Where the phase stands, from its last decision and its deliverables.
    pub fn status(&self) -> &'static str {
        match self.last_decision.as_deref() {
            Some("approved") => "signed off",
            Some("conditional") => "conditional",
            Some("rejected") => "rework",
            _ if self.total > 0 && self.open() == 0 => "awaiting sign-off",
            _ => "in progress",
        }
    }
}

/// The live checks a deliverable can be bound to (`phases::checks` on the server), with what
/// their parameter is, as the phase page offers them.
pub const CHECK_KINDS: [(&str, &str); 7] = [
    (
        "no_finding",
        "a finding kind, e.g. no_restart_policy, optionally @engine/key,… for named services",
    ),
    (
        "coverage",
        "a percentage of running services documented, e.g. 50",
    ),
    ("grade", "points out of 100, e.g. 93"),
    ("letter", "a letter of the rubric, e.g. A"),
    ("rollout_item", "the number of a rollout checklist item"),
    (
        "route",
        "a host users reach through Traefik, e.g. grafana.quietly.online: every route to it answers with no finding",
    ),
    (
        "backup",
        "a backup job's name: on time, passing and restore-tested",
    ),
];

/// One checklist item as the importer understood it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewItem {
    pub headings: Vec<String>,
    pub text: String,
    pub checked: bool,
    pub depth: u8,
    /// The live check the item's words promise, which the import binds, in words.
    pub check: Option<String>,
}

/// What an import would create, shown before anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPreview {
    pub title: String,
    pub number: Option<String>,
    pub starts_on: Option<Date>,
    pub due_on: Option<Date>,
    pub target_grade: Option<String>,
    pub claimed_grade: Option<String>,
    pub objectives: Vec<String>,
    pub items: Vec<PreviewItem>,
    pub criteria: Vec<String>,
    pub notes: Vec<String>,
}

/// Where a deliverable stands: open, done (with evidence, or by its passing check) or waived
/// (with a reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliverableStatus {
    Open,
    Done,
    Waived,
}

impl DeliverableStatus {
    pub const ALL: [DeliverableStatus; 3] = [
        DeliverableStatus::Open,
        DeliverableStatus::Done,
        DeliverableStatus::Waived,
    ];

    /// The stored and submitted form, which is also what the pages show.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliverableStatus::Open => "open",
            DeliverableStatus::Done => "done",
            DeliverableStatus::Waived => "waived",
        }
    }

    pub fn parse(text: &str) -> Option<DeliverableStatus> {
        DeliverableStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The database holds the stored form (its check constraint allows these three).
impl TryFrom<String> for DeliverableStatus {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        DeliverableStatus::parse(&text)
            .ok_or_else(|| format!("'{text}' is not a deliverable status"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverableView {
    pub id: i64,
    pub headings: Vec<String>,
    pub text: String,
    pub depth: i16,
    /// plan, added or remediation.
    pub origin: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub status: DeliverableStatus,
    pub note: String,
    pub link: Option<String>,
    /// The attached report, rendered and sanitized.
    pub report_html: Option<String>,
    pub by: String,
    pub at: OffsetDateTime,
    /// How many status changes it has had (the first is its creation).
    pub changes: i64,
    /// Every change, newest first.
    pub history: Vec<DeliverableChange>,
    /// The live check it is bound to: (spec, what it asks in words).
    pub check: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverableChange {
    pub status: DeliverableStatus,
    pub note: String,
    pub link: Option<String>,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportClaim {
    pub deliverable_id: i64,
    pub text: String,
    /// confirmed or disputed.
    pub verdict: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportView {
    pub id: i64,
    /// completion or verification.
    pub kind: String,
    pub author: String,
    pub at: OffsetDateTime,
    pub html: String,
    pub claims: Vec<ReportClaim>,
    /// A newer report of the same kind exists.
    pub superseded: bool,
}

/// A remediation item a conditional sign-off asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationItem {
    pub text: String,
    pub owner: String,
    pub due_on: Date,
}

/// What the signer was looking at, captured with the decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSnapshot {
    pub grade_total: String,
    pub grade_letter: String,
    pub capped_by: Option<String>,
    pub rubric_version: i32,
    pub services: i64,
    pub running: i64,
    pub findings: i64,
    pub docs_documented: i64,
    pub docs_passing: i64,
    pub docs_fresh: i64,
    pub deliverables_done: i64,
    pub deliverables_waived: i64,
    pub per_service: Vec<ServiceAtSignoff>,
    /// The plan's claimed starting grade and its target at signing, beside the measured
    /// `grade_total`. Absent from records signed before these were kept, and from plans that
    /// state none (so those records' stored JSON, and their hashes, are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_grade: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_grade: Option<String>,
}

impl EvidenceSnapshot {
    /// "claimed 91.00 · target 93.00 · measured 72.40", for the acceptance record.
    pub fn claimed_target_measured(&self) -> String {
        let stated = |g: &Option<String>| g.clone().unwrap_or_else(|| "not stated".into());
        format!(
            "claimed {} · target {} · measured {}",
            stated(&self.claimed_grade),
            stated(&self.target_grade),
            self.grade_total
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAtSignoff {
    pub engine: String,
    pub key: String,
    pub image: String,
    pub image_id: String,
    pub findings: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignoffView {
    pub id: i64,
    pub seq: i64,
    pub phase_id: i64,
    pub phase_number: String,
    pub phase_title: String,
    pub decision: String,
    pub comment: String,
    pub reasons: String,
    pub remediation: Vec<RemediationItem>,
    pub grade_total: String,
    pub grade_letter: String,
    pub signer: String,
    pub signed_at: OffsetDateTime,
    /// The sign-off (by sequence number) this one replaces.
    pub supersedes_seq: Option<i64>,
    /// A later sign-off of the same phase replaces this one.
    pub superseded: bool,
    pub hash: String,
    pub prev_hash: String,
    pub evidence: EvidenceSnapshot,
}

/// The sign-off form's values, kept across a re-authentication so nothing typed is lost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignoffDraft {
    pub phase_id: i64,
    pub decision: String,
    pub comment: String,
    pub reasons: String,
    pub remediation: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseDetail {
    pub summary: PhaseSummary,
    pub starts_on: Option<Date>,
    pub objectives: Vec<String>,
    pub criteria: Vec<String>,
    pub import_notes: Vec<String>,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub has_source: bool,
    pub deliverables: Vec<DeliverableView>,
    pub reports: Vec<ReportView>,
    pub signoffs: Vec<SignoffView>,
}

/// `/phases/verify`: the chain recomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainStatus {
    Intact {
        records: usize,
    },
    Broken {
        seq: i64,
        phase_number: Option<String>,
        signed_at: Option<OffsetDateTime>,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_is_not_repeated_in_the_title() {
        let phase = |title: &str| PhaseSummary {
            id: 1,
            number: "PHASE-01".into(),
            title: title.into(),
            due_on: None,
            target_grade: None,
            claimed_grade: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_decision_grade: None,
            grade_at_import: None,
            total: 0,
            done: 0,
            waived: 0,
            last_decision: None,
            last_decision_at: None,
        };
        assert_eq!(phase("PHASE-01: Foundation").short_title(), "Foundation");
        assert_eq!(phase("phase-01 — Foundation").short_title(), "Foundation");
        assert_eq!(phase("Foundation").short_title(), "Foundation");
        assert_eq!(phase("PHASE-01").short_title(), "PHASE-01");
        assert_eq!(
            phase("Phase 1 — Backups").short_title(),
            "Phase 1 — Backups"
        );
    }

    #[test]
    fn claims_the_evidence_contradicts_are_named() {
        let phase = PhaseSummary {
            id: 1,
            number: "PHASE-03".into(),
            title: "Edge".into(),
            due_on: None,
            target_grade: Some("93.00".into()),
            claimed_grade: Some("91.00".into()),
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_decision_grade: None,
            grade_at_import: Some("72.40".into()),
            total: 1,
            done: 1,
            waived: 0,
            last_decision: None,
            last_decision_at: None,
        };
        assert_eq!(
            phase.contradictions(),
            vec![
                "The plan claimed 91.00 at its start; the portal measured 72.40 when it was imported."
            ]
        );
        let signed = PhaseSummary {
            claimed_grade: Some("72.00".into()),
            last_decision: Some("approved".into()),
            last_decision_grade: Some("88.50".into()),
            ..phase.clone()
        };
        assert_eq!(
            signed.contradictions(),
            vec!["Signed off at a measured 88.50, below the target of 93.00."]
        );
        let honest = PhaseSummary {
            last_decision_grade: Some("93.00".into()),
            ..signed.clone()
        };
        assert!(honest.contradictions().is_empty());
        let rejected = PhaseSummary {
            last_decision: Some("rejected".into()),
            ..signed
        };
        assert!(
            rejected.contradictions().is_empty(),
            "a rejection claims nothing"
        );
    }
}

#[cfg(test)]
mod deliverable_status_tests {
    use super::DeliverableStatus;

    #[test]
    fn every_status_reads_back_from_its_stored_form_and_nothing_else_does() {
        for status in DeliverableStatus::ALL {
            assert_eq!(DeliverableStatus::parse(status.as_str()), Some(status));
        }
        for bad in ["", "Open", "closed", "done "] {
            assert_eq!(DeliverableStatus::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            DeliverableStatus::try_from("closed".to_string()),
            Err("'closed' is not a deliverable status".to_string())
        );
    }
}
