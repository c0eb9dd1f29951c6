//! Authentication and authorization: who is calling, and may they do this.
//!
//! Every operation of the API acts for a user, so every request carries a token.
//! Users log in once with a username and password (`POST /auth/login`) and get a
//! JWT, signed with HS256 and valid for 24 hours, which they send as
//! `Authorization: Bearer <token>` (or in a WebSocket `connection_init` payload).
//! `POST /auth/logout` and `POST /auth/password` end every session of the user.
//! Tokens are checked without a database round trip; the role they carry decides what
//! the caller may do: `admin` everything, `viewer` queries and subscriptions only.
//!
//! Users are plain rows (`users`), not events: a password hash has no place in an
//! append-only log that must be kept forever. The first admin comes from the
//! configuration on the first start ([`users::ensure_first_admin`]); passwords are
//! stored only as argon2 hashes. No password, hash, token or signing key is ever
//! logged or returned in an error.

pub mod current;
mod login;
pub mod passwords;
pub mod principal;
mod sessions;
pub mod throttle;
pub mod tokens;
pub mod user_admin;
pub mod user_history;
pub mod users;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sqlx::PgPool;

pub use current::{CheckError, CurrentUsers};
pub use principal::{
    Authentication, Principal, authenticate, authenticate_connection_init, authenticate_headers,
};
pub use throttle::LoginThrottle;
pub use tokens::{Claims, IssuedToken, LEEWAY_SECONDS, TOKEN_LIFETIME, TokenKeys};
pub use user_admin::{UserKey, UserUpdate};
pub use user_history::{Actor, ChangeKind, UserChange};
pub use users::{Role, User, UserError, create_user, ensure_first_admin};

/// Why a caller was turned away. The first three mean "who are you?"
/// (`UNAUTHENTICATED`), the last "not you" (`FORBIDDEN`). Messages never quote the
/// token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "authentication required: send `Authorization: Bearer <token>` (from POST /auth/login)"
    )]
    Missing,
    #[error("the token has expired; log in again")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
    #[error("this operation needs the admin role")]
    Forbidden,
    /// The token's user was deleted, or logged out or changed the password since it
    /// was issued.
    #[error(
        "the token no longer stands for its user (deleted, logged out, or the password changed); log in again"
    )]
    Revoked,
}

impl AuthError {
    /// The error code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Expired | AuthError::Invalid | AuthError::Revoked => {
                "UNAUTHENTICATED"
            }
            AuthError::Forbidden => "FORBIDDEN",
        }
    }

    /// The HTTP status for plain HTTP endpoints.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut response =
            error_response(self.status(), self.code(), &self.to_string(), None).into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The JSON error shape of the plain HTTP endpoints:
/// `{"error": {"code": …, "message": …, "field"?: …}}`.
pub(crate) fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> (StatusCode, Json<serde_json::Value>) {
    let mut error = serde_json::json!({ "code": code, "message": message });
    if let Some(field) = field {
        error["field"] = field.into();
    }
    (status, Json(serde_json::json!({ "error": error })))
}

/// The answer to a request that failed on the service's side (its cause is logged, not
/// told).
pub(crate) fn internal_error() -> Response {
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
        None,
    )
    .into_response()
}

/// What the auth endpoints need: the users table, the token keys, and the users as
/// the API last read them (forgotten when a user's sessions end here).
#[derive(Clone)]
pub struct AuthState {
    pub pool: PgPool,
    pub keys: TokenKeys,
    pub users: std::sync::Arc<CurrentUsers>,
    /// Failed logins seen by this instance.
    pub throttle: std::sync::Arc<throttle::LoginThrottle>,
}

impl FromRef<AuthState> for TokenKeys {
    fn from_ref(state: &AuthState) -> Self {
        state.keys.clone()
    }
}

impl FromRef<AuthState> for PgPool {
    fn from_ref(state: &AuthState) -> Self {
        state.pool.clone()
    }
}

/// A login body is two short strings; anything much larger is refused unread.
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// `POST /auth/login`, `/auth/logout` and `/auth/password`, ready to be merged into
/// the service's router.
pub fn router(state: AuthState) -> Router {
    Router::new()
        .route("/auth/login", post(login::login))
        .route("/auth/logout", post(sessions::logout))
        .route("/auth/password", post(sessions::change_password))
        .layer(DefaultBodyLimit::max(LOGIN_BODY_LIMIT))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        for e in [AuthError::Missing, AuthError::Expired, AuthError::Invalid] {
            assert_eq!(e.code(), "UNAUTHENTICATED");
            assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(AuthError::Forbidden.code(), "FORBIDDEN");
        assert_eq!(AuthError::Forbidden.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn unauthenticated_responses_ask_for_a_bearer_token() {
        let response = AuthError::Expired.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let forbidden = AuthError::Forbidden.into_response();
        assert!(!forbidden.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
