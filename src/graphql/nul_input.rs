//! No request value may hold the NUL character (U+0000). PostgreSQL stores it in neither
//! `text` nor `jsonb`, so a NUL in a name filter, a strategy's code or an exchange's
//! config failed deep in a query or an append with INTERNAL. It is refused here, before
//! anything runs, with VALIDATION and the variable's path, for every field at once.

use async_graphql::{ErrorExtensions, Name, ServerError, Value, Variables};

use super::error_codes::INPUT_INVALID;

/// A refusal naming the first place (the query, or a variable's path) that holds a NUL.
pub fn check(query: &str, variables: &Variables) -> Result<(), ServerError> {
    // In the document, a NUL can only be written as an escape (a raw one does not
    // parse), in a string literal.
    if query.contains('\0') || query.contains("\\u0000") {
        return Err(refusal("query"));
    }
    for (name, value) in variables.iter() {
        if let Some(path) = nul_at(value, format!("variables.{name}")) {
            return Err(refusal(&path));
        }
    }
    Ok(())
}

/// The path of the first string or key in `value` holding a NUL.
fn nul_at(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item): (&Name, &Value)| {
            let path = format!("{path}.{}", key.replace('\0', "\\u0000"));
            if key.contains('\0') {
                Some(path)
            } else {
                nul_at(item, path)
            }
        }),
        _ => None,
    }
}

fn refusal(field: &str) -> ServerError {
    let reason = "contains the NUL character (U+0000), which no field accepts";
    async_graphql::Error::new(format!("{field} {reason}"))
        .extend_with(|_, e| {
            e.set("code", INPUT_INVALID);
            e.set("field", field);
        })
        .into_server_error(async_graphql::Pos::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nul_is_found_by_its_path() {
        let value = Value::from_json(serde_json::json!({
            "config": { "pairs": ["BTC/USDT", "a\u{0}b"] },
        }))
        .expect("value");
        assert_eq!(
            nul_at(&value, "variables.input".into()).as_deref(),
            Some("variables.input.config.pairs[1]")
        );
        let key = Value::from_json(serde_json::json!({ "a\u{0}": 1 })).expect("value");
        assert_eq!(nul_at(&key, "v".into()).as_deref(), Some("v.a\\u0000"));
        let clean = Value::from_json(serde_json::json!({ "a": ["b", 1, null] })).expect("value");
        assert_eq!(nul_at(&clean, "v".into()), None);
    }
}
