//! The quality checklist every service doc is held to, each check with its reason.

use std::path::Path;

use app::model::docs::DocCheck;

use super::frontmatter::FrontMatter;
use super::markdown::Analysis;

/// The template, configurable; the default follows the team's own doc structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocTemplate {
    pub required_sections: Vec<String>,
    /// The section whose fenced code blocks count as verification commands.
    pub verification_section: String,
    pub freshness_days: i64,
    pub max_file_bytes: u64,
}

impl Default for DocTemplate {
    fn default() -> Self {
        Self {
            required_sections: [
                "Overview",
                "Configuration",
                "Verification",
                "Troubleshooting",
                "Backup and restore",
            ]
            .map(String::from)
            .to_vec(),
            verification_section: "Verification".into(),
            freshness_days: 7,
            max_file_bytes: 1024 * 1024,
        }
    }
}

/// "Backup & Restore" and "backup and restore" are the same section.
fn normalize(heading: &str) -> String {
    heading
        .to_lowercase()
        .replace('&', " and ")
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_section(headings: &[String], wanted: &str) -> bool {
    let wanted = normalize(wanted);
    headings.iter().any(|h| normalize(h).contains(&wanted))
}

fn check(name: &str, passed: bool, reason: String) -> DocCheck {
    DocCheck {
        name: name.into(),
        passed,
        reason,
    }
}

/// The checks that depend on the file alone (freshness also counts attestations, so it is
/// judged later, in [`super::coverage`]).
pub fn file_checks(
    doc_path: &Path,
    docs_root: &Path,
    fm: &FrontMatter,
    a: &Analysis,
    t: &DocTemplate,
) -> Vec<DocCheck> {
    let missing: Vec<&String> = t
        .required_sections
        .iter()
        .filter(|s| !has_section(&a.headings, s))
        .collect();
    let sections = if missing.is_empty() {
        check(
            "Template sections",
            true,
            format!(
                "all {} required sections present",
                t.required_sections.len()
            ),
        )
    } else {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        check(
            "Template sections",
            false,
            format!("missing: {}", names.join(", ")),
        )
    };
    let commands = a
        .code_blocks
        .iter()
        .filter(|(heading, body)| {
            !body.trim().is_empty()
                && heading
                    .as_deref()
                    .is_some_and(|h| normalize(h).contains(&normalize(&t.verification_section)))
        })
        .count();
    let verification = if commands > 0 {
        check(
            "Verification commands",
            true,
            format!(
                "{commands} fenced command block(s) under {}",
                t.verification_section
            ),
        )
    } else {
        check(
            "Verification commands",
            false,
            format!(
                "no fenced command block under a '{}' heading",
                t.verification_section
            ),
        )
    };
    let verified = match fm.last_verified {
        Some(d) => check("Last verified date", true, format!("last_verified: {d}")),
        None => check(
            "Last verified date",
            false,
            "no last_verified date in the front matter".into(),
        ),
    };
    let owner = match &fm.owner {
        Some(o) => check("Owner", true, format!("owner: {o}")),
        None => check("Owner", false, "no owner in the front matter".into()),
    };
    let broken = broken_links(doc_path, docs_root, &a.links);
    let links = if broken.is_empty() {
        check(
            "Relative links",
            true,
            "every relative link resolves".into(),
        )
    } else {
        check(
            "Relative links",
            false,
            format!("broken: {}", broken.join(", ")),
        )
    };
    vec![sections, verification, verified, owner, links]
}

/// Relative links whose target file does not exist inside the docs folder.
fn broken_links(doc_path: &Path, root: &Path, links: &[String]) -> Vec<String> {
    let base = doc_path.parent().unwrap_or(root);
    let Ok(root) = root.canonicalize() else {
        return vec![];
    };
    links
        .iter()
        .filter(|l| {
            let is_relative = !l.contains("://")
                && !l.starts_with('#')
                && !l.starts_with("mailto:")
                && !l.starts_with('/');
            is_relative && !l.is_empty()
        })
        .filter(|l| {
            let file = l.split(['#', '?']).next().unwrap_or_default();
            if file.is_empty() {
                return false;
            }
            // A link that leaves the docs folder is broken for the docs' readers, whatever exists there.
            match base.join(file).canonicalize() {
                Ok(target) => !target.starts_with(&root),
                Err(_) => true,
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names_are_compared_loosely() {
        let headings = vec![
            "🔧 Backup & Restore procedures".to_string(),
            "Overview".to_string(),
        ];
        assert!(has_section(&headings, "Backup and restore"));
        assert!(has_section(&headings, "overview"));
        assert!(!has_section(&headings, "Troubleshooting"));
    }
}
