//! Form input that becomes a readable 400 page, not axum's plain-text rejection, when fields are
//! missing or malformed.

use axum::Form;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use app::model::drafts::FormDraft;

use crate::error::AppError;

pub struct ValidForm<T>(pub T);

impl<T, S> FromRequest<S> for ValidForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, crate::auth::csrf::MAX_PLAN_BYTES)
            .await
            .map_err(|_| AppError::TooLarge("The form is too large; nothing was saved.".into()))?;
        // The standard decoder replaces bytes that are not UTF-8 with "�" and carries on; text
        // that cannot be read is refused instead of being saved damaged.
        if let Some(name) = first_field_not_utf8(&bytes) {
            return Err(AppError::BadRequest(format!(
                "The field '{name}' is not UTF-8 text; nothing was saved."
            )));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(ValidForm(value)),
            Err(rejection) => Err(AppError::BadRequest(format!(
                "The form is incomplete or malformed ({}). Go back, check the fields and send it again.",
                rejection.body_text()
            ))),
        }
    }
}

/// The name of the first `application/x-www-form-urlencoded` field whose name or value does not
/// decode to UTF-8, if any.
fn first_field_not_utf8(body: &[u8]) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let name = halves.next().unwrap_or_default();
        let value = halves.next().unwrap_or_default();
        let decode = |raw: &[u8]| {
            let spaced: Vec<u8> = raw
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            percent_encoding::percent_decode(&spaced)
                .decode_utf8()
                .map(|s| s.into_owned())
        };
        match (decode(name), decode(value)) {
            (Ok(_), Ok(_)) => None,
            (Ok(name), Err(_)) => Some(name),
            (Err(_), _) => Some(String::from_utf8_lossy(name).into_owned()),
        }
    })
}

/// The form's fields as sent, for showing them again with a refusal.
pub fn draft_of(form: &str, fields: &impl serde::Serialize) -> FormDraft {
    let fields = match serde_json::to_value(fields) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    FormDraft {
        form: form.to_string(),
        fields,
    }
}

/// A date typed as YYYY-MM-DD (the value of an `<input type="date">`).
pub fn parse_date(text: &str) -> Result<time::Date, String> {
    let text = text.trim();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).map_err(|_| format!("'{text}' is not a date (YYYY-MM-DD)."))
}

/// An optional evidence link: blank means none; anything else must be an http(s) URL.
pub fn evidence_link(link: Option<&str>) -> Result<Option<&str>, String> {
    match link.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some(l) if l.starts_with("https://") || l.starts_with("http://") => Ok(Some(l)),
        Some(_) => Err("The evidence link must be an http(s) URL.".into()),
    }
}
