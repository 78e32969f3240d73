//! Where notifications go: ntfy topics, Gotify applications and JSON webhooks, declared in the
//! configuration file (`[[notify.channels]]`) or, one per kind, in the environment
//! (`AUDIT_NOTIFY_NTFY_URL`, ...). Their secrets come from files or environment variables and
//! are held in [`Secret`], never shown back; which conditions are sent is chosen on the settings
//! page and kept in the database.

use std::path::PathBuf;

use serde::Deserialize;

use super::raw::Env;
use super::{ConfigError, Secret};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// POST JSON to the server's root with the topic named in it; optional access token.
    Ntfy,
    /// POST JSON to `/message` with the application's token.
    Gotify,
    /// POST JSON to the URL, signed with HMAC-SHA256 over the timestamp and the body.
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Ntfy => "ntfy",
            ChannelKind::Gotify => "gotify",
            ChannelKind::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Option<ChannelKind> {
        [ChannelKind::Ntfy, ChannelKind::Gotify, ChannelKind::Webhook]
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }
}

#[derive(Clone, Debug)]
pub struct Channel {
    /// How the settings page, the queue and the audit trail name it.
    pub name: String,
    pub kind: ChannelKind,
    /// ntfy: the topic's URL (`https://ntfy.example.org/audit`); Gotify: the server's URL;
    /// webhook: where to POST.
    pub url: reqwest::Url,
    /// ntfy's access token, Gotify's application token, or the webhook's signing secret.
    pub secret: Option<Secret>,
}

impl Channel {
    /// The URL as the settings page shows it: scheme and host only, since an ntfy topic or a
    /// webhook path is itself a credential.
    pub fn shown_url(&self) -> String {
        format!(
            "{}://{}{}/…",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default(),
            self.url.port().map(|p| format!(":{p}")).unwrap_or_default()
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct NotifySettings {
    pub channels: Vec<Channel>,
    /// The hour (UTC) at which channels set to a daily digest get it.
    pub digest_hour_utc: u8,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    #[serde(default)]
    channels: Vec<RawChannel>,
    digest_hour_utc: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    name: String,
    kind: String,
    url: String,
    /// A file holding the token or signing secret (a Docker secret).
    secret_file: Option<PathBuf>,
    /// Or the name of an environment variable holding it.
    secret_env: Option<String>,
}

fn channel(env: &Env, key: &str, raw: RawChannel) -> Result<Channel, ConfigError> {
    let name = raw.name.trim().to_string();
    let name_ok = (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !name_ok {
        return Err(ConfigError::new(
            key,
            format!("name '{name}' must be 1 to 40 letters, digits, '-' or '_'"),
        ));
    }
    let kind = ChannelKind::parse(&raw.kind).ok_or_else(|| {
        ConfigError::new(
            key,
            format!("kind '{}' is not one of ntfy, gotify, webhook", raw.kind),
        )
    })?;
    let url = reqwest::Url::parse(raw.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            ConfigError::new(
                key,
                format!("url '{}' must be an http:// or https:// URL", raw.url),
            )
        })?;
    if kind == ChannelKind::Ntfy
        && url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .is_none_or(str::is_empty)
    {
        return Err(ConfigError::new(
            key,
            "an ntfy url names its topic, e.g. https://ntfy.example.org/audit-portal",
        ));
    }
    let secret = match (raw.secret_file, raw.secret_env) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                key,
                "give the secret as secret_file or secret_env, not both",
            ));
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::new(key, format!("cannot read {}: {e}", path.display()))
            })?;
            Some(text.trim().to_string())
        }
        (None, Some(var)) => Some(
            env.get(var.trim())
                .ok_or_else(|| {
                    ConfigError::new(key, format!("the environment variable {var} is not set"))
                })?
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    if secret.as_deref().is_some_and(str::is_empty) {
        return Err(ConfigError::new(key, "the secret is empty"));
    }
    if secret.is_none() && kind != ChannelKind::Ntfy {
        let what = if kind == ChannelKind::Gotify {
            "a Gotify channel needs the application's token"
        } else {
            "a webhook needs a signing secret, so receivers can check what they get"
        };
        return Err(ConfigError::new(
            key,
            format!("{what} (secret_file or secret_env)"),
        ));
    }
    Ok(Channel {
        name,
        kind,
        url,
        secret: secret.map(Secret::new),
    })
}

