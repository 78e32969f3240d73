//! Sign-in settings: the OpenID Connect client (Authelia), group names, session lifetimes,
//! and the local demo sign-in.

use std::time::Duration;

use serde::Deserialize;

use super::raw::*;
use super::{ConfigError, Secret};

#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub oidc: Option<OidcSettings>,
    /// The local demo sign-in (pick a role); only with no issuer and a loopback listener.
    pub demo_sign_in: bool,
    pub groups: RoleGroups,
    /// A session unused for this long ends (OWASP ASVS L2: 1 h is a sensible default).
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active (ASVS L2: 12 h).
    pub session_absolute: Duration,
    /// How often a session in use has its idle expiry moved forward in the store. Reads do not
    /// otherwise write the session, so without this an active reader would be signed out one
    /// idle period after sign-in; with it, a session costs at most one write a minute.
    pub session_touch_every: Duration,
    /// Sign-offs need an authentication at most this old, else the provider is asked again.
    pub reauth_max_age: Duration,
}

#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Exactly as registered with the provider, e.g. https://audit.quietly.online/auth/callback.
    pub redirect_url: String,
    /// The provider's own sign-out page (Authelia: https://auth.quietly.online/logout), offered
    /// after the portal's sign-out. Authelia has no RP-initiated logout, so the portal cannot
    /// end the single sign-on session itself; it can only point there.
    pub sign_out_url: Option<String>,
}

/// The `groups` claim values that map to each role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGroups {
    pub admin: String,
    pub editor: String,
    pub viewer: String,
}

impl Default for RoleGroups {
    fn default() -> Self {
        Self {
            admin: "audit-admins".into(),
            editor: "audit-editors".into(),
            viewer: "audit-viewers".into(),
        }
    }
}

/// The raw values, before validation.
#[derive(Debug, Default)]
pub struct RawAuth {
    pub issuer: Option<(String, String)>,
    pub client_id: Option<(String, String)>,
    pub client_secret: Option<(String, String)>,
    pub redirect_url: Option<(String, String)>,
    pub sign_out_url: Option<(String, String)>,
    pub demo_sign_in: Option<(String, bool)>,
    pub groups: RoleGroups,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    pub reauth_max_age_minutes: u64,
}

impl RawAuth {
    pub fn resolve(self, public_url: &str) -> Result<AuthSettings, ConfigError> {
        let oidc = match self.issuer {
            None => None,
            Some((key, issuer)) => {
                let issuer = issuer.trim().trim_end_matches('/').to_string();
                if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                    return Err(ConfigError::new(
                        key,
                        format!(
                            "'{issuer}' must be an http(s) URL such as https://auth.quietly.online"
                        ),
                    ));
                }
                let (id_key, client_id) = self.client_id.ok_or_else(|| {
                    ConfigError::new(
                        "AUDIT_OIDC_CLIENT_ID",
                        "required when an issuer is configured",
                    )
                })?;
                if client_id.trim().is_empty() {
                    return Err(ConfigError::new(id_key, "must not be empty"));
                }
                let (_, secret) = self.client_secret.ok_or_else(|| {
                    ConfigError::new(
                        "AUDIT_OIDC_CLIENT_SECRET",
                        "required when an issuer is configured",
                    )
                })?;
                let redirect_url = match self.redirect_url {
                    Some((key, url)) => {
                        if !(url.starts_with("https://") || url.starts_with("http://")) {
                            return Err(ConfigError::new(
                                key,
                                format!("'{url}' must be an absolute http(s) URL"),
                            ));
                        }
                        url
                    }
                    None => format!("{public_url}/auth/callback"),
                };
                let sign_out_url = match self.sign_out_url {
                    Some((key, url)) => {
                        let url = url.trim().to_string();
                        if !(url.starts_with("https://") || url.starts_with("http://")) {
                            return Err(ConfigError::new(
                                key,
                                format!(
                                    "'{url}' must be an absolute http(s) URL such as https://auth.quietly.online/logout"
                                ),
                            ));
                        }
                        Some(url)
                    }
                    None => None,
                };
                Some(OidcSettings {
                    issuer,
                    client_id: client_id.trim().into(),
                    client_secret: Secret::new(secret),
                    redirect_url,
                    sign_out_url,
                })
            }
        };
        let demo_sign_in = match self.demo_sign_in {
            Some((key, true)) if oidc.is_some() => {
                return Err(ConfigError::new(
                    key,
                    "the local demo sign-in is off whenever an issuer is configured; remove one of them",
                ));
            }
            Some((_, on)) => on,
            None => false,
        };
        let g = &self.groups;
        if [&g.admin, &g.editor, &g.viewer]
            .iter()
            .any(|n| n.trim().is_empty())
            || g.admin == g.editor
            || g.admin == g.viewer
            || g.editor == g.viewer
        {
            return Err(ConfigError::new(
                "AUDIT_GROUP_*",
                "the admin, editor and viewer groups must be three different, non-empty names",
            ));
        }
        Ok(AuthSettings {
            oidc,
            demo_sign_in,
            groups: self.groups,
            session_idle: Duration::from_secs(self.session_idle_minutes * 60),
            session_absolute: Duration::from_secs(self.session_absolute_hours * 3600),
            session_touch_every: Duration::from_secs(60),
            reauth_max_age: Duration::from_secs(self.reauth_max_age_minutes * 60),
        })
    }
}

