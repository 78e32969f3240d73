//! What each kind of channel is sent: ntfy's JSON publish (to the server's root, the topic in
//! the body), Gotify's `POST /message` with the application token in `X-Gotify-Key`, and a
//! generic JSON webhook signed with HMAC-SHA256. Building a request is pure; [`send`] posts it.
//!
//! Shapes: ntfy's "publish as JSON" (docs.ntfy.sh/publish), Gotify's message API
//! (gotify.net/docs, `POST /message`, `extras.client::notification.click.url`).

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;

use crate::config::{Channel, ChannelKind};

/// A message as every channel gets it.
#[derive(Clone, Debug)]
pub struct Message {
    pub delivery_id: i64,
    /// event, digest or test.
    pub kind: String,
    pub rule: Option<String>,
    pub key: Option<String>,
    pub title: String,
    pub body: String,
    /// high, medium, low or info.
    pub severity: String,
    /// An absolute URL into the portal.
    pub link: Option<String>,
    pub at: OffsetDateTime,
}

/// A request ready to send.
#[derive(Debug)]
pub struct Outgoing {
    pub url: reqwest::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub const SIGNATURE_HEADER: &str = "x-audit-portal-signature";
pub const TIMESTAMP_HEADER: &str = "x-audit-portal-timestamp";
pub const DELIVERY_HEADER: &str = "x-audit-portal-delivery";

/// `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: a receiver recomputes it with the
/// shared secret and refuses a stale timestamp, so a captured request cannot be replayed later.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts a key of any length; the error case cannot occur.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn ntfy_priority(severity: &str) -> u8 {
    match severity {
        "high" => 4,
        "low" => 2,
        _ => 3,
    }
}

fn gotify_priority(severity: &str) -> u8 {
    match severity {
        "high" => 8,
        "low" => 2,
        _ => 5,
    }
}

/// The request `channel` gets for `m`, signed at `now` where the kind signs.
pub fn request(channel: &Channel, m: &Message, now: OffsetDateTime) -> Outgoing {
    let secret = channel.secret.as_ref().map(|s| s.expose());
    let json_type = ("content-type", "application/json".to_string());
    match channel.kind {
        ChannelKind::Ntfy => {
            let mut url = channel.url.clone();
            let topic = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_string();
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.pop();
            }
            let mut payload = json!({
                "topic": topic,
                "title": m.title,
                "message": m.body,
                "priority": ntfy_priority(&m.severity),
                "tags": [if m.severity == "high" { "rotating_light" } else { "clipboard" }],
            });
            if let Some(link) = &m.link {
                payload["click"] = json!(link);
            }
            let mut headers = vec![json_type];
            if let Some(token) = secret {
                headers.push(("authorization", format!("Bearer {token}")));
            }
            Outgoing {
                url,
                headers,
                body: payload.to_string().into_bytes(),
            }
        }
        ChannelKind::Gotify => {
            let mut url = channel.url.clone();
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.pop_if_empty().push("message");
            }
            let mut payload = json!({
                "title": m.title,
                "message": m.body,
                "priority": gotify_priority(&m.severity),
            });
            if let Some(link) = &m.link {
                payload["extras"] = json!({ "client::notification": { "click": { "url": link } } });
            }
            let mut headers = vec![json_type];
            if let Some(token) = secret {
                headers.push(("x-gotify-key", token.to_string()));
            }
            Outgoing {
                url,
                headers,
                body: payload.to_string().into_bytes(),
            }
        }
        ChannelKind::Webhook => {
            let at =
                m.at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
            let body = json!({
                "delivery": m.delivery_id,
                "kind": m.kind,
                "rule": m.rule,
                "key": m.key,
                "title": m.title,
                "message": m.body,
                "severity": m.severity,
                "link": m.link,
                "at": at,
            })
            .to_string()
            .into_bytes();
            let timestamp = now.unix_timestamp();
            let mut headers = vec![
                json_type,
                (TIMESTAMP_HEADER, timestamp.to_string()),
                (DELIVERY_HEADER, m.delivery_id.to_string()),
            ];
            if let Some(secret) = secret {
                headers.push((
                    SIGNATURE_HEADER,
                    signature(secret.as_bytes(), timestamp, &body),
                ));
            }
            Outgoing {
                url: channel.url.clone(),
                headers,
                body,
            }
        }
    }
}

