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
}
