//! `POST /auth/login`: `{"username", "password"}` → `{"token", "expiresAt", "role"}`.
//!
//! A wrong password and an unknown username get the same answer in about the same
//! time, so the endpoint does not tell which usernames exist. Failures are throttled
//! per username and per client address ([`super::throttle`]) and logged, without the
//! password (and without the username unless it names a user: a password typed into
//! the wrong field must not reach the log).

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::SecondsFormat;
use serde_json::Value;
use zeroize::Zeroizing;

use super::users;
use super::{AuthState, error_response, internal_error, passwords};
use crate::credential_rules::MAX_PASSWORD_CHARS;

/// The one answer to every refused login.
const REFUSED: &str = "invalid username or password";

pub(crate) async fn login(
    State(state): State<AuthState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    let client = connection.map(|Extension(ConnectInfo(address))| address.ip());
    let (username, password) = match parse(&body) {
        Ok(parsed) => parsed,
        Err(invalid) => return invalid.into_response(),
    };
    if let Some(wait) = state.throttle.wait(&username, client, Instant::now()) {
        tracing::warn!(client = ?client, "login refused unchecked: too many failed logins");
        return too_many(wait);
    }
    match attempt(&state, &username, password).await {
        Ok(Attempt::LoggedIn(response)) => {
            state.throttle.succeeded(&username);
            response
        }
        Ok(Attempt::Refused { user }) => {
            state.throttle.failed(&username, client, Instant::now());
            match user {
                Some(user_id) => {
                    tracing::warn!(%user_id, username, client = ?client, "login refused: wrong password, or the user is disabled");
                }
                None => tracing::warn!(client = ?client, "login refused: no such user"),
            }
            error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", REFUSED, None)
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "login failed");
            internal_error()
        }
    }
}

/// 429 with `Retry-After` in whole seconds (rounded up).
fn too_many(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let message = format!(
        "too many failed logins for this username or from this address; try again in {seconds} s"
    );
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        &message,
        None,
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A malformed body: which field, and what is wrong with it (never its value).
struct Invalid {
    field: &'static str,
    message: String,
}

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        error_response(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            &self.message,
            Some(self.field),
        )
        .into_response()
    }
}

const SHAPE: &str = "the body must be a JSON object {\"username\", \"password\"}";

/// The credentials from the body.
fn parse(body: &[u8]) -> Result<(String, Zeroizing<String>), Invalid> {
    let invalid = |field, message| Invalid { field, message };
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "body",
            format!(
                "{SHAPE}; it is not JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(invalid("body", SHAPE.into()));
    };
    let mut text = |field: &'static str| match fields.remove(field) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, format!("{field} must be a string"))),
        None => Err(invalid(field, format!("{field} is required"))),
    };
    let username = text("username")?;
    // No username holds one, and PostgreSQL cannot compare text with it.
    if username.contains('\0') {
        return Err(invalid(
            "username",
            "username must not contain the NUL character (U+0000)".into(),
        ));
    }
    let password = Zeroizing::new(text("password")?);
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("password must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok((username, password))
}

/// How a login attempt ended.
enum Attempt {
    /// The 200 response with the token.
    LoggedIn(Response),
    /// Refused; `user` is the id of the user the username names, if any (for the log
    /// only: the answer is the same either way).
    Refused { user: Option<uuid::Uuid> },
}

async fn attempt(
    state: &AuthState,
    username: &str,
    password: Zeroizing<String>,
) -> anyhow::Result<Attempt> {
    let found = users::find_credentials(&state.pool, username).await?;
    let stored = found.as_ref().map(|c| c.password_hash.clone());
    // Checked even when the user does not exist, against a dummy hash: same time.
    let matched = passwords::verify(password, stored).await?;
    let found = match found {
        Some(found) if matched && found.user.disabled_at.is_none() => found,
        other => {
            let user = other.map(|c| c.user.id);
            return Ok(Attempt::Refused { user });
        }
    };
    let (user, generation) = (found.user, found.generation);
    let issued = state
        .keys
        .issue(user.id, &user.username, user.role, generation)?;
    tracing::info!(user_id = %user.id, username = %user.username, "logged in");
    let body = serde_json::json!({
        "token": issued.token,
        "expiresAt": issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "role": user.role,
    });
    Ok(Attempt::LoggedIn(
        ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
    ))
}
