//! Encryption of secrets at rest with XChaCha20-Poly1305.
//!
//! The key comes from `ANYTRADE_ENCRYPTION_KEY` (32 bytes, base64). Every sealed value
//! carries the id of the key that sealed it, so keys can be rotated: older keys stay
//! listed in `ANYTRADE_PREVIOUS_ENCRYPTION_KEYS` until every value is re-sealed.
//! Each value is bound to the place it belongs (`aad`), so a ciphertext copied onto
//! another secret does not decrypt.

use anytrade_aggregates::SealedSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const KEY_LEN: usize = 32;

/// The context an exchange secret is sealed under, so it opens only as that secret.
pub fn exchange_secret_context(exchange_id: uuid::Uuid, name: &str) -> String {
    format!("exchange:{exchange_id}:{name}")
}

/// Why keys could not be loaded or a value could not be opened. Never holds key or
/// plaintext material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error(
        "ANYTRADE_ENCRYPTION_KEY is not set; create a key with `anytrade keygen` and export ANYTRADE_ENCRYPTION_KEY=<that value>"
    )]
    MissingKey,
    #[error(
        "{variable} is malformed: {reason}; create a key with `anytrade keygen` (32 random bytes, base64)"
    )]
    MalformedKey {
        variable: &'static str,
        reason: String,
    },
    #[error("secret was sealed with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("secret could not be decrypted: wrong key, wrong context or tampered data")]
    Undecryptable,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The current sealing key plus older keys that can still open values.
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// Builds the keyring from the configured base64 keys.
    pub fn from_base64(current: Option<&str>, previous: &[String]) -> Result<Self, CryptoError> {
        let current = current
            .filter(|k| !k.trim().is_empty())
            .ok_or(CryptoError::MissingKey)?;
        Ok(Self {
            current: parse_key(current, "ANYTRADE_ENCRYPTION_KEY")?,
            previous: previous
                .iter()
                .map(|k| parse_key(k, "ANYTRADE_PREVIOUS_ENCRYPTION_KEYS"))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A new random key in the form `ANYTRADE_ENCRYPTION_KEY` takes.
    pub fn generate_key() -> String {
        let key = Zeroizing::new(<[u8; KEY_LEN]>::generate());
        BASE64.encode(key.as_slice())
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext` under the current key, bound to `aad` (e.g. `exchange:<id>:api_key`).
    pub fn seal(&self, plaintext: &str, aad: &str) -> SealedSecret {
        let nonce = XNonce::generate();
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: aad.as_bytes(),
        };
        // Encryption only fails for messages beyond the cipher's 256 GiB limit.
        let ciphertext = self
            .current
            .cipher
            .encrypt(&nonce, payload)
            .unwrap_or_default();
        SealedSecret {
            key_id: self.current.id.clone(),
            nonce: BASE64.encode(nonce.as_slice()),
            ciphertext: BASE64.encode(ciphertext),
        }
    }

    /// Decrypts a sealed value with whichever configured key sealed it.
    pub fn open(&self, sealed: &SealedSecret, aad: &str) -> Result<Zeroizing<String>, CryptoError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        let nonce = BASE64
            .decode(&sealed.nonce)
            .ok()
            .and_then(|n| XNonce::try_from(n.as_slice()).ok())
            .ok_or(CryptoError::Undecryptable)?;
        let ciphertext = BASE64
            .decode(&sealed.ciphertext)
            .map_err(|_| CryptoError::Undecryptable)?;
        let plaintext = key
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plaintext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Undecryptable)
    }
}

fn parse_key(encoded: &str, variable: &'static str) -> Result<Key, CryptoError> {
    let malformed = |reason: String| CryptoError::MalformedKey { variable, reason };
    let bytes = Zeroizing::new(
        BASE64
            .decode(encoded.trim())
            .map_err(|_| malformed("not valid base64".into()))?,
    );
    if bytes.len() != KEY_LEN {
        return Err(malformed(format!(
            "decodes to {} bytes, need {KEY_LEN}",
            bytes.len()
        )));
    }
    let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
        .map_err(|_| malformed(format!("need {KEY_LEN} bytes")))?;
    // The id names the key without revealing it: a truncated hash under a fixed label.
    let digest = Sha256::new()
        .chain_update(b"anytrade key id v1\0")
        .chain_update(bytes.as_slice())
        .finalize();
    let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Key { id, cipher })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::from_base64(Some(&Keyring::generate_key()), &[]).expect("fresh key loads")
    }

    #[test]
    fn sealed_value_opens_with_the_same_context_only() {
        let keys = keyring();
        let sealed = keys.seal("hunter2-api-secret", "exchange:1:api_secret");
        assert_eq!(sealed.key_id, keys.current_key_id());
        assert!(!sealed.ciphertext.contains("hunter2"));
        let opened = keys.open(&sealed, "exchange:1:api_secret").expect("opens");
        assert_eq!(opened.as_str(), "hunter2-api-secret");
        assert_eq!(
            keys.open(&sealed, "exchange:2:api_secret"),
            Err(CryptoError::Undecryptable)
        );
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let keys = keyring();
        assert_ne!(
            keys.seal("x", "a").ciphertext,
            keys.seal("x", "a").ciphertext
        );
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let keys = keyring();
        let mut sealed = keys.seal("value", "ctx");
        let mut raw = BASE64.decode(&sealed.ciphertext).expect("base64");
        raw[0] ^= 1;
        sealed.ciphertext = BASE64.encode(raw);
        assert_eq!(keys.open(&sealed, "ctx"), Err(CryptoError::Undecryptable));
    }

    #[test]
    fn previous_keys_still_open_old_values() {
        let old_key = Keyring::generate_key();
        let old = Keyring::from_base64(Some(&old_key), &[]).expect("old key");
        let sealed = old.seal("value", "ctx");
        let rotated = Keyring::from_base64(Some(&Keyring::generate_key()), &[old_key]).expect("ok");
        assert_ne!(rotated.current_key_id(), sealed.key_id);
        assert_eq!(
            rotated.open(&sealed, "ctx").expect("opens").as_str(),
            "value"
        );
        let forgotten = keyring();
        assert_eq!(
            forgotten.open(&sealed, "ctx"),
            Err(CryptoError::UnknownKey(sealed.key_id.clone()))
        );
    }

    #[test]
    fn missing_or_malformed_keys_say_how_to_make_one() {
        let missing = Keyring::from_base64(None, &[]).unwrap_err();
        assert!(missing.to_string().contains("anytrade keygen"));
        let short = Keyring::from_base64(Some("c2hvcnQ="), &[]).unwrap_err();
        assert_eq!(
            short,
            CryptoError::MalformedKey {
                variable: "ANYTRADE_ENCRYPTION_KEY",
                reason: "decodes to 5 bytes, need 32".into()
            }
        );
        assert!(short.to_string().contains("anytrade keygen"));
        assert!(matches!(
            Keyring::from_base64(Some("not base64!"), &[]),
            Err(CryptoError::MalformedKey { .. })
        ));
    }
}
