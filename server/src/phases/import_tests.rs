//! The importer on plans written in different styles, and on arbitrary input.

use super::*;
use time::macros::date;

fn item(headings: &[&str], text: &str, checked: bool, depth: u8) -> PlanItem {
    PlanItem {
        headings: headings.iter().map(|h| h.to_string()).collect(),
        text: text.into(),
        checked,
        depth,
    }
}

fn parse(text: &str) -> PlanDraft {
    parse_plan(text.as_bytes()).expect("the plan parses")
}

const EMOJI_PLAN: &str = "\
# 🚀 PHASE-02: Monitoring that pages someone

**Target Grade**: 93/100
**Start Date**: 2026-10-01
**Due**: 2026-10-15 (two weeks)

## 🎯 Objectives
- Alerts reach a person within five minutes
- *Every* host scraped by Prometheus

## ✅ Deliverables
### 📊 Dashboards
- [x] Grafana dashboard for **Traefik**
- [ ] Loki retention set to `30d`

### 🔔 Alerting
- [ ] Alertmanager routes to [ntfy](https://ntfy.example)

## 🏁 Success Criteria
- No unscraped targets for 7 days
- [ ] Verification report written
";

#[test]
fn emoji_headings_and_bold_labels() {
    let plan = parse(EMOJI_PLAN);
    assert_eq!(plan.title, "PHASE-02: Monitoring that pages someone");
    assert_eq!(plan.number.as_deref(), Some("PHASE-02"));
    assert_eq!(plan.target_grade, Some(9_300));
    assert_eq!(plan.starts_on, Some(date!(2026 - 10 - 01)));
    assert_eq!(plan.due_on, Some(date!(2026 - 10 - 15)));
    assert_eq!(
        plan.objectives,
        vec![
            "Alerts reach a person within five minutes",
            "Every host scraped by Prometheus"
        ]
    );
    assert_eq!(
        plan.items,
        vec![
            item(
                &["Deliverables", "Dashboards"],
                "Grafana dashboard for Traefik",
                true,
                0
            ),
            item(
                &["Deliverables", "Dashboards"],
                "Loki retention set to 30d",
                false,
                0
            ),
            item(
                &["Deliverables", "Alerting"],
                "Alertmanager routes to ntfy",
                false,
                0
            ),
            item(
                &["Success Criteria"],
                "Verification report written",
                false,
                0
            ),
        ]
    );
    assert_eq!(plan.criteria, vec!["No unscraped targets for 7 days"]);
}

const NESTED_PLAN: &str = "\
# Phase 4 — Backups

Phase: 4
Timeline: 2026-11-01 → 2026-11-30

## Work
1. [ ] Restic on master
   - [x] repository initialised
   - [ ] nightly timer
     - [ ] alert on failure
2. [x] Restic on lady

- a plain bullet that is not a deliverable
";

#[test]
fn nested_task_lists_keep_their_depth() {
    let plan = parse(NESTED_PLAN);
    assert_eq!(plan.title, "Phase 4 — Backups");
    assert_eq!(plan.number.as_deref(), Some("PHASE-04"));
    assert_eq!(plan.starts_on, Some(date!(2026 - 11 - 01)));
    assert_eq!(plan.due_on, Some(date!(2026 - 11 - 30)));
    assert_eq!(plan.target_grade, None);
    let texts: Vec<(&str, bool, u8)> = plan
        .items
        .iter()
        .map(|i| (i.text.as_str(), i.checked, i.depth))
        .collect();
    assert_eq!(
        texts,
        vec![
            ("Restic on master", false, 0),
            ("repository initialised", true, 1),
            ("nightly timer", false, 1),
            ("alert on failure", false, 2),
            ("Restic on lady", true, 0),
        ]
    );
    assert!(plan.items.iter().all(|i| i.headings == vec!["Work"]));
    assert!(
        plan.notes.iter().any(|n| n.contains("1 plain bullet")),
        "{:?}",
        plan.notes
    );
}

const TABLE_PLAN: &str = "\
# Hardening

| Field | Value |
|---|---|
| Phase | PHASE-07 |
| Target grade | 88.5 / 100 |
| Deadline | 2027-01-31 |

## Tasks
- [ ] Remove the Docker socket from portainer
- [X] Close port 8080
";

#[test]
fn a_table_of_fields() {
    let plan = parse(TABLE_PLAN);
    assert_eq!(plan.title, "Hardening");
    assert_eq!(plan.number.as_deref(), Some("PHASE-07"));
    assert_eq!(plan.target_grade, Some(8_850));
    assert_eq!(plan.due_on, Some(date!(2027 - 01 - 31)));
    assert_eq!(
        plan.items,
        vec![
            item(
                &["Tasks"],
                "Remove the Docker socket from portainer",
                false,
                0
            ),
            item(&["Tasks"], "Close port 8080", true, 0),
        ]
    );
}

#[test]
fn mojibake_is_repaired_and_reported() {
    let mangled = "# PHASE-09 ðŸš€ Launch\n\n## âœ… Done\n- [x] CafÃ© menu published\n";
    let plan = parse(mangled);
    assert_eq!(plan.title, "PHASE-09 🚀 Launch");
    assert_eq!(
        plan.items,
        vec![item(&["Done"], "Café menu published", true, 0)]
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("3 line(s)")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn lines_that_are_not_utf8_are_read_as_windows_1252() {
    let mut bytes = b"# PHASE-10 Bytes\n- [ ] caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" order\n");
    let plan = parse_plan(&bytes).expect("parses");
    assert_eq!(plan.items[0].text, "café order");
    assert!(
        plan.notes
            .iter()
            .any(|n| n == "1 line(s) were not UTF-8 and were read as Windows-1252."),
        "{:?}",
        plan.notes
    );
}

#[test]
fn unusable_input_is_refused_with_a_reason() {
    assert_eq!(parse_plan(b""), Err(ImportError::Empty));
    assert_eq!(parse_plan(b"  \n\n\t "), Err(ImportError::Empty));
    assert_eq!(parse_plan(b"\x00\x01binary"), Err(ImportError::NotText));
    assert_eq!(
        parse_plan(b"just some prose, nothing else"),
        Err(ImportError::NothingRecognised)
    );
    assert_eq!(parse_plan(b"- [ ] a task"), Err(ImportError::NoTitle));
    let large = vec![b'a'; MAX_PLAN_BYTES + 1];
    assert_eq!(
        parse_plan(&large),
        Err(ImportError::TooLarge(MAX_PLAN_BYTES + 1))
    );
}

#[test]
fn a_five_megabyte_plan_parses_in_one_pass() {
    let mut text = String::from("# PHASE-99 Huge\n");
    let mut n = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("## Section {n}\n- [ ] item {n} with some words\n"));
        n += 1;
    }
    let plan = parse_unbounded(text.as_bytes()).expect("parses");
    assert_eq!(plan.items.len(), n);
    assert_eq!(
        plan.items[n - 1].headings,
        vec![format!("Section {}", n - 1)]
    );
    // The edge refuses it: a plan this size is a mistake.
    assert!(matches!(
        parse_plan(text.as_bytes()),
        Err(ImportError::TooLarge(_))
    ));
}

#[test]
fn phase_numbers_in_many_spellings() {
    assert_eq!(
        phase_number("PHASE-01 Foundation").as_deref(),
        Some("PHASE-01")
    );
    assert_eq!(phase_number("Phase 3: DR").as_deref(), Some("PHASE-03"));
    assert_eq!(phase_number("phase_12").as_deref(), Some("PHASE-12"));
    assert_eq!(phase_number("phased rollout"), None);
    assert_eq!(
        phase_number("Phases and phase #5").as_deref(),
        Some("PHASE-05")
    );
}

#[test]
fn grades_and_dates_are_read_strictly() {
    assert_eq!(parse_grade("93/100"), Some(9_300));
    assert_eq!(parse_grade("A (91.25)"), Some(9_125));
    assert_eq!(parse_grade("A+"), None);
    assert_eq!(parse_grade("120"), None);
    assert_eq!(
        dates_in("from 2026-02-30 to 2026-03-01"),
        vec![date!(2026 - 03 - 01)]
    );
    let plan = parse("# PHASE-01 X\n**Target Grade**: A+\n- [ ] t\n");
    assert_eq!(plan.target_grade, None);
    assert!(plan.notes.iter().any(|n| n.contains("'A+'")));
}

/// A small deterministic generator (xorshift): arbitrary input without a fuzzing dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn never_panics_on_arbitrary_input() {
    const PIECES: &[&str] = &[
        "#",
        "# ",
        "\n",
        "- [ ] ",
        "- [x] ",
        "  ",
        "**",
        "*",
        "_",
        "`",
        "|",
        "---",
        ":",
        "> ",
        "1. ",
        "[",
        "](",
        ")",
        "PHASE-",
        "7",
        "2026-13-40",
        "Target Grade:",
        "🎯",
        "Ã",
        "â€",
        "\t",
        "<b>",
        "&amp;",
        "\\",
        "~~",
        "```\n",
        "| a | b |\n|--|--|\n",
    ];
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = (noise.next() % 60) as usize;
        let mut doc = Vec::new();
        for _ in 0..len {
            if noise.next().is_multiple_of(5) {
                // Raw bytes, including invalid UTF-8 and NUL.
                doc.push((noise.next() % 256) as u8);
            } else {
                let piece = PIECES[(noise.next() as usize) % PIECES.len()];
                doc.extend_from_slice(piece.as_bytes());
            }
        }
        if let Ok(plan) = parse_plan(&doc) {
            assert!(!plan.title.is_empty());
            assert!(plan.items.iter().all(|i| !i.text.is_empty()));
        }
    }
}

