//! Password hashing with argon2id (the argon2 crate's defaults: 19 MiB, 2 passes,
//! one lane), stored as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
//!
//! Hashing is deliberately slow, so the async entry points run it on the blocking
//! pool, and at most [`CONCURRENT_HASHES`] run at once: a burst of logins queues
//! instead of taking all memory and cores.

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use password_hash::SaltString;
use password_hash::rand_core::OsRng;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// How many hashes may be computed at the same time.
pub const CONCURRENT_HASHES: usize = 2;

static HASHING: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);

/// A hash of a random password nobody knows, with the same parameters as real
/// hashes. A login for an unknown user is checked against it, so it takes as long as
/// one for a real user and the timing does not tell which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$OF4IHdksYy9SFohHnp98Kg$SfZTjPDggMK2IUnF0KEcsaI/cBoW0sNLQbbDCDv/Ydg";

/// Hashes `password` with a fresh random salt; returns the PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        .context("cannot hash the password")?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash (unknown
/// user), checks against a dummy hash and answers `false`, in about the same time.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let matched = check(password, stored.unwrap_or(DUMMY_HASH));
    matched && stored.is_some()
}

fn check(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            // A corrupt row: refuse, and say so without quoting it.
            tracing::error!(error = %e, "stored password hash is not a PHC string");
            false
        }
    }
}

/// [`hash_password`] on the blocking pool.
pub async fn hash(password: Zeroizing<String>) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await.context("hashing is shut down")?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .context("password hashing task failed")?
}

/// [`verify_password`] on the blocking pool.
pub async fn verify(password: Zeroizing<String>, stored: Option<String>) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await.context("hashing is shut down")?;
    tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
        .await
        .context("password check task failed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Params, Version};

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash_password("correct horse battery").expect("hashes");
        assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(verify_password("correct horse battery", Some(&stored)));
        assert!(!verify_password("correct horse battery!", Some(&stored)));
        assert!(!verify_password("", Some(&stored)));
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let a = hash_password("same password here").expect("hashes");
        let b = hash_password("same password here").expect("hashes");
        assert_ne!(a, b);
    }

    #[test]
    fn unknown_users_never_match_and_cost_a_real_check() {
        assert!(!verify_password("anything at all", None));
        // The dummy costs what a real hash costs: same algorithm and parameters.
        let dummy = PasswordHash::new(DUMMY_HASH).expect("dummy parses");
        let real_hash = hash_password("x").expect("hashes");
        let real = PasswordHash::new(&real_hash).expect("parses");
        assert_eq!(dummy.algorithm, Algorithm::Argon2id.ident());
        assert_eq!(dummy.version, Some(Version::V0x13.into()));
        assert_eq!(dummy.params, real.params);
        let params = Params::try_from(&dummy).expect("params");
        let defaults = Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (defaults.m_cost(), defaults.t_cost(), defaults.p_cost())
        );
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }

    #[test]
    fn a_corrupt_stored_hash_is_refused() {
        assert!(!verify_password("password", Some("not a phc string")));
        assert!(!verify_password("password", Some("")));
    }
}
