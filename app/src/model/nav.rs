//! The sections of the portal, as shown in the header navigation.

/// A top-level section; every page belongs to exactly one, which the header marks as current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Services,
    Routes,
    Documentation,
    Grades,
    Actions,
    Capacity,
    Phases,
    Rollouts,
    /// Pages outside the navigation (errors, 404).
    None,
}

impl Section {
    /// The navigation, in display order, with the path each entry links to.
    pub const NAV: [(Section, &'static str, &'static str); 9] = [
        (Section::Dashboard, "Dashboard", "/"),
        (Section::Services, "Services", "/services"),
        (Section::Routes, "Routes", "/routes"),
        (Section::Documentation, "Documentation", "/docs"),
        (Section::Grades, "Grades", "/grades"),
        (Section::Actions, "Actions", "/actions"),
        (Section::Capacity, "Capacity", "/capacity"),
        (Section::Phases, "Phases", "/phases"),
        (Section::Rollouts, "Rollouts", "/rollouts"),
    ];
}
