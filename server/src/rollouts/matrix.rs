//! The evaluation matrix's arithmetic: weights (whole percents summing to 100), scores (0–10),
//! and each candidate's weighted total, exact in tenths of a point.

/// A candidate's weighted total out of 100, held in tenths so it is exact (Σ weight × score).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Total(pub u32);

impl std::fmt::Display for Total {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// A score of one candidate on one criterion: a whole number from 0 to 10.
pub fn parse_score(text: &str) -> Result<u8, String> {
    let text = text.trim();
    match text.parse::<u8>() {
        Ok(n) if n <= 10 => Ok(n),
        _ => Err(format!(
            "'{text}' is not a score: give a whole number from 0 to 10."
        )),
    }
}

/// Weights as whole percents, one per criterion, that must sum to exactly 100.
pub fn parse_weights(fields: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let mut weights = Vec::with_capacity(fields.len());
    for (criterion, text) in fields {
        let text = text.trim();
        match text.parse::<u8>() {
            Ok(n) if n <= 100 => weights.push(n),
            _ => {
                return Err(format!(
                    "The weight of '{criterion}' ('{text}') is not a whole percent from 0 to 100."
                ));
            }
        }
    }
    let sum: u32 = weights.iter().map(|w| u32::from(*w)).sum();
    if sum != 100 {
        return Err(format!("The weights sum to {sum}, not 100."));
    }
    Ok(weights)
}

/// Σ weight × score over the criteria a candidate was scored on; unscored criteria add nothing.
/// `weights[i]` belongs to criterion `i`, `scores[i]` is the candidate's score on it, if any.
pub fn total(weights: &[u8], scores: &[Option<u8>]) -> Total {
    Total(
        weights
            .iter()
            .zip(scores)
            .map(|(w, s)| u32::from(*w) * u32::from(s.unwrap_or(0)))
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_exact_tenths() {
        let weights = [25, 10, 15, 15, 15, 10, 10];
        let odoo = [
            Some(8),
            Some(6),
            Some(7),
            Some(5),
            Some(7),
            Some(6),
            Some(9),
        ];
        let erpnext = [
            Some(7),
            Some(7),
            Some(6),
            Some(8),
            Some(7),
            Some(9),
            Some(7),
        ];
        // 200 + 60 + 105 + 75 + 105 + 60 + 90 = 695 tenths.
        assert_eq!(total(&weights, &odoo), Total(695));
        assert_eq!(total(&weights, &odoo).to_string(), "69.5");
        // 175 + 70 + 90 + 120 + 105 + 90 + 70 = 720 tenths.
        assert_eq!(total(&weights, &erpnext).to_string(), "72.0");
        assert_eq!(total(&[25, 75], &[Some(1), Some(0)]).to_string(), "2.5");
        assert_eq!(total(&weights, &[Some(10); 7]).to_string(), "100.0");
        assert_eq!(total(&weights, &[None; 7]).to_string(), "0.0");
        assert_eq!(
            total(&weights, &[Some(10), None, None, None, None, None, None]).to_string(),
            "25.0"
        );
    }

    #[test]
    fn weights_must_sum_to_one_hundred() {
        assert_eq!(
            parse_weights(&[("a", "60"), ("b", " 40 ")]),
            Ok(vec![60, 40])
        );
        assert_eq!(
            parse_weights(&[("a", "60"), ("b", "30")]),
            Err("The weights sum to 90, not 100.".into())
        );
        assert_eq!(
            parse_weights(&[("a", "60"), ("b", "50")]),
            Err("The weights sum to 110, not 100.".into())
        );
        assert!(
            parse_weights(&[("a", "12.5"), ("b", "87.5")])
                .unwrap_err()
                .contains("'a'")
        );
        assert!(parse_weights(&[("a", "-5"), ("b", "105")]).is_err());
        assert!(parse_weights(&[("a", "x")]).is_err());
    }

    #[test]
    fn scores_are_whole_numbers_from_zero_to_ten() {
        assert_eq!(parse_score("0"), Ok(0));
        assert_eq!(parse_score(" 10 "), Ok(10));
        for bad in ["11", "-1", "7.5", "", "seven"] {
            assert!(parse_score(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_score("11"),
            Err("'11' is not a score: give a whole number from 0 to 10.".into())
        );
    }
}
