//! API tokens for machines: a random secret shown once, kept as its SHA-256, with scopes and an
//! expiry. A token only ever opens the `/api/v1` routes; it never yields a session.

use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::SessionUser;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Report backup and restore runs.
    Heartbeat,
    /// Read the JSON API.
    Read,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Heartbeat, Scope::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Heartbeat => "heartbeat",
            Scope::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// The visible start of every secret, so that one pasted in the wrong place is recognisable.
const SECRET_PREFIX: &str = "apt_";

/// A new secret and its hash.
pub fn generate() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{SECRET_PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash(&secret);
    (secret, hash)
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The part of a secret shown in lists.
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(SECRET_PREFIX.len() + 6).collect()
}

/// A token name: what people will read in the audit trail.
pub fn parse_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let ok = (1..=60).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if ok {
        Ok(name.to_string())
    } else {
        Err("A token name is 1 to 60 letters, digits, spaces, '-', '_' or '.'".into())
    }
}

/// The scopes of a new token, from names; at least one, each known.
pub fn parse_scopes<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>, String> {
    let mut scopes = vec![];
    for n in names
        .into_iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let scope =
            Scope::parse(n).ok_or_else(|| format!("'{n}' is not a scope (heartbeat, read)"))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err("Choose at least one scope: heartbeat or read.".into());
    }
    Ok(scopes)
}

/// A machine authenticated by its token.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub token_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl ApiCaller {
    /// How the caller appears in the audit trail: as the token, by its name.
    pub fn as_actor(&self) -> SessionUser {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        SessionUser {
            issuer: "api-token".into(),
            subject: self.token_id.to_string(),
            username: Some(self.name.clone()),
            name: Some(format!("token {}", self.name)),
            email: None,
            groups: vec![],
            role: None,
            auth_time: now,
            signed_in_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_their_hash_is_kept() {
        let (a, ha) = generate();
        let (b, hb) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("apt_") && a.len() == 4 + 64);
        assert_eq!(hash(&a), ha);
        assert_ne!(ha, hb);
        assert_eq!(display_prefix(&a).len(), 10);
    }

    #[test]
    fn names_and_scopes_are_checked() {
        assert_eq!(
            parse_name(" nightly-backup ").as_deref(),
            Ok("nightly-backup")
        );
        assert!(parse_name("").is_err() && parse_name("<script>").is_err());
        assert_eq!(
            parse_scopes(["heartbeat,read", "read"]),
            Ok(vec![Scope::Heartbeat, Scope::Read])
        );
        assert!(parse_scopes(["admin"]).is_err());
        assert!(parse_scopes([""]).is_err());
    }
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a token and its audit record in one transaction; returns the secret, which is not
/// kept and cannot be shown again.
pub async fn create(
    db: &sqlx::PgPool,
    name: &str,
    scopes: &[Scope],
    expires_days: Option<i64>,
    by: &SessionUser,
) -> Result<String, CreateError> {
    let name = parse_name(name).map_err(CreateError::Invalid)?;
    if let Some(days) = expires_days
        && !(1..=3650).contains(&days)
    {
        return Err(CreateError::Invalid(
            "Expiry is 1 to 3650 days, or none.".into(),
        ));
    }
    let (secret, hash) = generate();
    let expires_at = expires_days.map(|d| OffsetDateTime::now_utc() + time::Duration::days(d));
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let change = crate::audited::Change::<(), _> {
        actor: by,
        action: "token.create",
        target: &name,
        before: None,
        after: Some(
            serde_json::json!({ "scopes": scope_names, "expires_at": expires_at.map(|t| t.to_string()) }),
        ),
    };
    crate::audited::write(db, change, async |conn| -> Result<(), CreateError> {
        let created = crate::auth::token_store::create(
            conn,
            &crate::auth::token_store::NewToken {
                name: &name,
                prefix: &display_prefix(&secret),
                hash: &hash,
                scopes,
                created_by: by.display_name(),
                expires_at,
            },
        )
        .await?;
        match created {
            Some(_) => Ok(()),
            None => Err(CreateError::Invalid(format!(
                "A token named '{name}' exists already (revoked ones keep their name)."
            ))),
        }
    })
    .await?;
    Ok(secret)
}