/// One channel per kind from the environment: `AUDIT_NOTIFY_<KIND>_URL` with
/// `AUDIT_NOTIFY_<KIND>_SECRET_FILE` (or `_SECRET`), named after its kind.
fn from_env(env: &Env) -> Vec<(String, RawChannel)> {
    ["ntfy", "gotify", "webhook"]
        .into_iter()
        .filter_map(|kind| {
            let upper = kind.to_ascii_uppercase();
            let url = env.get(&format!("AUDIT_NOTIFY_{upper}_URL"))?;
            let secret_var = format!("AUDIT_NOTIFY_{upper}_SECRET");
            Some((
                format!("AUDIT_NOTIFY_{upper}_URL"),
                RawChannel {
                    name: kind.into(),
                    kind: kind.into(),
                    url: url.to_string(),
                    secret_file: env
                        .get(&format!("AUDIT_NOTIFY_{upper}_SECRET_FILE"))
                        .map(PathBuf::from),
                    secret_env: env.get(&secret_var).map(|_| secret_var.clone()),
                },
            ))
        })
        .collect()
}

pub(super) fn resolve(env: &Env, raw: RawNotify) -> Result<NotifySettings, ConfigError> {
    let mut channels: Vec<Channel> = vec![];
    let declared = raw
        .channels
        .into_iter()
        .enumerate()
        .map(|(i, c)| (format!("notify.channels[{i}]"), c))
        .chain(from_env(env));
    for (key, c) in declared {
        let channel = channel(env, &key, c)?;
        if channels.iter().any(|c| c.name == channel.name) {
            return Err(ConfigError::new(
                key,
                format!("a channel named '{}' is declared twice", channel.name),
            ));
        }
        channels.push(channel);
    }
    let digest_hour_utc = match env.get("AUDIT_NOTIFY_DIGEST_HOUR_UTC") {
        Some(h) => h
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|h| *h < 24)
            .ok_or_else(|| {
                ConfigError::new(
                    "AUDIT_NOTIFY_DIGEST_HOUR_UTC",
                    format!("'{h}' is not an hour from 0 to 23"),
                )
            })?,
        None => match raw.digest_hour_utc {
            Some(h) if h < 24 => h,
            Some(h) => {
                return Err(ConfigError::new(
                    "notify.digest_hour_utc",
                    format!("{h} is not an hour from 0 to 23"),
                ));
            }
            None => 8,
        },
    };
    Ok(NotifySettings {
        channels,
        digest_hour_utc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str, url: &str, secret_env: Option<&str>) -> RawChannel {
        RawChannel {
            name: "ops".into(),
            kind: kind.into(),
            url: url.into(),
            secret_file: None,
            secret_env: secret_env.map(Into::into),
        }
    }

    #[test]
    fn channels_need_what_their_kind_needs() {
        let vars = vec![("HOOK_SECRET".to_string(), "s3cret".to_string())];
        let env = Env(&vars);
        let hook = channel(
            &env,
            "c",
            raw(
                "webhook",
                "https://hooks.example.org/x",
                Some("HOOK_SECRET"),
            ),
        )
        .unwrap();
        assert_eq!(hook.secret.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(format!("{:?}", hook.secret), "Some([redacted])");
        assert_eq!(hook.shown_url(), "https://hooks.example.org/…");
        for (bad, needle) in [
            (
                raw("webhook", "https://hooks.example.org/x", None),
                "signing secret",
            ),
            (raw("gotify", "https://gotify.example.org", None), "token"),
            (raw("ntfy", "https://ntfy.example.org/", None), "topic"),
            (raw("ntfy", "ftp://ntfy.example.org/t", None), "http"),
            (raw("slack", "https://x.example.org/t", None), "kind"),
            (
                raw("webhook", "https://x.example.org/t", Some("UNSET")),
                "UNSET",
            ),
        ] {
            let e = channel(&env, "c", bad).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
        assert!(
            channel(
                &env,
                "c",
                raw("ntfy", "https://ntfy.example.org/audit", None)
            )
            .is_ok()
        );
    }

    #[test]
    fn the_environment_declares_one_channel_per_kind() {
        let vars: Vec<(String, String)> = [
            ("AUDIT_NOTIFY_NTFY_URL", "https://ntfy.example.org/audit"),
            ("AUDIT_NOTIFY_WEBHOOK_URL", "https://hooks.example.org/in"),
            ("AUDIT_NOTIFY_WEBHOOK_SECRET", "k"),
            ("AUDIT_NOTIFY_DIGEST_HOUR_UTC", "7"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = resolve(&Env(&vars), RawNotify::default()).unwrap();
        let names: Vec<&str> = s.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ntfy", "webhook"]);
        assert_eq!(s.digest_hour_utc, 7);
        let bad = vec![("AUDIT_NOTIFY_DIGEST_HOUR_UTC".to_string(), "24".to_string())];
        assert!(resolve(&Env(&bad), RawNotify::default()).is_err());
    }
}
