//! Who is signed in, and what their role lets them do.

use serde::{Deserialize, Serialize};

/// The portal's roles, from least to most powerful; a higher role can do what a lower one can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Management: reads grades, trends and the inventory.
    Viewer,
    /// Documentation editors: claim and verify docs.
    Editor,
    /// The owner: signs off phases, records assessments, runs rollouts, refreshes.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// The signed-in person as the page shell shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    pub role: Option<Role>,
    /// Set for the local demo sign-in, so every page says it is a demo.
    pub demo: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_roles_include_lower_ones() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor));
        assert!(!Role::Editor.allows(Role::Admin));
        assert_eq!(Role::parse("editor"), Some(Role::Editor));
        assert_eq!(Role::parse("root"), None);
    }
}
