//! Reads a phase plan written in Markdown (in whatever style its author likes) into what the
//! portal tracks: title, number, dates, target grade, objectives, checklist items with their
//! heading path, success criteria, and notes on what was skipped or repaired.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use time::Date;

use super::mojibake;
use super::plan_text::{clean_heading, dates_in, normalise_key, parse_grade};
pub use super::plan_text::{normalise_number, phase_number};

/// Plans larger than this are refused before parsing: a plan is pages, not megabytes.
pub const MAX_PLAN_BYTES: usize = 1024 * 1024;
/// Longer checklist items are cut here (and a note says so).
const MAX_ITEM_CHARS: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanItem {
    /// The headings above the item, outermost first (the title heading excluded).
    pub headings: Vec<String>,
    pub text: String,
    pub checked: bool,
    /// 0 for a top-level item, 1 inside another item, and so on.
    pub depth: u8,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanDraft {
    pub title: String,
    /// Normalised as `PHASE-NN`.
    pub number: Option<String>,
    pub starts_on: Option<Date>,
    pub due_on: Option<Date>,
    /// Hundredths of a point.
    pub target_grade: Option<u32>,
    /// The grade the plan says the system has at its start ("**Current Grade**: 91/100"), in
    /// hundredths: a claim the portal sets against the grade it measured then.
    pub claimed_grade: Option<u32>,
    pub objectives: Vec<String>,
    pub items: Vec<PlanItem>,
    pub criteria: Vec<String>,
    /// What the importer skipped, repaired or could not read, for the person importing.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("The plan is empty.")]
    Empty,
    #[error(
        "The plan is {0} bytes; plans over {MAX_PLAN_BYTES} bytes (1 MiB) are refused. Split it into phases."
    )]
    TooLarge(usize),
    #[error("This is not a text document (it contains binary data).")]
    NotText,
    #[error(
        "Nothing to import: the plan has no heading to use as its title and no checklist items."
    )]
    NothingRecognised,
    #[error("The plan has no heading to use as its title (start it with '# PHASE-NN: …').")]
    NoTitle,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Objectives,
    Criteria,
    Other,
}

/// The section a heading opens, when the heading is about objectives or criteria itself
/// ("Objectives", "Primary Goals", "Success Criteria", "Definition of Done"): a heading that
/// merely mentions the word ("Tasks toward the uptime goal") opens no such section.
fn section_of(heading: &str) -> Option<Section> {
    let h = heading.to_lowercase();
    let words: Vec<&str> = h
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let short = words.len() <= 4;
    let leads_with = |names: &[&str]| words.iter().take(2).any(|w| names.contains(w));
    if short && leads_with(&["objective", "objectives", "goal", "goals"]) {
        Some(Section::Objectives)
    } else if (short && words.contains(&"criteria")) || h.contains("definition of done") {
        Some(Section::Criteria)
    } else {
        None
    }
}

/// An open list item while its events stream past.
struct ItemFrame {
    task: Option<bool>,
    text: String,
    /// Where the item goes in reading order: nested items end before their parent does.
    position: usize,
}

#[derive(Default)]
struct Reader {
    draft: PlanDraft,
    /// (level, text) of the headings in force.
    headings: Vec<(HeadingLevel, String)>,
    first_heading: Option<String>,
    heading_text: Option<(HeadingLevel, String)>,
    items: Vec<ItemFrame>,
    paragraph: Option<String>,
    table_row: Option<Vec<String>>,
    cell: Option<String>,
    plain_bullets_skipped: usize,
    items_cut: usize,
    /// The title named the phase: numbers mentioned elsewhere do not override it.
    number_from_title: bool,
}

/// Reads a plan. Never panics; refuses only input it cannot use at all.
pub fn parse_plan(input: &[u8]) -> Result<PlanDraft, ImportError> {
    if input.len() > MAX_PLAN_BYTES {
        return Err(ImportError::TooLarge(input.len()));
    }
    parse_unbounded(input)
}