/// The team's own style after a trip through a Mac tool: emoji and arrows read as Mac Roman.
#[test]
fn mac_roman_mangled_plans_are_repaired_and_their_headings_stripped() {
    let clean = "\
# PHASE-05: Backups you can restore

## 🎯 Objectives
- Nightly dumps → offsite copy

## 📋 Checklist
- [ ] ✅ Restore drill on staging
";
    let mangled: String = clean
        .lines()
        .map(|line| {
            // What a Mac Roman reader makes of each UTF-8 byte, with the Apple logo dropped.
            line.bytes()
                .map(|b| {
                    if b < 0x80 {
                        char::from(b)
                    } else {
                        super::mojibake::tests_support::mac_roman_char(b)
                    }
                })
                .filter(|c| *c != '\u{F8FF}')
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(mangled.contains("üéØ Objectives"), "{mangled}");
    assert!(mangled.contains("‚Üí"), "{mangled}");
    let d = parse(&mangled);
    assert_eq!(d.number.as_deref(), Some("PHASE-05"));
    assert_eq!(d.objectives, vec!["Nightly dumps → offsite copy"]);
    assert_eq!(
        d.items,
        vec![item(
            &["Checklist"],
            "✅ Restore drill on staging",
            false,
            0
        )]
    );
    assert!(
        d.notes.iter().any(|n| n.contains("Mac Roman")),
        "{:?}",
        d.notes
    );
}

/// Weeks with their dates in parentheses, a grade target stated first and a percentage target
/// later, four numbered goals with details under each, and a phase number in the title that the
/// text contradicts.
#[test]
fn the_teams_week_and_target_style_reads_right() {
    let plan = "\
# PHASE-03: Hardening the edge

**Current Grade**: 91/100
**Target Grade**: 93/100 (A)
**Week**: 3-4 (2026-02-17 to 2026-03-02)
**Phase**: builds on Phase 2

## Primary Goals
1. **TLS everywhere**
   - every router on websecure
   - HSTS on
2. **One sign-in**
   - Authelia in front of every admin UI
3. **Quiet logs**
4. **Known owners**
   - an owner label on each container

**Target**: 40% performance improvement

## Notes on the goal of this phase
- we keep this short

## Tasks
- [ ] Move Grafana behind Authelia
";
    let d = parse(plan);
    assert_eq!(
        d.number.as_deref(),
        Some("PHASE-03"),
        "the title's number wins"
    );
    assert_eq!(d.target_grade, Some(9300), "a percentage is never a grade");
    assert_eq!(
        d.claimed_grade,
        Some(9100),
        "the grade the plan claims at its start"
    );
    assert_eq!(d.starts_on, Some(date!(2026 - 02 - 17)));
    assert_eq!(d.due_on, Some(date!(2026 - 03 - 02)));
    assert_eq!(
        d.objectives,
        vec![
            "TLS everywhere",
            "One sign-in",
            "Quiet logs",
            "Known owners"
        ]
    );
    assert_eq!(
        d.items,
        vec![item(&["Tasks"], "Move Grafana behind Authelia", false, 0)]
    );
}

/// Ranges written with words or a dash, and the first grade label winning over a restatement.
#[test]
fn date_ranges_in_other_shapes_and_the_first_grade_label_win() {
    let d = parse(
        "# Phase 7 – Observability\n\nTimeline: from 2026-04-01 to 2026-04-30\n\n\
         Grade target: 88/100\n\n## Later\n\nTarget grade: 95/100\n\n- [ ] Dashboards\n",
    );
    assert_eq!(d.number.as_deref(), Some("PHASE-07"));
    assert_eq!(d.starts_on, Some(date!(2026 - 04 - 01)));
    assert_eq!(d.due_on, Some(date!(2026 - 04 - 30)));
    assert_eq!(d.target_grade, Some(8800));
    let d = parse("# PHASE-08: Costs\n\n**Sprint**: 2026-05-04 – 2026-05-15\n\n- [ ] Budget\n");
    assert_eq!(
        (d.starts_on, d.due_on),
        (Some(date!(2026 - 05 - 04)), Some(date!(2026 - 05 - 15)))
    );
}
