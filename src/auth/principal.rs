//! Who is calling: the [`Principal`] behind a bearer token, taken from an
//! `Authorization` header or from a WebSocket `connection_init` payload.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde_json::Value;
use uuid::Uuid;

use super::AuthError;
use super::tokens::{Claims, LEEWAY_SECONDS, TokenKeys};
use super::users::Role;

/// The authenticated caller of one request or subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    /// When the token expires, seconds since the epoch: a WebSocket outlives it, and
    /// each of its operations is checked against it.
    pub expires_at: i64,
    /// The user's sign-in generation the token belongs to (see [`Claims`]).
    pub generation: i32,
    /// When the users table last confirmed the role (`None`: only the token says so).
    pub confirmed_at: Option<std::time::Instant>,
}

impl Principal {
    /// Whether the caller may change anything.
    pub fn can_mutate(&self) -> bool {
        self.role.can_mutate()
    }

    /// Whether the token has expired by now (with the clock leeway).
    pub fn has_expired(&self) -> bool {
        chrono::Utc::now().timestamp() > self.expires_at + LEEWAY_SECONDS as i64
    }

    /// `Ok` for a caller who may run mutations, else [`AuthError::Forbidden`].
    pub fn require_mutation(&self) -> Result<(), AuthError> {
        if self.can_mutate() {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

impl From<Claims> for Principal {
    fn from(claims: Claims) -> Self {
        Self {
            user_id: claims.sub,
            username: claims.name,
            role: claims.role,
            expires_at: claims.exp,
            generation: claims.generation,
            confirmed_at: None,
        }
    }
}

/// The caller behind an `Authorization` header value (`Bearer <jwt>`, the scheme in
/// any case). No header → `Missing`; another scheme or a bad token → `Invalid`; an
/// expired token → `Expired`.
pub fn authenticate(header: Option<&str>, keys: &TokenKeys) -> Result<Principal, AuthError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let Some(header) = header else {
        return Err(AuthError::Missing);
    };
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Invalid);
    }
    keys.verify(token.trim()).map(Principal::from)
}

/// The caller behind a request's `Authorization` header. More than one such header,
/// or one that is not text, is `Invalid`.
pub fn authenticate_headers(headers: &HeaderMap, keys: &TokenKeys) -> Result<Principal, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(AuthError::Invalid);
    }
    let header = first
        .map(|v| v.to_str().map_err(|_| AuthError::Invalid))
        .transpose()?;
    authenticate(header, keys)
}

/// The caller behind a GraphQL WebSocket `connection_init` payload:
/// `{"Authorization": "Bearer …"}`, `{"authorization": "Bearer …"}` or
/// `{"token": "…"}` (a bare token, or `Bearer …`). No payload or none of these keys →
/// `Missing`; a value that is not a string → `Invalid`.
pub fn authenticate_connection_init(
    payload: &Value,
    keys: &TokenKeys,
) -> Result<Principal, AuthError> {
    let field = |name: &str| match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(AuthError::Invalid),
    };
    let header = match field("Authorization")? {
        Some(header) => Some(header),
        None => field("authorization")?,
    };
    if let Some(header) = header {
        return authenticate(Some(header), keys);
    }
    match field("token")?.map(str::trim) {
        None | Some("") => Err(AuthError::Missing),
        Some(token) if token.contains(' ') => authenticate(Some(token), keys),
        Some(token) => keys.verify(token).map(Principal::from),
    }
}

/// Axum extractor: handlers that take a `Principal` answer 401 (or 403 when they
/// check the role) in the JSON error shape before they run.
impl<S> FromRequestParts<S> for Principal
where
    TokenKeys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate_headers(&parts.headers, &TokenKeys::from_ref(state))
    }
}

/// Axum extractor that never refuses: the outcome of authenticating the request, for
/// handlers that report failures their own way (GraphQL puts them in `errors`).
#[derive(Debug, Clone)]
pub struct Authentication(pub Result<Principal, AuthError>);

