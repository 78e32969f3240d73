//! The weighted rubric and its arithmetic, exact: scores and weights are held in hundredths, the
//! weighted sum is compared with the letter thresholds without rounding, and shown truncated to
//! two decimals, so a displayed grade never claims a letter it does not reach (89.999 shows as
//! 89.99 and is an A, not an A+).

use std::fmt;

/// A category score from 0 to 100, in hundredths (so 72.5 is 7250).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(u32);

impl Score {
    /// Parses "72", "72.5" or "72.50"; anything outside 0–100 or with more decimals is refused.
    pub fn parse(text: &str) -> Result<Score, String> {
        let hundredths = parse_hundredths(text)
            .ok_or_else(|| format!("'{text}' is not a number with at most two decimals"))?;
        if hundredths > 10_000 {
            return Err(format!("{text} is outside 0–100"));
        }
        Ok(Score(hundredths))
    }

    pub fn from_hundredths(h: u32) -> Score {
        Score(h.min(10_000))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A category weight in hundredths of a percent (20% is 2000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight(u32);

impl Weight {
    pub fn parse(text: &str) -> Result<Weight, String> {
        let h = parse_hundredths(text)
            .ok_or_else(|| format!("weight '{text}' is not a number with at most two decimals"))?;
        if h == 0 || h > 10_000 {
            return Err(format!("weight {text} must be more than 0 and at most 100"));
        }
        Ok(Weight(h))
    }

    pub fn percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

fn parse_hundredths(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 5
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<u32>().ok()? * 100 + frac.parse::<u32>().ok()?)
}

/// A weighted total, exact: hundredths of a point times hundredths of a percent, over 10 000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Total(u64);

impl Total {
    /// The points, truncated to hundredths for display.
    pub fn shown(self) -> String {
        let hundredths = self.0 / 10_000;
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }

    /// Hundredths of a point, truncated (what is shown and stored).
    pub fn hundredths_truncated(self) -> u64 {
        self.0 / 10_000
    }

    /// How many hundredths of a point this is above `base`, rounded (0 when not above).
    pub fn hundredths_above(self, base: Total) -> i64 {
        ((self.0.saturating_sub(base.0) + 5_000) / 10_000) as i64
    }

    fn at_least(self, points_hundredths: u32) -> bool {
        self.0 >= u64::from(points_hundredths) * 10_000
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub weight: Weight,
}

/// A letter and the lowest total (in hundredths) that earns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub letter: String,
    pub minimum: Score,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rubric {
    pub categories: Vec<Category>,
    /// Highest first.
    pub thresholds: Vec<Threshold>,
    /// The letter below every threshold.
    pub failing: String,
    /// Letter ceilings whatever the sum says; the defaults until an admin saves others.
    pub caps: Vec<super::caps::Cap>,
}

impl Rubric {
    /// The team's rubric: 20/10/12/15/15/10/8/10 and the letters from A+++ down to C.
    pub fn default_rubric() -> Rubric {
        let categories = [
            ("Availability", "20"),
            ("Reliability", "10"),
            ("Monitoring", "12"),
            ("Security", "15"),
            ("Documentation", "15"),
            ("Backup/DR", "10"),
            ("Change Control", "8"),
            ("Acceptance", "10"),
        ];
        let thresholds = [
            ("A+++", "95"),
            ("A+", "90"),
            ("A", "85"),
            ("A-", "80"),
            ("B+", "75"),
            ("B", "70"),
            ("C+", "65"),
            ("C", "60"),
        ];
        Rubric::new(
            categories
                .iter()
                .map(|(n, w)| (n.to_string(), w.to_string()))
                .collect(),
            thresholds
                .iter()
                .map(|(l, m)| (l.to_string(), m.to_string()))
                .collect(),
            "failing".into(),
        )
        .unwrap_or_else(|e| unreachable!("the default rubric is valid: {e}"))
    }

    /// Validates a rubric as an admin enters it: weights sum to exactly 100, names are unique,
    /// thresholds strictly decrease (no overlap), letters are unique.
    pub fn new(
        categories: Vec<(String, String)>,
        thresholds: Vec<(String, String)>,
        failing: String,
    ) -> Result<Rubric, String> {
        if categories.is_empty() {
            return Err("a rubric needs at least one category".into());
        }
        let mut parsed = vec![];
        for (name, weight) in categories {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err("every category needs a name".into());
            }
            if parsed
                .iter()
                .any(|c: &Category| c.name.eq_ignore_ascii_case(&name))
            {
                return Err(format!("category '{name}' appears twice"));
            }
            parsed.push(Category {
                weight: Weight::parse(&weight).map_err(|e| format!("{name}: {e}"))?,
                name,
            });
        }
        let sum: u32 = parsed.iter().map(|c| c.weight.0).sum();
        if sum != 10_000 {
            return Err(format!(
                "the weights sum to {}.{:02}, not 100",
                sum / 100,
                sum % 100
            ));
        }
        let mut levels: Vec<Threshold> = vec![];
        for (letter, minimum) in thresholds {
            let letter = letter.trim().to_string();
            let minimum = Score::parse(&minimum).map_err(|e| format!("threshold {letter}: {e}"))?;
            if letter.is_empty() {
                return Err("every threshold needs a letter".into());
            }
            if levels.iter().any(|t| t.letter == letter) {
                return Err(format!("letter {letter} appears twice"));
            }
            if let Some(previous) = levels.last()
                && minimum >= previous.minimum
            {
                return Err(format!(
                    "thresholds overlap: {letter} starts at {minimum}, not below {} ({})",
                    previous.minimum, previous.letter
                ));
            }
            levels.push(Threshold { letter, minimum });
        }
        Ok(Rubric {
            categories: parsed,
            thresholds: levels,
            failing: failing.trim().to_string(),
            caps: super::caps::default_caps(),
        })
    }

    /// The same rubric with the caps written in `lines` (see [`super::caps::parse_caps`]).
    pub fn with_caps(mut self, lines: &str) -> Result<Rubric, String> {
        self.caps = super::caps::parse_caps(lines, &self)?;
        Ok(self)
    }

    /// The weighted sum of one score per category, in the rubric's order.
    pub fn total(&self, scores: &[Score]) -> Total {
        Total(
            self.categories
                .iter()
                .zip(scores)
                .map(|(c, s)| u64::from(s.0) * u64::from(c.weight.0))
                .sum(),
        )
    }

    /// The points one score adds with its weight.
    pub fn total_of(&self, score: Score, weight: Weight) -> Total {
        Total(u64::from(score.0) * u64::from(weight.0))
    }

    pub fn letter(&self, total: Total) -> &str {
        self.thresholds
            .iter()
            .find(|t| total.at_least(t.minimum.0))
            .map(|t| t.letter.as_str())
            .unwrap_or(&self.failing)
    }

    /// The letter of a cap: the highest letter at or below `cap`.
    pub fn capped_letter<'a>(&'a self, letter: &'a str, cap: &str) -> &'a str {
        let rank = |l: &str| {
            self.thresholds
                .iter()
                .position(|t| t.letter == l)
                .unwrap_or(self.thresholds.len())
        };
        if rank(letter) < rank(cap) {
            self.thresholds
                .get(rank(cap))
                .map(|t| t.letter.as_str())
                .unwrap_or(&self.failing)
        } else {
            letter
        }
    }
}

/// What closing one category's gap to its target adds: (target − current) × weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub category: String,
    pub current: Score,
    pub target: Score,
    pub gain: Total,
}

/// The gaps, largest gain first (ties in rubric order).
pub fn gaps(rubric: &Rubric, scores: &[Score], targets: &[Score]) -> Vec<Gap> {
    let mut out: Vec<Gap> = rubric
        .categories
        .iter()
        .zip(scores.iter().zip(targets))
        .filter(|(_, (s, t))| t > s)
        .map(|(c, (s, t))| Gap {
            category: c.name.clone(),
            current: *s,
            target: *t,
            gain: Total(u64::from(t.0 - s.0) * u64::from(c.weight.0)),
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.gain));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(values: &[&str]) -> Vec<Score> {
        values.iter().map(|v| Score::parse(v).unwrap()).collect()
    }

    #[test]
    fn the_plans_worked_example() {
        let rubric = Rubric::default_rubric();
        let current = scores(&["60", "85", "70", "75", "55", "65", "90", "40"]);
        let total = rubric.total(&current);
        assert_eq!(
            total.shown(),
            "66.10",
            "the plan wrote 68; the arithmetic says 66.10"
        );
        assert_eq!(rubric.letter(total), "C+");

        let targets = scores(&["95", "95", "90", "90", "85", "85", "95", "85"]);
        let gaps = gaps(&rubric, &current, &targets);
        let added = Total(gaps.iter().map(|g| g.gain.0).sum());
        assert_eq!(added.shown(), "24.05");
        assert_eq!(gaps[0].category, "Availability");
        assert_eq!(
            gaps[0].gain.shown(),
            "7.00",
            "fix availability: +35 × 0.20 = +7.0 points"
        );
        let after = rubric.total(&targets);
        assert_eq!(after.shown(), "90.15");
        assert_eq!(rubric.letter(after), "A+");
    }

    #[test]
    fn thresholds_at_their_edges() {
        let rubric = Rubric::default_rubric();
        let all = |v: &str| vec![Score::parse(v).unwrap(); 8];
        assert_eq!(rubric.letter(rubric.total(&all("90.00"))), "A+");
        assert_eq!(rubric.letter(rubric.total(&all("89.99"))), "A");
        assert_eq!(rubric.letter(rubric.total(&all("59.99"))), "failing");
        // 89.995 cannot be typed (two decimals), but a weighted sum can land between hundredths:
        let mixed = scores(&["90", "89.99", "90", "90", "90", "90", "90", "90"]);
        let total = rubric.total(&mixed);
        assert_eq!(
            total.shown(),
            "89.99",
            "truncated, never rounded up to 90.00"
        );
        assert_eq!(rubric.letter(total), "A");
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(
            Score::parse("100.01").unwrap_err(),
            "100.01 is outside 0–100"
        );
        assert!(Score::parse("-1").is_err());
        assert!(Score::parse("72.555").is_err());
        assert!(Score::parse("abc").is_err());
        let weights = |w: &[&str]| {
            w.iter()
                .enumerate()
                .map(|(i, w)| (format!("c{i}"), w.to_string()))
                .collect::<Vec<_>>()
        };
        let letters = |t: &[(&str, &str)]| {
            t.iter()
                .map(|(l, m)| (l.to_string(), m.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            Rubric::new(weights(&["50", "49.5"]), letters(&[]), "F".into()).unwrap_err(),
            "the weights sum to 99.50, not 100"
        );
        let overlap = Rubric::new(
            weights(&["100"]),
            letters(&[("A", "90"), ("B", "90")]),
            "F".into(),
        )
        .unwrap_err();
        assert!(overlap.contains("overlap"), "{overlap}");
        assert!(
            Rubric::new(
                weights(&["60", "40"]),
                letters(&[("A", "90"), ("B", "80")]),
                "F".into()
            )
            .is_ok()
        );
    }

    #[test]
    fn caps_hold_a_letter_down() {
        let rubric = Rubric::default_rubric();
        assert_eq!(rubric.capped_letter("A+", "C+"), "C+");
        assert_eq!(rubric.capped_letter("C", "B"), "C", "a cap never raises");
    }
}
