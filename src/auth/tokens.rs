//! Login tokens: JWTs signed with HS256, valid for [`TOKEN_LIFETIME`].
//!
//! The signing key is `jwt_secret` when configured, else derived from the encryption
//! key, so tokens survive restarts with nothing more to configure (and stop working
//! when the encryption key is rotated). Verification accepts HS256 only: `alg: none`,
//! other algorithms, a bad signature, a missing claim and an expired token are all
//! refused.

use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::AuthError;
use super::users::Role;
use crate::config::{ConfigError, Settings};
use crate::credential_rules::decode_secret;

/// How long a token is valid after login.
pub const TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// Clock skew tolerated on `exp` and `iat`, in seconds: a token expires this long after
/// its `exp`, and one issued more than this far in the future is refused.
pub const LEEWAY_SECONDS: u64 = 30;

/// Label of the key derived from the encryption key; changing it logs everyone out.
const DERIVATION_LABEL: &[u8] = b"anytrade jwt hs256 v1\0";

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The username at login.
    pub name: String,
    pub role: Role,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The user's sign-in generation when it was issued: logging out or changing the
    /// password starts a new one, and tokens of older generations are refused.
    #[serde(rename = "gen", default)]
    pub generation: i32,
}

/// A freshly issued token. Its `Debug` output leaves the token out.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub claims: Claims,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("claims", &self.claims)
            .finish()
    }
}

/// The HS256 key that signs and checks tokens; cheap to clone, never printed.
#[derive(Clone)]
pub struct TokenKeys(Arc<Keys>);

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys([redacted])")
    }
}