impl AuthSettings {
    /// Whether `serve` can let anyone in; checked at start, not by `check-config` or `migrate`.
    /// `public_url_is_loopback`: whether the public URL names this machine (`127.0.0.1`,
    /// `localhost`, `[::1]`), which the demo needs as much as a loopback listener.
    pub fn check_usable(
        &self,
        listens_on_loopback_only: bool,
        public_url_is_loopback: bool,
    ) -> Result<(), ConfigError> {
        if self.oidc.is_none() && !self.demo_sign_in {
            return Err(ConfigError::new(
                "AUDIT_OIDC_ISSUER",
                "sign-in is not configured: set AUDIT_OIDC_ISSUER, AUDIT_OIDC_CLIENT_ID and AUDIT_OIDC_CLIENT_SECRET (Authelia), or AUDIT_DEMO_SIGN_IN=true for a local demo",
            ));
        }
        if self.demo_sign_in && !listens_on_loopback_only {
            return Err(ConfigError::new(
                "AUDIT_DEMO_SIGN_IN",
                "the local demo sign-in lets anyone pick a role, so it only runs when AUDIT_LISTEN is a loopback address",
            ));
        }
        if self.demo_sign_in && !public_url_is_loopback {
            return Err(ConfigError::new(
                "AUDIT_DEMO_SIGN_IN",
                "the local demo sign-in only runs when AUDIT_PUBLIC_URL is a loopback origin such as http://127.0.0.1:3000 (a public name would put the demo behind a proxy)",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuthFile {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_url: Option<String>,
    sign_out_url: Option<String>,
    demo_sign_in: Option<bool>,
    admin_group: Option<String>,
    editor_group: Option<String>,
    viewer_group: Option<String>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    reauth_max_age_minutes: Option<u64>,
}

pub(super) fn resolve_auth(env: &Env, raw: RawAuthFile) -> Result<RawAuth, ConfigError> {
    let defaults = RoleGroups::default();
    let group = |env_key: &str, file_key: &str, value: Option<String>, default: String| {
        text(env, env_key, file_key, value)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or(default)
    };
    // The secret may come from a file (Docker/compose secrets), so it never sits in the environment.
    let client_secret = match env.get("AUDIT_OIDC_CLIENT_SECRET_FILE") {
        Some(path) => {
            let secret = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "AUDIT_OIDC_CLIENT_SECRET_FILE",
                    format!("cannot read {path}: {e}"),
                )
            })?;
            Some((
                "AUDIT_OIDC_CLIENT_SECRET_FILE".to_string(),
                secret.trim().to_string(),
            ))
        }
        None => text(
            env,
            "AUDIT_OIDC_CLIENT_SECRET",
            "auth.client_secret",
            raw.client_secret,
        ),
    };
    let demo_sign_in = match pick(
        env,
        "AUDIT_DEMO_SIGN_IN",
        "auth.demo_sign_in",
        raw.demo_sign_in,
    ) {
        None => None,
        Some((key, Ok(text))) => Some((key.clone(), parse_bool(&key, &text)?)),
        Some((key, Err(v))) => Some((key, v)),
    };
    Ok(RawAuth {
        issuer: text(env, "AUDIT_OIDC_ISSUER", "auth.issuer", raw.issuer),
        client_id: text(env, "AUDIT_OIDC_CLIENT_ID", "auth.client_id", raw.client_id),
        client_secret,
        redirect_url: text(
            env,
            "AUDIT_OIDC_REDIRECT_URL",
            "auth.redirect_url",
            raw.redirect_url,
        ),
        sign_out_url: text(
            env,
            "AUDIT_OIDC_SIGN_OUT_URL",
            "auth.sign_out_url",
            raw.sign_out_url,
        ),
        demo_sign_in,
        groups: RoleGroups {
            admin: group(
                "AUDIT_GROUP_ADMIN",
                "auth.admin_group",
                raw.admin_group,
                defaults.admin,
            ),
            editor: group(
                "AUDIT_GROUP_EDITOR",
                "auth.editor_group",
                raw.editor_group,
                defaults.editor,
            ),
            viewer: group(
                "AUDIT_GROUP_VIEWER",
                "auth.viewer_group",
                raw.viewer_group,
                defaults.viewer,
            ),
        },
        session_idle_minutes: number(
            env,
            "AUDIT_SESSION_IDLE_MINUTES",
            "auth.session_idle_minutes",
            raw.session_idle_minutes,
            60,
            1..=24 * 60,
            "a number of minutes",
        )?,
        session_absolute_hours: number(
            env,
            "AUDIT_SESSION_ABSOLUTE_HOURS",
            "auth.session_absolute_hours",
            raw.session_absolute_hours,
            12,
            1..=24 * 30,
            "a number of hours",
        )?,
        reauth_max_age_minutes: number(
            env,
            "AUDIT_REAUTH_MAX_AGE_MINUTES",
            "auth.reauth_max_age_minutes",
            raw.reauth_max_age_minutes,
            5,
            1..=24 * 60,
            "a number of minutes",
        )?,
    })
}
