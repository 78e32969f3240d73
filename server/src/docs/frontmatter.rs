//! The YAML front matter of a service doc, in the small subset docs use: `key: value`,
//! `key: [a, b]`, and `key:` followed by `- item` lines. Anything else is a clear error.

use std::collections::BTreeMap;

use time::Date;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrontMatter {
    pub services: Vec<String>,
    pub engine: Option<String>,
    pub owner: Option<String>,
    pub last_verified: Option<Date>,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let quoted = s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')));
    if quoted {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

fn strip_comment(line: &str) -> &str {
    // A '#' starts a comment at the line start or after a space (not inside a value like a#b).
    match line.find(" #") {
        Some(i) => &line[..i],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    }
}

/// Parses the block between the `---` fences. Unknown keys are kept out but allowed.
pub fn parse(block: &str) -> Result<FrontMatter, String> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current_list: Option<String> = None;
    for (n, raw) in block.lines().enumerate() {
        let line = strip_comment(raw);
        if line.trim().is_empty() {
            continue;
        }
        let line_no = n + 1;
        if let Some(item) = line.trim_start().strip_prefix("- ") {
            let Some(key) = &current_list else {
                return Err(format!(
                    "front matter line {line_no}: a list item without a key above it"
                ));
            };
            values.entry(key.clone()).or_default().push(unquote(item));
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(format!(
                "front matter line {line_no}: nested values are not supported"
            ));
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "front matter line {line_no}: expected 'key: value', found '{}'",
                line.trim()
            ));
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(' ') {
            return Err(format!("front matter line {line_no}: '{key}' is not a key"));
        }
        let value = value.trim();
        current_list = None;
        if value.is_empty() {
            current_list = Some(key.clone());
            values.entry(key).or_default();
        } else if let Some(inner) = value.strip_prefix('[') {
            let Some(inner) = inner.strip_suffix(']') else {
                return Err(format!(
                    "front matter line {line_no}: a list opened with '[' is not closed"
                ));
            };
            let items = inner.split(',').map(unquote).filter(|s| !s.is_empty());
            values.entry(key).or_default().extend(items);
        } else {
            values.insert(key, vec![unquote(value)]);
        }
    }
    let one = |key: &str| {
        values
            .get(key)
            .and_then(|v| v.first().cloned())
            .filter(|v| !v.is_empty())
    };
    let mut services: Vec<String> = ["service", "services"]
        .iter()
        .flat_map(|k| values.get(*k).cloned().unwrap_or_default())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    services.dedup();
    let last_verified = match one("last_verified") {
        None => None,
        Some(text) => Some(
            parse_date(&text)
                .ok_or_else(|| format!("last_verified '{text}' is not a date like 2026-11-22"))?,
        ),
    };
    Ok(FrontMatter {
        services,
        engine: one("engine"),
        owner: one("owner"),
        last_verified,
    })
}

fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_styles_docs_use() {
        let fm = parse("service: grafana\nowner: 'ops team' # who\nlast_verified: 2026-11-20\nengine: master\n").unwrap();
        assert_eq!(fm.services, ["grafana"]);
        assert_eq!(fm.owner.as_deref(), Some("ops team"));
        assert_eq!(fm.last_verified, Some(date!(2026 - 11 - 20)));
        assert_eq!(fm.engine.as_deref(), Some("master"));
        let list = parse("services: [loki, \"promtail\"]\n").unwrap();
        assert_eq!(list.services, ["loki", "promtail"]);
        let block = parse("services:\n  - postgres\n  - pgbouncer\ntags: [db]\n").unwrap();
        assert_eq!(block.services, ["postgres", "pgbouncer"]);
    }

    #[test]
    fn broken_front_matter_says_where() {
        assert_eq!(
            parse("service grafana").unwrap_err(),
            "front matter line 1: expected 'key: value', found 'service grafana'"
        );
        assert!(
            parse("services: [a, b\n")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(
            parse("- orphan item")
                .unwrap_err()
                .contains("without a key")
        );
        assert!(
            parse("last_verified: last week")
                .unwrap_err()
                .contains("not a date")
        );
        assert!(parse("owner:\n  name: x").unwrap_err().contains("nested"));
    }
}