impl TokenKeys {
    /// Keys from raw secret bytes (at least [`MIN_SECRET_LEN`](crate::credential_rules::MIN_SECRET_LEN) in production;
    /// the configuration enforces that).
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }))
    }

    /// Keys from the configuration: `jwt_secret`, else derived from `encryption_key`
    /// (SHA-256 over a fixed label and the key bytes).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        if let Some(secret) = settings.jwt_secret() {
            let bytes = decode_secret(secret).map_err(|reason| ConfigError {
                key: "jwt_secret".into(),
                reason,
            })?;
            return Ok(Self::from_secret(&bytes));
        }
        let missing = || ConfigError {
            key: "encryption_key".into(),
            reason: "not set; login tokens are signed with a key derived from it unless \
                     jwt_secret is set; create one with `anytrade keygen`"
                .into(),
        };
        let key = settings
            .encryption_key
            .as_ref()
            .map(|k| k.expose().trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(missing)?;
        let key = Zeroizing::new(BASE64.decode(key).map_err(|_| ConfigError {
            key: "encryption_key".into(),
            reason: "not valid base64; create one with `anytrade keygen`".into(),
        })?);
        let derived: Zeroizing<[u8; 32]> = Zeroizing::new(
            Sha256::new()
                .chain_update(DERIVATION_LABEL)
                .chain_update(key.as_slice())
                .finalize()
                .into(),
        );
        Ok(Self::from_secret(derived.as_slice()))
    }

    /// A token for this user in its sign-in `generation`, valid for
    /// [`TOKEN_LIFETIME`] from now.
    pub fn issue(
        &self,
        user_id: Uuid,
        username: &str,
        role: Role,
        generation: i32,
    ) -> anyhow::Result<IssuedToken> {
        self.issue_at(user_id, username, role, generation, Utc::now())
    }

    /// A token as if issued at `now` (tests use it to make expired tokens).
    pub fn issue_at(
        &self,
        user_id: Uuid,
        username: &str,
        role: Role,
        generation: i32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken> {
        let expires_at = now + TOKEN_LIFETIME;
        let claims = Claims {
            sub: user_id,
            name: username.to_owned(),
            role,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            generation,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .context("cannot sign the token")?;
        Ok(IssuedToken {
            token,
            expires_at,
            claims,
        })
    }

    /// The claims of a token this service signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        if claims.iat > Utc::now().timestamp() + LEEWAY_SECONDS as i64 {
            return Err(AuthError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Redacted;
    use crate::crypto::Keyring;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&[7u8; 32])
    }

    fn b64url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims_json(now: i64) -> serde_json::Value {
        serde_json::json!({
            "sub": Uuid::nil(), "name": "mallory", "role": "admin",
            "iat": now, "exp": now + 3600,
        })
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let id = Uuid::new_v4();
        let issued = keys.issue(id, "alice", Role::Viewer, 0).expect("issues");
        let claims = keys.verify(&issued.token).expect("verifies");
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.sub, id);
        assert_eq!(claims.name, "alice");
        assert_eq!(claims.role, Role::Viewer);
        assert_eq!(claims.exp - claims.iat, 24 * 3600);
        assert_eq!(issued.expires_at.timestamp(), claims.exp);
        assert!(!format!("{issued:?}").contains(&issued.token));
    }

    #[test]
    fn expired_tokens_are_refused_but_skew_is_tolerated() {
        let keys = keys();
        let long_ago = Utc::now() - TOKEN_LIFETIME - TimeDelta::minutes(5);
        let old = keys
            .issue_at(Uuid::new_v4(), "alice", Role::Admin, 0, long_ago)
            .expect("issues");
        assert_eq!(keys.verify(&old.token), Err(AuthError::Expired));
        let just_past = Utc::now() - TOKEN_LIFETIME - TimeDelta::seconds(5);
        let skewed = keys
            .issue_at(Uuid::new_v4(), "alice", Role::Admin, 0, just_past)
            .expect("issues");
        assert!(keys.verify(&skewed.token).is_ok());
    }

    #[test]
    fn a_tampered_token_is_invalid() {
        let keys = keys();
        let token = keys
            .issue(Uuid::new_v4(), "viewer", Role::Viewer, 0)
            .expect("issues")
            .token;
        // Promote the bearer to admin, keeping the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .expect("payload"),
        )
        .expect("json");
        claims["role"] = "admin".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64url(claims.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(keys.verify(&forged), Err(AuthError::Invalid));
        // Flip one character of the signature.
        let mut sig = parts[2].to_owned();
        let last = if sig.ends_with('A') { "B" } else { "A" };
        sig.replace_range(sig.len() - 1.., last);
        let bad_sig = format!("{}.{}.{}", parts[0], parts[1], sig);
        assert_eq!(keys.verify(&bad_sig), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused_beyond_the_leeway() {
        let keys = keys();
        let id = Uuid::nil();
        let ahead = |secs: i64| {
            let at = Utc::now() + TimeDelta::seconds(secs);
            keys.issue_at(id, "mallory", Role::Admin, 0, at)
                .expect("issues")
                .token
        };
        assert_eq!(keys.verify(&ahead(3600)).err(), Some(AuthError::Invalid));
        assert!(keys.verify(&ahead(10)).is_ok(), "within the clock leeway");
    }

    #[test]
    fn alg_none_is_refused() {
        let now = Utc::now().timestamp();
        let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64url(claims_json(now).to_string().as_bytes());
        assert_eq!(
            keys().verify(&format!("{header}.{payload}.")),
            Err(AuthError::Invalid)
        );
        let header = b64url(br#"{"alg":"None","typ":"JWT"}"#);
        assert_eq!(
            keys().verify(&format!("{header}.{payload}.")),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        // The same secret used with HS512 is still not an HS256 token.
        let now = Utc::now().timestamp();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims_json(now),
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .expect("signs");
        assert_eq!(keys().verify(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let other = TokenKeys::from_secret(&[8u8; 32]);
        let token = other
            .issue(Uuid::new_v4(), "alice", Role::Admin, 0)
            .expect("issues")
            .token;
        assert_eq!(keys().verify(&token), Err(AuthError::Invalid));
        // Even an expired one: the signature is checked first.
        let old = other
            .issue_at(
                Uuid::new_v4(),
                "alice",
                Role::Admin,
                0,
                Utc::now() - TimeDelta::days(3),
            )
            .expect("issues")
            .token;
        assert_eq!(keys().verify(&old), Err(AuthError::Invalid));
    }

    #[test]
    fn garbage_is_invalid() {
        let keys = keys();
        for token in [
            "",
            "garbage",
            "a.b.c",
            "...",
            "eyJhbGciOiJIUzI1NiJ9..",
            "ä.ö.ü",
        ] {
            assert_eq!(keys.verify(token), Err(AuthError::Invalid), "{token:?}");
        }
    }

    #[test]
    fn claims_of_the_wrong_shape_are_invalid() {
        let now = Utc::now().timestamp();
        let mut claims = claims_json(now);
        claims["role"] = "root".into();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .expect("signs");
        assert_eq!(keys().verify(&token), Err(AuthError::Invalid));
        let no_exp =
            serde_json::json!({ "sub": Uuid::nil(), "name": "x", "role": "admin", "iat": now });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &no_exp,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .expect("signs");
        assert_eq!(keys().verify(&token), Err(AuthError::Invalid));
    }

    fn settings(encryption_key: Option<&str>, jwt_secret: Option<&str>) -> Settings {
        Settings {
            encryption_key: encryption_key.map(|k| Redacted::from(k.to_owned())),
            jwt_secret: jwt_secret.map(|k| Redacted::from(k.to_owned())),
            ..Settings::default()
        }
    }

    #[test]
    fn the_derived_key_is_stable_and_tied_to_the_encryption_key() {
        let key = Keyring::generate_key();
        let first = TokenKeys::from_settings(&settings(Some(&key), None)).expect("derives");
        let again = TokenKeys::from_settings(&settings(Some(&key), None)).expect("derives");
        let token = first
            .issue(Uuid::new_v4(), "alice", Role::Admin, 0)
            .expect("issues")
            .token;
        assert!(again.verify(&token).is_ok(), "survives a restart");
        let rotated = TokenKeys::from_settings(&settings(Some(&Keyring::generate_key()), None))
            .expect("derives");
        assert_eq!(rotated.verify(&token), Err(AuthError::Invalid));
        // Not the encryption key itself.
        let raw = TokenKeys::from_secret(&BASE64.decode(&key).expect("base64"));
        assert_eq!(raw.verify(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn a_configured_secret_wins_over_the_derived_key() {
        let secret = BASE64.encode([9u8; 48]);
        let configured =
            TokenKeys::from_settings(&settings(Some(&Keyring::generate_key()), Some(&secret)))
                .expect("loads");
        let token = TokenKeys::from_secret(&[9u8; 48])
            .issue(Uuid::new_v4(), "alice", Role::Admin, 0)
            .expect("issues")
            .token;
        assert!(configured.verify(&token).is_ok());
        // No encryption key needed then.
        assert!(TokenKeys::from_settings(&settings(None, Some(&secret))).is_ok());
    }

    #[test]
    fn missing_or_bad_keys_name_the_setting_without_its_value() {
        let e = TokenKeys::from_settings(&settings(None, None)).unwrap_err();
        assert_eq!(e.key, "encryption_key");
        let short = BASE64.encode([1u8; 31]);
        let e = TokenKeys::from_settings(&settings(None, Some(&short))).unwrap_err();
        assert_eq!(e.key, "jwt_secret");
        assert!(e.reason.contains("31 bytes"), "{}", e.reason);
        assert!(!e.to_string().contains(&short));
        let e = TokenKeys::from_settings(&settings(None, Some("not base64!"))).unwrap_err();
        assert_eq!(e.key, "jwt_secret");
        assert!(!e.to_string().contains("not base64!"));
        assert_eq!(format!("{:?}", keys()), "TokenKeys([redacted])");
    }
}
