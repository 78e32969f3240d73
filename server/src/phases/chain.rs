//! The hash chain over sign-off records: each record's SHA-256 covers its own content and the
//! previous record's hash, so changing, removing or inserting a record anywhere shows.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A sign-off as stored: every field the hash covers, plus the hash itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignoffRecord {
    pub id: i64,
    pub seq: i64,
    pub phase_id: i64,
    pub phase_number: String,
    /// approved, conditional or rejected.
    pub decision: String,
    pub comment: String,
    pub reasons: String,
    /// JSON text, hashed exactly as stored.
    pub remediation: String,
    /// Hundredths, truncated.
    pub grade_total: i32,
    pub grade_letter: String,
    pub rubric_version: i32,
    /// JSON text of what the signer was looking at, hashed exactly as stored.
    pub evidence: String,
    pub supersedes: Option<i64>,
    pub signer_issuer: String,
    pub signer_subject: String,
    pub signer_name: String,
    /// Unix seconds of the authentication the decision was made under.
    pub auth_time: i64,
    /// Unix microseconds (Postgres keeps microseconds, so this survives a round trip).
    pub signed_at_micros: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl SignoffRecord {
    /// SHA-256 (hex) of every field but `id` and `hash`, each written with its length so that
    /// no two different records can produce the same input.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |name: &str, value: &str| {
            h.update(format!("{name}:{}:", value.len()).as_bytes());
            h.update(value.as_bytes());
            h.update(b"\n");
        };
        field("seq", &self.seq.to_string());
        field("phase_id", &self.phase_id.to_string());
        field("phase_number", &self.phase_number);
        field("decision", &self.decision);
        field("comment", &self.comment);
        field("reasons", &self.reasons);
        field("remediation", &self.remediation);
        field("grade_total", &self.grade_total.to_string());
        field("grade_letter", &self.grade_letter);
        field("rubric_version", &self.rubric_version.to_string());
        field("evidence", &self.evidence);
        field(
            "supersedes",
            &self.supersedes.map(|s| s.to_string()).unwrap_or_default(),
        );
        field("signer_issuer", &self.signer_issuer);
        field("signer_subject", &self.signer_subject);
        field("signer_name", &self.signer_name);
        field("auth_time", &self.auth_time.to_string());
        field("signed_at_micros", &self.signed_at_micros.to_string());
        field("prev_hash", &self.prev_hash);
        hex(&h.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The outcome of recomputing the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { records: usize },
    Broken { seq: i64, id: i64, reason: String },
}

/// Recomputes every record in `seq` order and names the first that does not match.
pub fn verify(records: &[SignoffRecord]) -> ChainCheck {
    let mut previous_hash = GENESIS.to_string();
    for (index, r) in records.iter().enumerate() {
        let expected_seq = index as i64 + 1;
        let broken = |reason: String| ChainCheck::Broken {
            seq: r.seq,
            id: r.id,
            reason,
        };
        if r.seq != expected_seq {
            return broken(format!(
                "record {expected_seq} is missing: the chain jumps to record {}",
                r.seq
            ));
        }
        if r.prev_hash != previous_hash {
            return broken(
                "its link to the previous record does not match: a record before it was changed, removed or inserted"
                    .into(),
            );
        }
        if r.compute_hash() != r.hash {
            return broken(
                "its content does not match its hash: it was changed after it was signed".into(),
            );
        }
        previous_hash = r.hash.clone();
    }
    ChainCheck::Intact {
        records: records.len(),
    }
}

/// The whole verdict: the chain's own links first, then the audit trail's record of it.
pub fn verify_against(records: &[SignoffRecord], recorded: &[(i64, String)]) -> ChainCheck {
    match verify(records) {
        ChainCheck::Intact { records: n } => {
            cross_check(records, recorded).unwrap_or(ChainCheck::Intact { records: n })
        }
        broken => broken,
    }
}