impl<S> FromRequestParts<S> for Authentication
where
    TokenKeys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(authenticate_headers(
            &parts.headers,
            &TokenKeys::from_ref(state),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&[3u8; 32])
    }

    fn token(role: Role) -> String {
        keys()
            .issue(Uuid::nil(), "carol", role, 0)
            .expect("issues")
            .token
    }

    #[test]
    fn a_bearer_header_names_the_caller() {
        let token = token(Role::Viewer);
        for header in [
            format!("Bearer {token}"),
            format!("bearer {token}"),
            format!("  BEARER   {token}  "),
        ] {
            let who = authenticate(Some(&header), &keys()).expect("authenticates");
            assert_eq!(
                who,
                Principal {
                    user_id: Uuid::nil(),
                    username: "carol".into(),
                    role: Role::Viewer,
                    expires_at: who.expires_at,
                    generation: 0,
                    confirmed_at: None,
                }
            );
        }
    }

    #[test]
    fn missing_and_malformed_headers() {
        let token = token(Role::Admin);
        assert_eq!(authenticate(None, &keys()), Err(AuthError::Missing));
        assert_eq!(authenticate(Some("  "), &keys()), Err(AuthError::Missing));
        assert_eq!(
            authenticate(Some("Bearer"), &keys()),
            Err(AuthError::Invalid)
        );
        assert_eq!(authenticate(Some(&token), &keys()), Err(AuthError::Invalid));
        assert_eq!(
            authenticate(Some(&format!("Basic {token}")), &keys()),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            authenticate(Some("Bearer nonsense"), &keys()),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn viewers_are_forbidden_to_mutate() {
        let viewer = authenticate(Some(&format!("Bearer {}", token(Role::Viewer))), &keys())
            .expect("authenticates");
        assert!(!viewer.can_mutate());
        assert_eq!(viewer.require_mutation(), Err(AuthError::Forbidden));
        assert_eq!(AuthError::Forbidden.code(), "FORBIDDEN");
        let admin = authenticate(Some(&format!("Bearer {}", token(Role::Admin))), &keys())
            .expect("authenticates");
        assert_eq!(admin.require_mutation(), Ok(()));
    }

    #[test]
    fn headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            authenticate_headers(&headers, &keys()),
            Err(AuthError::Missing)
        );
        let value = HeaderValue::from_str(&format!("Bearer {}", token(Role::Admin))).unwrap();
        headers.insert(AUTHORIZATION, value.clone());
        assert_eq!(
            authenticate_headers(&headers, &keys()).map(|p| p.role),
            Ok(Role::Admin)
        );
        headers.append(AUTHORIZATION, value);
        assert_eq!(
            authenticate_headers(&headers, &keys()),
            Err(AuthError::Invalid)
        );
        let mut binary = HeaderMap::new();
        binary.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(
            authenticate_headers(&binary, &keys()),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn connection_init_payloads() {
        let token = token(Role::Viewer);
        let bearer = format!("Bearer {token}");
        for payload in [
            json!({ "Authorization": bearer }),
            json!({ "authorization": bearer }),
            json!({ "token": token }),
            json!({ "token": bearer }),
        ] {
            let who = authenticate_connection_init(&payload, &keys()).expect("authenticates");
            assert_eq!(who.role, Role::Viewer, "{payload}");
        }
        for payload in [
            json!(null),
            json!({}),
            json!({ "token": "" }),
            json!({ "other": 1 }),
        ] {
            assert_eq!(
                authenticate_connection_init(&payload, &keys()),
                Err(AuthError::Missing),
                "{payload}"
            );
        }
        for payload in [
            json!({ "token": 42 }),
            json!({ "Authorization": token }),
            json!({ "token": "garbage" }),
        ] {
            assert_eq!(
                authenticate_connection_init(&payload, &keys()),
                Err(AuthError::Invalid),
                "{payload}"
            );
        }
        let other_key = TokenKeys::from_secret(&[4u8; 32])
            .issue(Uuid::nil(), "carol", Role::Admin, 0)
            .expect("issues")
            .token;
        assert_eq!(
            authenticate_connection_init(&json!({ "token": other_key }), &keys()),
            Err(AuthError::Invalid)
        );
    }
}
