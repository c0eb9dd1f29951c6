//! Exchange credentials as the domain sees them: sealed.
//!
//! The service's crypto module encrypts a secret before it becomes a command, so
//! plaintext never reaches an event or the event store. The domain stores and compares
//! sealed values; it cannot open them.

use serde::{Deserialize, Serialize};

/// An encrypted secret: base64 nonce and ciphertext, and the id of the key that sealed it
/// (so keys can be rotated). `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    pub key_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

impl SealedSecret {
    pub fn new(
        key_id: impl Into<String>,
        nonce: impl Into<String>,
        ciphertext: impl Into<String>,
    ) -> Self {
        Self {
            key_id: key_id.into(),
            nonce: nonce.into(),
            ciphertext: ciphertext.into(),
        }
    }
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_key_id_only() {
        let secret = SealedSecret::new("key-2026", "bm9uY2U=", "c2VjcmV0IGNpcGhlcg==");
        let debug = format!("{secret:?}");
        assert!(debug.contains("key-2026"), "{debug}");
        assert!(!debug.contains("bm9uY2U="), "{debug}");
        assert!(!debug.contains("c2VjcmV0IGNpcGhlcg=="), "{debug}");
        let json = serde_json::to_value(&secret).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"key_id": "key-2026", "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0IGNpcGhlcg=="})
        );
    }
}
