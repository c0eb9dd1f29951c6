//! Sealed secrets (`{key_id, nonce, ciphertext}`) reduced to their key id wherever
//! stored JSON is shown: events in the feed, the audit trail, aggregate states. Nothing
//! that shows stored data needs a ciphertext, and a shown ciphertext is one more copy
//! to protect.

use serde_json::Value;

/// Whether `value` is a sealed secret as the store keeps it.
pub fn is_sealed(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.contains_key("ciphertext") && map.contains_key("nonce"))
}

/// Drops the nonce and ciphertext of every sealed secret inside `value`, keeping key ids.
pub fn sealed_values(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("ciphertext") && map.contains_key("nonce") {
                map.remove("ciphertext");
                map.remove("nonce");
            }
            map.values_mut().for_each(sealed_values);
        }
        Value::Array(items) => items.iter_mut().for_each(sealed_values),
        _ => {}
    }
}

/// Parts of key names that suggest a credential (compared lowercased, without `_` and
/// `-`): `telegram.token`, `jwt_secret_key`, `ws_token`. The domain refuses the
/// well-known credential keys in settings; a page that shows settings also hides the
/// values of keys like these, in case one got through.
const CREDENTIAL_LIKE: &[&str] = &[
    "token",
    "secret",
    "password",
    "passphrase",
    "privatekey",
    "apikey",
];

/// What a hidden value is shown as.
pub const HIDDEN: &str = "(hidden)";

/// Replaces the value of every key inside `value` that looks like a credential with
/// [`HIDDEN`].
pub fn credential_like(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let normalized: String = key
                    .chars()
                    .filter(|c| !matches!(c, '_' | '-'))
                    .flat_map(char::to_lowercase)
                    .collect();
                if CREDENTIAL_LIKE.iter().any(|part| normalized.contains(part)) {
                    *inner = Value::String(HIDDEN.to_owned());
                } else {
                    credential_like(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(credential_like),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sealed_values_keep_only_their_key_id() {
        let mut payload = json!({ "ExchangeSecretAdded": {
            "name": "api_key",
            "value": { "key_id": "k1", "nonce": "n", "ciphertext": "c" }
        }});
        assert!(is_sealed(&payload["ExchangeSecretAdded"]["value"]));
        sealed_values(&mut payload);
        assert_eq!(
            payload,
            json!({ "ExchangeSecretAdded": { "name": "api_key", "value": { "key_id": "k1" } } })
        );
        assert!(!is_sealed(&payload["ExchangeSecretAdded"]["value"]));
    }

    #[test]
    fn credential_like_values_are_hidden_at_any_depth() {
        let mut config = json!({
            "telegram": { "enabled": true, "token": "123:abc", "chat_id": "42" },
            "api_server": { "jwt_secret_key": "s3cret", "ws_token": ["t"] },
            "pairs": ["BTC/USDT"],
        });
        credential_like(&mut config);
        assert_eq!(
            config,
            json!({
                "telegram": { "enabled": true, "token": HIDDEN, "chat_id": "42" },
                "api_server": { "jwt_secret_key": HIDDEN, "ws_token": HIDDEN },
                "pairs": ["BTC/USDT"],
            })
        );
    }
}
