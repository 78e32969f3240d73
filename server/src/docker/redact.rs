//! Secrets kept out of everything the portal stores: label values named like secrets, credentials
//! inside health-check commands, label values and log lines. Applied where the inspect answer and
//! the log tail are converted, so nothing after this edge (database, pages, CSV, JSON, logs) can
//! leak them. A redacted value reads `•••`; the key it belonged to is kept.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// What a redacted value is shown as.
pub const REDACTED: &str = "•••";
/// Labels kept per container; a compose file rarely has more than a few dozen.
pub const MAX_LABELS: usize = 200;
/// Longer label keys are dropped; longer values are cut (a label is configuration, not data).
pub const MAX_LABEL_KEY_CHARS: usize = 256;
pub const MAX_LABEL_VALUE_CHARS: usize = 2048;

/// Words that make a label key secret, matched against the words of its last dot-separated part.
pub const DEFAULT_SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "key",
    "apikey",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "users",
    "cookie",
    "private",
];

/// Label keys of the portal's own namespace: configuration the audit reads (`audit.auth=oidc`),
/// never a secret, and redacting them would change the audit.
const OWN_PREFIX: &str = "audit.";

/// Text patterns that are secrets wherever they appear, each with its replacement.
static TEXT_RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement: &'static str| {
        (
            Regex::new(pattern).unwrap_or_else(|e| panic!("redaction pattern {pattern}: {e}")),
            replacement,
        )
    };
    vec![
        // https://user:pass@host → https://user:•••@host
        rule(
            r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*):([^\s@/]+)@",
            "${1}:•••@",
        ),
        // curl -u user:pass, -fsu user:pass, --user=user:pass, -uuser:pass
        rule(
            r"(?i)((?:^|\s)(?:-[a-z]*u|--user|--proxy-user)(?:\s+|=)?)([^\s:]+):(\S+)",
            "${1}${2}:•••",
        ),
        // --password secret, --token=abc, -p"secret" is handled below for MySQL tools only.
        rule(
            r"(?i)((?:^|\s)--?(?:password|passwd|pass|pwd|secret|token|api-?key)(?:\s+|=))(\S+)",
            "${1}•••",
        ),
        // Authorization: Bearer abc…, Basic dXNlcjpwYXNz
        rule(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}", "${1} •••"),
        // password=…, "token": "…", api_key: …
        rule(
            r#"(?i)([\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|pwd)[\w.-]*)("?\s*[=:]\s*"?)("[^"]*"|'[^']*'|[^\s,;&"']+)"#,
            "${1}${2}•••",
        ),
        // Password hashes as htpasswd and Traefik's basicauth.users carry them.
        rule(
            r"\$(?:apr1|2[abxy]|5|6|y|argon2(?:id|i|d)?|pbkdf2[\w-]*|scrypt)\$\S+",
            "•••",
        ),
        rule(r"\{SHA\}\S+", "•••"),
        // JSON Web Tokens.
        rule(
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            "•••",
        ),
    ]
});

/// MySQL and MariaDB tools take the password glued to `-p` (`mysqladmin ping -uroot -psecret`).
static MYSQL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:^|\s)-p)([^\s-]\S*)").unwrap_or_else(|e| panic!("mysql pattern: {e}"))
});

/// Decides what of a container's configuration and logs may be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redactor {
    words: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new(DEFAULT_SECRET_WORDS.iter().map(|w| w.to_string()).collect())
    }
}

impl Redactor {
    /// `words`: what makes a label key secret (see [`DEFAULT_SECRET_WORDS`]).
    pub fn new(words: Vec<String>) -> Self {
        Self {
            words: words
                .into_iter()
                .map(|w| w.trim().to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        }
    }

    /// Whether a label's key names a secret. Only the last dot-separated part counts, so a router
    /// or middleware *named* `auth` (`traefik.http.routers.auth.rule`) is not taken for one.
    pub fn is_secret_key(&self, key: &str) -> bool {
        if key.starts_with(OWN_PREFIX) {
            return false;
        }
        let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
        last.split(['_', '-', '[', ']'])
            .filter(|w| !w.is_empty())
            .any(|word| {
                self.words.iter().any(|secret| {
                    word == secret
                        || word.ends_with(secret.as_str())
                        || word.starts_with(secret.as_str())
                        || (secret.len() >= 5 && word.contains(secret.as_str()))
                })
            })
    }

    /// Free text (a health-check command, a log line, a label value) with every credential it
    /// carries replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (pattern, replacement) in TEXT_RULES.iter() {
            if pattern.is_match(&out) {
                out = pattern.replace_all(&out, *replacement).into_owned();
            }
        }
        let lower = out.to_ascii_lowercase();
        if lower.contains("mysql") || lower.contains("mariadb") {
            out = MYSQL_PASSWORD.replace_all(&out, "${1}•••").into_owned();
        }
        out
    }

    /// Labels as they may be stored: bounded in number and size, secret values replaced.
    pub fn labels(
        &self,
        labels: impl IntoIterator<Item = (String, String)>,
    ) -> BTreeMap<String, String> {
        let mut kept: BTreeMap<String, String> = labels
            .into_iter()
            .filter(|(k, _)| k.chars().count() <= MAX_LABEL_KEY_CHARS)
            .map(|(k, v)| {
                let value = if self.is_secret_key(&k) {
                    REDACTED.to_string()
                } else {
                    self.text(&truncate(&v, MAX_LABEL_VALUE_CHARS))
                };
                (k, value)
            })
            .collect();
        // The portal's own labels are read by the audit: keep them first when trimming.
        while kept.len() > MAX_LABELS {
            let drop = kept
                .keys()
                .rev()
                .find(|k| !k.starts_with(OWN_PREFIX))
                .or_else(|| kept.keys().next_back())
                .cloned();
            match drop {
                Some(k) => kept.remove(&k),
                None => break,
            };
        }
        kept
    }
}

