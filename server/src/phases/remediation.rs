//! Remediation items of a conditional sign-off, one per line: `item | owner | YYYY-MM-DD`.

use time::Date;

use app::model::phases::RemediationItem;

/// Every non-empty line as an item, or a message naming the first line that is not one.
pub fn parse(text: &str) -> Result<Vec<RemediationItem>, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [item, owner, due] = parts.as_slice() else {
            return Err(format!(
                "Remediation line {}: write 'item | owner | YYYY-MM-DD' (found {} part(s)).",
                number + 1,
                parts.len()
            ));
        };
        if item.is_empty() || owner.is_empty() {
            return Err(format!(
                "Remediation line {}: the item and its owner are both needed.",
                number + 1
            ));
        }
        let due_on = Date::parse(due, &format).map_err(|_| {
            format!(
                "Remediation line {}: '{due}' is not a date (YYYY-MM-DD).",
                number + 1
            )
        })?;
        items.push(RemediationItem {
            text: (*item).to_string(),
            owner: (*owner).to_string(),
            due_on,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn lines_become_items() {
        let items =
            parse("Fix backups | erin | 2026-12-01\n\n  Rotate keys|alice|2026-12-15 ").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].text, "Rotate keys");
        assert_eq!(items[1].owner, "alice");
        assert_eq!(items[1].due_on, date!(2026 - 12 - 15));
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(
            parse("ok | a | 2026-01-01\nno owner here").unwrap_err(),
            "Remediation line 2: write 'item | owner | YYYY-MM-DD' (found 1 part(s))."
        );
        assert!(
            parse("x | y | 2026-02-30")
                .unwrap_err()
                .contains("not a date")
        );
        assert!(
            parse(" | y | 2026-02-03")
                .unwrap_err()
                .contains("both needed")
        );
    }
}