/// Posts `out`; the receiver's status on a 2xx, else why not, in words that never carry the
/// URL (an ntfy topic or a webhook path is a credential) or a secret.
pub async fn send(client: &reqwest::Client, out: Outgoing) -> Result<u16, (Option<u16>, String)> {
    let mut request = client.post(out.url).body(out.body);
    for (name, value) in out.headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
        Ok(response) => {
            let status = response.status().as_u16();
            Err((Some(status), format!("the receiver answered HTTP {status}")))
        }
        Err(e) => {
            let e = e.without_url();
            let why = if e.is_timeout() {
                "no answer within the timeout".to_string()
            } else if e.is_connect() {
                "could not connect".to_string()
            } else {
                format!("the request failed: {e}")
            };
            Err((None, why))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn channel(kind: ChannelKind, url: &str, secret: Option<&str>) -> Channel {
        Channel {
            name: "c".into(),
            kind,
            url: reqwest::Url::parse(url).unwrap(),
            secret: secret.map(Secret::new),
        }
    }

    fn message() -> Message {
        Message {
            delivery_id: 7,
            kind: "event".into(),
            rule: Some("engine_down".into()),
            key: Some("lady".into()),
            title: "Engine lady is unreachable".into(),
            body: "connection refused".into(),
            severity: "high".into(),
            link: Some("https://audit.example.org/engines".into()),
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn body(out: &Outgoing) -> serde_json::Value {
        serde_json::from_slice(&out.body).unwrap()
    }

    #[test]
    fn ntfy_gets_the_topic_in_the_body_and_the_token_as_bearer() {
        let out = request(
            &channel(
                ChannelKind::Ntfy,
                "https://ntfy.example.org/audit-7f3",
                Some("tk_1"),
            ),
            &message(),
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(out.url.as_str(), "https://ntfy.example.org/");
        let b = body(&out);
        assert_eq!(
            (b["topic"].as_str(), b["priority"].as_u64()),
            (Some("audit-7f3"), Some(4))
        );
        assert_eq!(b["click"], "https://audit.example.org/engines");
        assert!(
            out.headers
                .contains(&("authorization", "Bearer tk_1".into()))
        );
    }

    #[test]
    fn gotify_posts_to_message_under_its_path_with_the_app_token() {
        for base in [
            "https://push.example.org/gotify",
            "https://push.example.org/gotify/",
        ] {
            let out = request(
                &channel(ChannelKind::Gotify, base, Some("AbC")),
                &message(),
                OffsetDateTime::UNIX_EPOCH,
            );
            assert_eq!(out.url.as_str(), "https://push.example.org/gotify/message");
            assert!(out.headers.contains(&("x-gotify-key", "AbC".into())));
            let b = body(&out);
            assert_eq!(b["priority"], 8);
            assert_eq!(
                b["extras"]["client::notification"]["click"]["url"],
                "https://audit.example.org/engines"
            );
        }
    }

    #[test]
    fn a_webhook_is_signed_over_its_timestamp_and_body() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_700_000_000);
        let out = request(
            &channel(
                ChannelKind::Webhook,
                "https://hooks.example.org/in",
                Some("k"),
            ),
            &message(),
            now,
        );
        let header = |name: &str| {
            out.headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(header(TIMESTAMP_HEADER), "1700000000");
        assert_eq!(
            header(SIGNATURE_HEADER),
            signature(b"k", 1_700_000_000, &out.body)
        );
        assert_ne!(
            signature(b"k", 1_700_000_001, &out.body),
            signature(b"k", 1_700_000_000, &out.body),
            "the timestamp is signed"
        );
        // RFC 4231 test case 2 shape: a known HMAC-SHA256, to pin the algorithm.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(body(&out)["rule"], "engine_down");
    }
}