/// Checks the chain against the audit trail, which recorded each sign-off's `seq` and hash when
/// it was signed: a chain whose last records were removed still links up, but the trail still
/// names them. Returns the first discrepancy.
pub fn cross_check(records: &[SignoffRecord], recorded: &[(i64, String)]) -> Option<ChainCheck> {
    for (seq, hash) in recorded {
        match records.iter().find(|r| r.seq == *seq) {
            None => {
                return Some(ChainCheck::Broken {
                    seq: *seq,
                    id: 0,
                    reason: "the audit trail recorded this sign-off, but the chain no longer holds it: records were removed".into(),
                });
            }
            Some(r) if r.hash != *hash => {
                return Some(ChainCheck::Broken {
                    seq: *seq,
                    id: r.id,
                    reason: "its hash differs from the one the audit trail recorded when it was signed: the chain was rewritten".into(),
                });
            }
            Some(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<SignoffRecord> {
        let mut out: Vec<SignoffRecord> = Vec::new();
        for i in 0..n {
            let mut r = SignoffRecord {
                id: 100 + i as i64,
                seq: i as i64 + 1,
                phase_id: 1,
                phase_number: "PHASE-01".into(),
                decision: "approved".into(),
                comment: format!("ok {i}"),
                reasons: String::new(),
                remediation: "[]".into(),
                grade_total: 7_210,
                grade_letter: "B".into(),
                rubric_version: 1,
                evidence: "{}".into(),
                supersedes: None,
                signer_issuer: "https://auth".into(),
                signer_subject: "alice".into(),
                signer_name: "Alice".into(),
                auth_time: 1_700_000_000,
                signed_at_micros: 1_700_000_000_000_000,
                prev_hash: out.last().map_or(GENESIS.into(), |p| p.hash.clone()),
                hash: String::new(),
            };
            r.hash = r.compute_hash();
            out.push(r);
        }
        out
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        assert_eq!(verify(&chain(3)), ChainCheck::Intact { records: 3 });
        assert_eq!(verify(&[]), ChainCheck::Intact { records: 0 });
    }

    #[test]
    fn a_changed_field_names_its_record() {
        let mut c = chain(3);
        c[1].comment = "rewritten".into();
        assert!(
            matches!(verify(&c), ChainCheck::Broken { seq: 2, reason, .. } if reason.contains("content"))
        );
    }

    #[test]
    fn a_rehashed_record_breaks_the_next_link() {
        let mut c = chain(3);
        c[1].decision = "rejected".into();
        c[1].hash = c[1].compute_hash();
        assert!(
            matches!(verify(&c), ChainCheck::Broken { seq: 3, reason, .. } if reason.contains("link"))
        );
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut c = chain(3);
        c.remove(1);
        assert!(
            matches!(verify(&c), ChainCheck::Broken { seq: 3, reason, .. } if reason.contains("record 2 is missing"))
        );
    }

    #[test]
    fn the_audit_trail_names_removed_tail_records() {
        let c = chain(3);
        let recorded: Vec<(i64, String)> = c.iter().map(|r| (r.seq, r.hash.clone())).collect();
        assert_eq!(cross_check(&c, &recorded), None);
        let truncated = &c[..2];
        assert_eq!(
            verify(truncated),
            ChainCheck::Intact { records: 2 },
            "the links alone cannot tell"
        );
        assert!(matches!(
            cross_check(truncated, &recorded),
            Some(ChainCheck::Broken { seq: 3, .. })
        ));
        let mut rewritten = chain(3);
        rewritten[2].comment = "other".into();
        rewritten[2].hash = rewritten[2].compute_hash();
        assert!(matches!(
            cross_check(&rewritten, &recorded),
            Some(ChainCheck::Broken { seq: 3, reason, .. }) if reason.contains("rewritten")
        ));
    }

    #[test]
    fn field_boundaries_matter() {
        let c = chain(1);
        let mut moved = c[0].clone();
        moved.comment = "ok".into();
        moved.reasons = " 0".into();
        assert_ne!(moved.compute_hash(), c[0].compute_hash());
    }
}
