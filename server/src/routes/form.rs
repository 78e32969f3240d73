//! Form input that becomes a readable 400 page, not axum's plain-text rejection, when fields are
//! missing or malformed.

use axum::Form;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct ValidForm<T>(pub T);

impl<T, S> FromRequest<S> for ValidForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(ValidForm(value)),
            Err(rejection) => Err(AppError::BadRequest(format!(
                "The form is incomplete or malformed ({}). Go back, check the fields and send it again.",
                rejection.body_text()
            ))),
        }
    }
}
