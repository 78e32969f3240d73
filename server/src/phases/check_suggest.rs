//! The check a plan item's own words promise, suggested when the plan is imported.

use super::checks::DeliverableCheck;
use app::model::FindingKind;

/// The check a plan item's own words promise, when they clearly do ("All health checks
/// implemented", "Documentation 50%", "Grade 93/100"): the importer binds it, and the preview
/// says so. Items that only mention a topic suggest nothing.
pub fn suggest(item: &str) -> Option<DeliverableCheck> {
    let text = item.to_lowercase();
    let number_before = |marker: &str| -> Option<u32> {
        let at = text.find(marker)?;
        let digits: String = text[..at]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        crate::grade::rubric::Score::parse(&digits)
            .ok()
            .map(|s| s.hundredths())
    };
    let fleet = |kind: FindingKind| DeliverableCheck::NoFinding {
        kind,
        services: vec![],
    };
    let everywhere = ["all ", "every ", "each ", "everywhere", "across"]
        .iter()
        .any(|w| text.contains(w));
    if text.contains("grade") {
        return number_before("/100").map(DeliverableCheck::Grade);
    }
    if text.contains("documentation") || text.contains("docs") {
        return number_before("%").map(DeliverableCheck::Coverage);
    }
    if !everywhere {
        return None;
    }
    let topics = [
        (
            &["health check", "healthcheck"][..],
            FindingKind::NoHealthcheck,
        ),
        (&["restart polic"][..], FindingKind::NoRestartPolicy),
        (&["memory limit"][..], FindingKind::NoMemoryLimit),
        (&["cpu limit"][..], FindingKind::NoCpuLimit),
        (
            &["behind authelia", "authentication"][..],
            FindingKind::RouteWithoutAuth,
        ),
        (&["tls", "https"][..], FindingKind::RouteWithoutTls),
    ];
    topics
        .iter()
        .find(|(words, _)| words.iter().any(|w| text.contains(w)))
        .map(|(_, kind)| fleet(*kind))
}
