//! The audit trail of every write, as the `/audit` page shows it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_name: String,
    pub actor_subject: String,
    pub actor_role: Option<String>,
    pub action: String,
    pub target: String,
    /// "done", or "refused" when the role did not allow it.
    pub outcome: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Filters of the audit page, from the query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
}

impl AuditFilter {
    /// Drops empty values so the page and the query treat "" as "any".
    pub fn normalized(self) -> Self {
        let clean = |v: Option<String>| {
            v.map(|s| s.trim().chars().take(200).collect::<String>())
                .filter(|s| !s.is_empty())
        };
        AuditFilter {
            actor: clean(self.actor),
            action: clean(self.action),
            outcome: clean(self.outcome),
        }
    }
}