fn truncate(value: &str, max_chars: usize) -> String {
    if value.chars().count() <= max_chars {
        return value.to_string();
    }
    let mut cut: String = value.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::default()
    }

    #[test]
    fn secret_label_keys_are_recognised_by_their_last_part() {
        for key in [
            "homepage.widget.key",
            "homepage.widget.password",
            "traefik.http.middlewares.basic.basicauth.users",
            "traefik.http.middlewares.h.headers.customrequestheaders.Authorization",
            "com.example.db_password",
            "com.example.API-TOKEN",
            "backup.s3.secret_access_key",
            "app.apiKey",
            "app.credentials",
        ] {
            assert!(r().is_secret_key(key), "{key}");
        }
        for key in [
            "traefik.http.routers.auth.rule",
            "traefik.http.middlewares.authelia.forwardauth.address",
            "traefik.http.routers.web.middlewares",
            "audit.auth",
            "com.docker.compose.project",
            "homepage.name",
            "homepage.widget.url",
        ] {
            assert!(!r().is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn the_word_list_is_configurable() {
        let only_tokens = Redactor::new(vec!["token".into()]);
        assert!(only_tokens.is_secret_key("x.token"));
        assert!(!only_tokens.is_secret_key("homepage.widget.key"));
    }

    #[test]
    fn credentials_in_commands_urls_and_logs_are_replaced() {
        let cases = [
            (
                "curl -fsS -u admin:hunter2 http://localhost/health",
                "curl -fsS -u admin:••• http://localhost/health",
            ),
            (
                "wget -q http://svc:pa55word@127.0.0.1:8080/ping",
                "wget -q http://svc:•••@127.0.0.1:8080/ping",
            ),
            (
                "mysqladmin ping -h localhost -uroot -pS3cretRoot",
                "mysqladmin ping -h localhost -uroot -p•••",
            ),
            ("redis-cli --pass hunter2 ping", "redis-cli --pass ••• ping"),
            (
                "ERROR login failed password=letmein user=bob",
                "ERROR login failed password=••• user=bob",
            ),
            (
                r#"error: {"user":"bob","token":"abc123xyz"}"#,
                r#"error: {"user":"bob","token":"•••"}"#,
            ),
            (
                "ERROR upstream said 401 to Authorization: Bearer abcdef123456",
                "ERROR upstream said 401 to Authorization: Bearer •••",
            ),
            ("admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "admin:•••"),
            ("all good, no secrets", "all good, no secrets"),
            (
                "pg_isready -U postgres -p 5432",
                "pg_isready -U postgres -p 5432",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(r().text(input), expected, "{input}");
        }
    }

    #[test]
    fn labels_are_bounded_and_secret_values_hidden() {
        let mut labels: Vec<(String, String)> = (0..300)
            .map(|i| (format!("x.label{i:03}"), "v".repeat(5000)))
            .collect();
        labels.push(("audit.auth".into(), "oidc".into()));
        labels.push(("homepage.widget.key".into(), "abcdef".into()));
        labels.push(("k".repeat(300), "too long a key".into()));
        let kept = r().labels(labels);
        assert_eq!(kept.len(), MAX_LABELS);
        assert_eq!(kept.get("audit.auth").map(String::as_str), Some("oidc"));
        assert_eq!(
            kept.get("homepage.widget.key").map(String::as_str),
            Some(REDACTED)
        );
        assert!(kept.keys().all(|k| k.len() <= MAX_LABEL_KEY_CHARS));
        assert!(
            kept.values()
                .all(|v| v.chars().count() <= MAX_LABEL_VALUE_CHARS + 1)
        );
    }
}
