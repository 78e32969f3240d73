//! Caps: rules that hold the letter down whatever the weighted sum says. Admins edit them with
//! the rubric, one per line (`backup_unverified = C+`, `finding public_port = B`,
//! `Security < 50 = C`); each rubric version keeps the caps it was saved with.

use app::model::FindingKind;

use super::rubric::{Rubric, Score};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapRule {
    /// Backup/DR has no assessment, or its evidence expired.
    BackupUnverified,
    /// At least one current service has this finding.
    Finding(FindingKind),
    /// A category's score (after any override) is below this.
    CategoryBelow { category: String, below: Score },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    pub rule: CapRule,
    /// The highest letter the grade may have while the rule holds.
    pub letter: String,
}

impl Cap {
    /// The line an admin writes for this cap.
    pub fn line(&self) -> String {
        let rule = match &self.rule {
            CapRule::BackupUnverified => "backup_unverified".to_string(),
            CapRule::Finding(kind) => format!("finding {}", kind.slug()),
            CapRule::CategoryBelow { category, below } => format!("{category} < {below}"),
        };
        format!("{rule} = {}", self.letter)
    }
}

/// "Backup restore never verified, or evidence expired: at most C+" and "a service published on
/// 0.0.0.0 outside the allow-list without authentication: at most B".
pub fn default_caps() -> Vec<Cap> {
    vec![
        Cap {
            rule: CapRule::BackupUnverified,
            letter: "C+".into(),
        },
        Cap {
            rule: CapRule::Finding(FindingKind::PublicPort),
            letter: "B".into(),
        },
    ]
}

/// Parses cap lines against the rubric they belong to: letters must be the rubric's, categories
/// must exist, findings must be known. Blank lines are skipped; no lines means no caps.
pub fn parse_caps(text: &str, rubric: &Rubric) -> Result<Vec<Cap>, String> {
    let mut caps = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |message: String| format!("cap line {}: {message}", n + 1);
        let Some((rule, letter)) = line.rsplit_once('=') else {
            return Err(at(format!("'{line}' is not 'rule = letter'")));
        };
        let (rule, letter) = (rule.trim(), letter.trim());
        let known =
            rubric.thresholds.iter().any(|t| t.letter == letter) || rubric.failing == letter;
        if !known {
            return Err(at(format!("'{letter}' is not a letter of this rubric")));
        }
        let rule = if rule == "backup_unverified" {
            CapRule::BackupUnverified
        } else if let Some(slug) = rule.strip_prefix("finding ") {
            CapRule::Finding(
                FindingKind::from_slug(slug.trim())
                    .ok_or_else(|| at(format!("'{}' is not a finding", slug.trim())))?,
            )
        } else if let Some((category, below)) = rule.split_once('<') {
            let category = category.trim();
            let Some(c) = rubric
                .categories
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(category))
            else {
                return Err(at(format!("'{category}' is not a category of this rubric")));
            };
            CapRule::CategoryBelow {
                category: c.name.clone(),
                below: Score::parse(below.trim()).map_err(|e| at(e.to_string()))?,
            }
        } else {
            return Err(at(format!(
                "'{rule}' is not a rule (backup_unverified, finding <kind>, or <Category> < <score>)"
            )));
        };
        caps.push(Cap {
            rule,
            letter: letter.to_string(),
        });
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_are_validated_against_the_rubric() {
        let rubric = Rubric::default_rubric();
        let text = "backup_unverified = C+\nfinding public_port = B\n\nsecurity < 50 = C\n";
        let caps = parse_caps(text, &rubric).unwrap();
        assert_eq!(caps.len(), 3);
        assert_eq!(
            caps.iter().map(Cap::line).collect::<Vec<_>>(),
            [
                "backup_unverified = C+",
                "finding public_port = B",
                "Security < 50.00 = C"
            ]
        );
        assert_eq!(parse_caps("", &rubric).unwrap(), vec![]);
        for (bad, message) in [
            (
                "backup_unverified = Z",
                "cap line 1: 'Z' is not a letter of this rubric",
            ),
            ("finding nope = B", "cap line 1: 'nope' is not a finding"),
            (
                "Speed < 50 = B",
                "cap line 1: 'Speed' is not a category of this rubric",
            ),
            (
                "\nbackup_unverified",
                "cap line 2: 'backup_unverified' is not 'rule = letter'",
            ),
            ("anything = B", "cap line 1: 'anything' is not a rule"),
        ] {
            let error = parse_caps(bad, &rubric).unwrap_err();
            assert!(error.starts_with(message), "{bad}: {error}");
        }
        assert!(parse_caps("Security < 150 = C", &rubric).is_err());
    }
}