/// [`parse_plan`] without the size limit (the limit is a policy of the edges, not of parsing).
pub fn parse_unbounded(input: &[u8]) -> Result<PlanDraft, ImportError> {
    if input.contains(&0) {
        return Err(ImportError::NotText);
    }
    let (decoded, legacy_lines) = mojibake::decode(input);
    let mut notes = Vec::new();
    if legacy_lines > 0 {
        notes.push(format!(
            "{legacy_lines} line(s) were not UTF-8 and were read as Windows-1252."
        ));
    }
    let (text, repaired) = mojibake::repair(&decoded);
    if repaired > 0 {
        notes.push(format!(
            "{repaired} line(s) had UTF-8 read as Windows-1252 or Mac Roman (e.g. 'âœ…' or '‚úÖ' for '✅') and were repaired."
        ));
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    if controls * 20 > text.chars().count() {
        return Err(ImportError::NotText);
    }
    let mut reader = Reader::default();
    reader.draft.notes = notes;
    let options =
        Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(text, options) {
        reader.event(event);
    }
    reader.finish()
}

impl Reader {
    fn event(&mut self, event: Event) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.heading_text = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::Start(Tag::Item) => self.items.push(ItemFrame {
                task: None,
                text: String::new(),
                position: self.draft.items.len(),
            }),
            Event::End(TagEnd::Item) => self.end_item(),
            Event::TaskListMarker(checked) => {
                if let Some(top) = self.items.last_mut() {
                    top.task = Some(checked);
                }
            }
            Event::Start(Tag::Paragraph) if self.items.is_empty() => {
                self.paragraph = Some(String::new());
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some(p) = self.paragraph.take() {
                    for line in p.lines() {
                        self.key_value(line);
                    }
                } else if let Some(top) = self.items.last_mut() {
                    top.text.push('\n');
                }
            }
            Event::Start(Tag::TableRow | Tag::TableHead) => self.table_row = Some(Vec::new()),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                if let Some(row) = self.table_row.take()
                    && row.len() >= 2
                {
                    self.key_value(&format!("{}: {}", row[0], row[1]));
                }
            }
            Event::Start(Tag::TableCell) => self.cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                if let (Some(cell), Some(row)) = (self.cell.take(), self.table_row.as_mut()) {
                    row.push(cell.trim().to_string());
                }
            }
            Event::Text(t) | Event::Code(t) => self.push_text(&t),
            Event::SoftBreak | Event::HardBreak => self.push_text("\n"),
            _ => {}
        }
    }

    /// Text goes to the innermost thing being read: a heading, a table cell, an item, a paragraph.
    fn push_text(&mut self, text: &str) {
        if let Some((_, h)) = self.heading_text.as_mut() {
            h.push_str(text);
        } else if let Some(cell) = self.cell.as_mut() {
            cell.push_str(text);
        } else if let Some(top) = self.items.last_mut() {
            top.text.push_str(text);
        } else if let Some(p) = self.paragraph.as_mut() {
            p.push_str(text);
        }
    }

    fn end_heading(&mut self) {
        let Some((level, raw)) = self.heading_text.take() else {
            return;
        };
        let text = clean_heading(&raw);
        if text.is_empty() {
            // "#" alone or a heading of emoji only: nothing to call a title or a section.
            return;
        }
        if self.first_heading.is_none() {
            self.first_heading = Some(text.clone());
        }
        if level == HeadingLevel::H1 && self.draft.title.is_empty() {
            if let Some(number) = phase_number(&text) {
                self.draft.number = Some(number);
                self.number_from_title = true;
            }
            self.draft.title = text;
            return;
        }
        if self.draft.number.is_none() {
            self.draft.number = phase_number(&text);
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        self.headings.push((level, text));
    }

    /// The section of the innermost heading: a list belongs to the heading right above it, not
    /// to every heading further up.
    fn section(&self) -> Section {
        self.headings
            .last()
            .and_then(|(_, h)| section_of(h))
            .unwrap_or(Section::Other)
    }

    fn end_item(&mut self) {
        let Some(frame) = self.items.pop() else {
            return;
        };
        let depth = u8::try_from(self.items.len()).unwrap_or(u8::MAX);
        let lines: Vec<&str> = frame.text.lines().map(str::trim).collect();
        let mut text = lines
            .iter()
            .filter(|l| !l.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if text.chars().count() > MAX_ITEM_CHARS {
            text = text.chars().take(MAX_ITEM_CHARS).collect::<String>() + "…";
            self.items_cut += 1;
        }
        match frame.task {
            Some(checked) => {
                if text.is_empty() {
                    return;
                }
                self.draft.items.insert(
                    frame.position,
                    PlanItem {
                        headings: self.headings.iter().map(|(_, h)| h.clone()).collect(),
                        text,
                        checked,
                        depth,
                    },
                );
            }
            None => {
                let mut used = false;
                for line in &lines {
                    used |= self.key_value(line);
                }
                if used || text.is_empty() {
                    return;
                }
                // Only the section's own list counts: bullets nested under an objective are
                // its details, not objectives of their own.
                match (self.section(), depth) {
                    (Section::Objectives, 0) => self.draft.objectives.push(text),
                    (Section::Criteria, 0) => self.draft.criteria.push(text),
                    _ => self.plain_bullets_skipped += 1,
                }
            }
        }
    }

    /// Applies a `Key: value` line when the key is one the importer knows; says whether it did.
    fn key_value(&mut self, line: &str) -> bool {
        let Some((key, value)) = line.split_once(':') else {
            return false;
        };
        let key = normalise_key(key);
        let value = value.trim();
        match key.as_str() {
            // Only a label that says grade sets the grade ("Target: 40% faster" is not one), and
            // the first such label wins: plans restate their target further down.
            "target grade" | "target score" | "grade target" => {
                if self.draft.target_grade.is_some() {
                    return true;
                }
                match parse_grade(value) {
                    Some(g) => self.draft.target_grade = Some(g),
                    None => self.draft.notes.push(format!(
                        "The target grade '{value}' has no number of points out of 100; it was not imported."
                    )),
                }
                true
            }
            "current grade" | "current score" | "starting grade" | "baseline grade"
            | "grade verified" | "verified grade" => {
                if self.draft.claimed_grade.is_none() {
                    self.draft.claimed_grade = parse_grade(value);
                }
                true
            }
            "start" | "start date" | "starts" | "started" | "begins" => {
                self.draft.starts_on = dates_in(value).first().copied().or(self.draft.starts_on);
                true
            }
            "due" | "due date" | "end" | "end date" | "deadline" | "target date"
            | "completion date" => {
                self.draft.due_on = dates_in(value).first().copied().or(self.draft.due_on);
                true
            }
            "dates" | "timeline" | "duration" | "schedule" | "week" | "weeks" | "sprint"
            | "period" | "window" => {
                let dates = dates_in(value);
                if let Some(first) = dates.first() {
                    self.draft.starts_on = Some(*first);
                }
                if dates.len() > 1 {
                    self.draft.due_on = dates.last().copied();
                }
                !dates.is_empty()
            }
            "phase" | "phase number" | "phase id" => {
                if !self.number_from_title
                    && let Some(n) = phase_number(&format!("phase {value}"))
                {
                    self.draft.number = Some(n);
                }
                true
            }
            _ => false,
        }
    }

    fn finish(mut self) -> Result<PlanDraft, ImportError> {
        if self.draft.title.is_empty() {
            match self.first_heading.take() {
                Some(h) => self.draft.title = h,
                None if self.draft.items.is_empty() => return Err(ImportError::NothingRecognised),
                None => return Err(ImportError::NoTitle),
            }
        }
        if self.plain_bullets_skipped > 0 {
            self.draft.notes.push(format!(
                "{} plain bullet point(s) outside Objectives and Success criteria were not imported (only '- [ ]' items become deliverables).",
                self.plain_bullets_skipped
            ));
        }
        if self.items_cut > 0 {
            self.draft.notes.push(format!(
                "{} checklist item(s) were longer than {MAX_ITEM_CHARS} characters and were cut.",
                self.items_cut
            ));
        }
        if self.draft.number.is_none() {
            self.draft
                .notes
                .push("No phase number was found (e.g. 'PHASE-03' in the title).".into());
        }
        Ok(self.draft)
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
