//! Rollouts as the pages show them: the evaluation matrix, the decision, the checklist with its
//! automatic checks, and the timeline of status changes.

use time::{Date, OffsetDateTime};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub goal: String,
    pub host: String,
    pub chosen: Option<String>,
    pub items: i64,
    pub verified: i64,
    pub checked_at: Option<OffsetDateTime>,
}

impl RolloutSummary {
    /// Verified items as a share of all items, 0.0 when there are none.
    pub fn readiness(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            self.verified as f64 / self.items as f64
        }
    }

    /// "Ready for business use" only when every item is verified.
    pub fn ready(&self) -> bool {
        self.items > 0 && self.verified == self.items
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionView {
    pub id: i64,
    pub name: String,
    pub weight: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreCell {
    pub score: u8,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateView {
    pub id: i64,
    pub name: String,
    pub service_match: String,
    /// Weighted total out of 100, e.g. "72.5".
    pub total: String,
    pub scored: usize,
    /// One per criterion, in criterion order.
    pub cells: Vec<Option<ScoreCell>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionView {
    pub candidate: String,
    pub rationale: String,
    pub by: String,
    pub at: OffsetDateTime,
}

/// Where a checklist item stands. People move items between the first three; `Verified` needs
/// evidence (a note or a link), and on an item the portal checks itself only the portal sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    Todo,
    InProgress,
    Done,
    Verified,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [
        ItemStatus::Todo,
        ItemStatus::InProgress,
        ItemStatus::Done,
        ItemStatus::Verified,
    ];

    /// The stored and submitted form.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Todo => "todo",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Done => "done",
            ItemStatus::Verified => "verified",
        }
    }

    pub fn parse(text: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// As the pages say it.
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Todo => "to do",
            ItemStatus::InProgress => "in progress",
            ItemStatus::Done => "done",
            ItemStatus::Verified => "verified",
        }
    }
}

/// The database holds the stored form; a value it cannot hold (the column's check constraint
/// allows these four) is an error at the edge rather than a status nobody handles.
impl TryFrom<String> for ItemStatus {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        ItemStatus::parse(&text).ok_or_else(|| format!("'{text}' is not a checklist status"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemView {
    pub id: i64,
    pub title: String,
    /// What the portal checks, in words, for items it verifies itself.
    pub check: Option<String>,
    pub status: ItemStatus,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub note: String,
    pub link: Option<String>,
    pub by: String,
    pub at: OffsetDateTime,
    /// The portal's latest finding for an automatic item, and when it was made.
    pub fact: Option<String>,
    pub fact_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemEventView {
    pub item: String,
    pub status: ItemStatus,
    /// person or portal.
    pub source: String,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutDetail {
    pub summary: RolloutSummary,
    pub allowlist_middleware: Option<String>,
    pub criteria: Vec<CriterionView>,
    pub candidates: Vec<CandidateView>,
    pub weights_by: Option<(String, OffsetDateTime)>,
    pub decision: Option<DecisionView>,
    pub items: Vec<ItemView>,
    pub timeline: Vec<ItemEventView>,
}

#[cfg(test)]
mod item_status_tests {
    use super::ItemStatus;

    #[test]
    fn every_status_reads_back_from_its_stored_form_and_nothing_else_does() {
        for status in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                ItemStatus::try_from(status.as_str().to_string()),
                Ok(status)
            );
        }
        for bad in ["", "Done", "in progress", "verified ", "blocked"] {
            assert_eq!(ItemStatus::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            ItemStatus::try_from("blocked".to_string()),
            Err("'blocked' is not a checklist status".to_string())
        );
        assert_eq!(ItemStatus::InProgress.label(), "in progress");
    }
}
