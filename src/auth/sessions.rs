//! Ending sessions: `POST /auth/logout` ends every session of the caller's user (its
//! tokens so far stop counting: a JWT holds no server-side session to end alone), and
//! `POST /auth/password` (`{"currentPassword", "newPassword"}`) changes the caller's
//! password and does the same. Both need the caller's token; both answer 204.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use zeroize::Zeroizing;

use super::users::{self, UserError};
use super::{AuthState, CheckError, Principal, error_response, internal_error, passwords};
use crate::credential_rules::MAX_PASSWORD_CHARS;

pub(crate) async fn logout(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    let principal = match caller(&state, &headers).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    if let Err(e) = users::end_sessions(&state.pool, principal.user_id).await {
        return internal(&e);
    }
    state.users.forget(principal.user_id);
    tracing::info!(user_id = %principal.user_id, "logged out: the user's sessions ended");
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn change_password(
    State(state): State<AuthState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let principal = match caller(&state, &headers).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    let (current, new) = match parse(&body) {
        Ok(parsed) => parsed,
        Err((field, message)) => return invalid(field, &message),
    };
    let stored = match users::password_hash(&state.pool, principal.user_id).await {
        Ok(stored) => stored,
        Err(e) => return internal(&e),
    };
    match passwords::verify(current, stored).await {
        Ok(true) => {}
        Ok(false) => return invalid("currentPassword", "is not the user's password"),
        Err(e) => return internal(&*e),
    }
    let who = (principal.user_id, principal.username.as_str());
    match users::change_password(&state.pool, who, &new).await {
        Ok(()) => {}
        Err(UserError::Invalid { field, reason }) => return invalid(field, &reason),
        Err(e) => return internal(&e),
    }
    state.users.forget(principal.user_id);
    StatusCode::NO_CONTENT.into_response()
}

/// The caller behind the request's token, as its user is now.
async fn caller(state: &AuthState, headers: &HeaderMap) -> Result<Principal, Response> {
    let principal =
        super::authenticate_headers(headers, &state.keys).map_err(IntoResponse::into_response)?;
    match state.users.current(&principal).await {
        Ok(principal) => Ok(principal),
        Err(CheckError::Auth(e)) => Err(e.into_response()),
        Err(CheckError::Database(e)) => Err(internal(&e)),
    }
}

const SHAPE: &str = "the body must be a JSON object {\"currentPassword\", \"newPassword\"}";

/// The current and the new password.
type Passwords = (Zeroizing<String>, Zeroizing<String>);

/// The two passwords from the body, or the field that is wrong and why.
fn parse(body: &[u8]) -> Result<Passwords, (&'static str, String)> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| ("body", format!("{SHAPE}; it is not JSON")))?;
    let Value::Object(mut fields) = value else {
        return Err(("body", SHAPE.into()));
    };
    let mut text = |field: &'static str| match fields.remove(field) {
        Some(Value::String(s)) if s.chars().count() <= MAX_PASSWORD_CHARS => Ok(Zeroizing::new(s)),
        Some(Value::String(_)) => Err((
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        )),
        Some(_) => Err((field, "must be a string".into())),
        None => Err((field, "is required".into())),
    };
    Ok((text("currentPassword")?, text("newPassword")?))
}

fn invalid(field: &str, reason: &str) -> Response {
    let message = format!("{field} {reason}");
    error_response(StatusCode::BAD_REQUEST, "VALIDATION", &message, Some(field)).into_response()
}

fn internal(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "cannot end the user's sessions");
    internal_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_field_that_is_wrong() {
        let field = |body: &str| parse(body.as_bytes()).err().map(|(field, _)| field);
        assert_eq!(field("[]"), Some("body"));
        assert_eq!(field("not json"), Some("body"));
        assert_eq!(field(r#"{"newPassword": "x"}"#), Some("currentPassword"));
        assert_eq!(field(r#"{"currentPassword": "x"}"#), Some("newPassword"));
        assert_eq!(
            field(r#"{"currentPassword": "x", "newPassword": 5}"#),
            Some("newPassword")
        );
        let long = "a".repeat(MAX_PASSWORD_CHARS + 1);
        let body = format!(r#"{{"currentPassword": "x", "newPassword": "{long}"}}"#);
        assert_eq!(field(&body), Some("newPassword"));
        assert!(parse(br#"{"currentPassword": "a", "newPassword": "b"}"#).is_ok());
    }
}
