//! What the session holds about the signed-in person, and the keys it is stored under.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use app::model::{Role, Viewer};

use crate::config::RoleGroups;

/// Session key of the signed-in person.
pub const USER_KEY: &str = "user";
/// Session key of the CSRF token.
pub const CSRF_KEY: &str = "csrf";
/// Session key of a sign-in in progress (state, nonce, PKCE verifier).
pub const PENDING_KEY: &str = "oidc_pending";

/// A person identified by issuer and subject; names are for display only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub issuer: String,
    pub subject: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub role: Option<Role>,
    /// When the provider last authenticated the person (the ID token's `auth_time`, else sign-in).
    pub auth_time: i64,
    /// When this session was created, for the absolute timeout.
    pub signed_in_at: i64,
}

impl SessionUser {
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or(&self.subject)
    }

    /// The portal itself, for what its own checks record (a deliverable verified by a check).
    pub fn portal() -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Self {
            issuer: "portal".into(),
            subject: "portal".into(),
            username: Some("portal".into()),
            name: Some("the portal's check".into()),
            email: None,
            groups: vec![],
            role: None,
            auth_time: now,
            signed_in_at: now,
        }
    }

    /// The person at the command line (`audit-portal import-phase`), named by `$USER`.
    pub fn command_line() -> Self {
        let name = ["USER", "LOGNAME", "SUDO_USER"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "unknown user".into());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Self {
            issuer: "command-line".into(),
            subject: name.clone(),
            username: Some(name.clone()),
            name: Some(format!("{name} (command line)")),
            email: None,
            groups: vec![],
            role: None,
            auth_time: now,
            signed_in_at: now,
        }
    }

    pub fn is_demo(&self) -> bool {
        self.issuer == super::DEMO_ISSUER
    }

    pub fn viewer(&self) -> Viewer {
        Viewer {
            name: self.display_name().to_string(),
            role: self.role,
            demo: self.is_demo(),
        }
    }

    /// Whether the session outlived the absolute timeout.
    pub fn expired(&self, absolute: std::time::Duration, now: OffsetDateTime) -> bool {
        now.unix_timestamp() - self.signed_in_at > absolute.as_secs() as i64
    }
}

/// The most powerful role any of the person's groups gives, if any.
pub fn role_from_groups(groups: &[String], names: &RoleGroups) -> Option<Role> {
    let has = |name: &str| groups.iter().any(|g| g == name);
    if has(&names.admin) {
        Some(Role::Admin)
    } else if has(&names.editor) {
        Some(Role::Editor)
    } else if has(&names.viewer) {
        Some(Role::Viewer)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_group_wins_and_unknown_groups_give_nothing() {
        let names = RoleGroups::default();
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            role_from_groups(&groups(&["audit-viewers", "audit-admins"]), &names),
            Some(Role::Admin)
        );
        assert_eq!(
            role_from_groups(&groups(&["audit-editors"]), &names),
            Some(Role::Editor)
        );
        assert_eq!(
            role_from_groups(&groups(&["staff", "Audit-Admins"]), &names),
            None,
            "names match exactly"
        );
    }

    #[test]
    fn absolute_timeout() {
        let now = OffsetDateTime::now_utc();
        let user = SessionUser {
            issuer: "i".into(),
            subject: "s".into(),
            username: None,
            name: None,
            email: None,
            groups: vec![],
            role: None,
            auth_time: 0,
            signed_in_at: now.unix_timestamp() - 13 * 3600,
        };
        assert!(user.expired(std::time::Duration::from_secs(12 * 3600), now));
        assert!(!user.expired(std::time::Duration::from_secs(14 * 3600), now));
        assert_eq!(user.display_name(), "s");
    }
}
