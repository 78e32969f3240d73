//! The small readings a plan import makes of text: clean headings and keys, phase numbers,
//! grades and dates.

use time::Date;

/// Heading text without leading emoji and decoration, whitespace collapsed.
pub(super) fn clean_heading(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .trim()
        .to_string()
}

pub(super) fn normalise_key(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A phase number as a person types it in a form or on the command line: `PHASE-3`, `3`,
/// `phase 03` → `PHASE-03`.
pub fn normalise_number(text: &str) -> Option<String> {
    let text = text.trim();
    phase_number(text).or_else(|| phase_number(&format!("phase {text}")))
}

/// `PHASE-03`, `Phase 3`, `phase_12` → `PHASE-03`, `PHASE-12`.
pub fn phase_number(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("phase") {
        let after = &rest[at + "phase".len()..];
        let digits_start = after.trim_start_matches([' ', '-', '_', ':', '#']);
        let digits: String = digits_start
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() && digits.len() <= 4 {
            let n: u32 = digits.parse().ok()?;
            return Some(format!("PHASE-{n:02}"));
        }
        rest = after;
    }
    None
}

/// The first number in `93/100`, `≥ 90`, `A (93.5)`, as hundredths; only 0–100. A percentage
/// (`40%`) is never a grade.
pub(super) fn parse_grade(value: &str) -> Option<u32> {
    let start = value.find(|c: char| c.is_ascii_digit())?;
    let number: String = value[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if value[start + number.len()..].trim_start().starts_with('%') {
        return None;
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
    let whole: u32 = whole.parse().ok()?;
    let fraction: String = fraction.chars().chain("00".chars()).take(2).collect();
    let hundredths = whole.checked_mul(100)? + fraction.parse::<u32>().unwrap_or(0);
    (hundredths <= 10_000).then_some(hundredths)
}

/// Every `YYYY-MM-DD` in the text that is a real date.
pub(super) fn dates_in(value: &str) -> Vec<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let bytes = value.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 10 <= bytes.len() {
        let window = &bytes[i..i + 10];
        let shape = window.iter().enumerate().all(|(k, b)| {
            if k == 4 || k == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
        if shape
            && let Ok(s) = std::str::from_utf8(window)
            && let Ok(d) = Date::parse(s, &format)
        {
            found.push(d);
            i += 10;
        } else {
            i += 1;
        }
    }
    found
}
