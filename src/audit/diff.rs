//! Field-level differences between two states of an aggregate, as an auditor reads
//! them: one line per changed leaf, named by its path (`config.stake_amount`,
//! `versions[1].code`), with secrets reported only as set, rotated or removed.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::redact::is_sealed;

/// One changed field. Values are kept whole (tools get the data); [`fmt::Display`]
/// shortens long ones for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Added {
        path: String,
        value: Value,
    },
    Removed {
        path: String,
        value: Value,
    },
    Changed {
        path: String,
        from: Value,
        to: Value,
    },
    /// A secret appeared; its value is never shown.
    SecretSet {
        path: String,
    },
    /// A secret was re-sealed: a new value, or the same value under a new key.
    SecretRotated {
        path: String,
    },
    SecretRemoved {
        path: String,
    },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Self::Added { path, .. }
            | Self::Removed { path, .. }
            | Self::Changed { path, .. }
            | Self::SecretSet { path }
            | Self::SecretRotated { path }
            | Self::SecretRemoved { path } => path,
        }
    }
}

/// The changes that turn `before` into `after`, fields in name order.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    compare(String::new(), Some(before), Some(after), &mut changes);
    changes
}

/// `None` is a field that is not there; `Value::Null` at the root is an aggregate not
/// yet created, which reads as "every field added".
fn compare(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    let absent = |v: Option<&Value>| v.is_none() || (path.is_empty() && v == Some(&Value::Null));
    let (before, after) = (
        before.filter(|_| !absent(before)),
        after.filter(|_| !absent(after)),
    );
    match (before, after) {
        (None, None) => {}
        (Some(b), Some(a)) if b == a => {}
        (b, a) if b.is_some_and(is_sealed) || a.is_some_and(is_sealed) => out.push(match (b, a) {
            (None, _) => Change::SecretSet { path },
            (_, None) => Change::SecretRemoved { path },
            _ => Change::SecretRotated { path },
        }),
        (b, a) if is_branch(b) || is_branch(a) => {
            for key in keys(b, a) {
                let child = key.child_of(&path);
                compare(child, key.get(b), key.get(a), out);
            }
        }
        (None, Some(a)) => out.push(Change::Added {
            path,
            value: a.clone(),
        }),
        (Some(b), None) => out.push(Change::Removed {
            path,
            value: b.clone(),
        }),
        (Some(b), Some(a)) => out.push(Change::Changed {
            path,
            from: b.clone(),
            to: a.clone(),
        }),
    }
}

/// Objects and arrays of objects are walked field by field; anything else (scalars,
/// empty containers, lists of plain values) is one leaf.
fn is_branch(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Array(items)) => items.iter().any(|i| i.is_object() || i.is_array()),
        _ => false,
    }
}

enum Key<'a> {
    Field(&'a str),
    Index(usize),
}

impl Key<'_> {
    fn child_of(&self, path: &str) -> String {
        match self {
            Key::Field(name) if path.is_empty() => (*name).to_owned(),
            Key::Field(name) => format!("{path}.{name}"),
            Key::Index(i) => format!("{path}[{i}]"),
        }
    }

    fn get<'v>(&self, value: Option<&'v Value>) -> Option<&'v Value> {
        match self {
            Key::Field(name) => value?.as_object()?.get(*name),
            Key::Index(i) => value?.as_array()?.get(*i),
        }
    }
}

/// The fields of both sides (before's, then after's new ones), or the indexes
/// of the longer array. A branch on one side against a leaf on the other compares
/// the branch's fields against nothing.
fn keys<'a>(before: Option<&'a Value>, after: Option<&'a Value>) -> Vec<Key<'a>> {
    let mut keys: Vec<Key<'a>> = Vec::new();
    let mut longest = 0;
    for side in [before, after].into_iter().flatten() {
        match side {
            Value::Object(map) => {
                for name in map.keys() {
                    if !keys.iter().any(|k| matches!(k, Key::Field(n) if n == name)) {
                        keys.push(Key::Field(name));
                    }
                }
            }
            Value::Array(items) => longest = longest.max(items.len()),
            _ => {}
        }
    }
    keys.extend((0..longest).map(Key::Index));
    keys
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Added { path, value } => write!(f, "+ {path}: {}", Short(value)),
            Self::Removed { path, value } => write!(f, "- {path}: {}", Short(value)),
            Self::Changed { path, from, to } => {
                write!(f, "~ {path}: {} -> {}", Short(from), Short(to))
            }
            Self::SecretSet { path } => write!(f, "* {path}: secret set"),
            Self::SecretRotated { path } => write!(f, "* {path}: secret rotated"),
            Self::SecretRemoved { path } => write!(f, "* {path}: secret removed"),
        }
    }
}

/// A value as one short line: code and other long text by its size, not its content.
struct Short<'a>(&'a Value);

const SHORT: usize = 80;

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::String(text) if text.contains('\n') => {
                write!(f, "<text, {} lines>", text.lines().count())
            }
            Value::String(text) if text.chars().count() > SHORT => {
                let start: String = text.chars().take(SHORT).collect();
                write!(f, "{:?}...", start)
            }
            value => {
                let compact = value.to_string();
                if compact.chars().count() <= SHORT {
                    f.write_str(&compact)
                } else if let Value::Array(items) = value {
                    write!(f, "[{} items]", items.len())
                } else {
                    write!(f, "{{{} fields}}", value.as_object().map_or(0, |m| m.len()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(before: Value, after: Value) -> Vec<String> {
        diff(&before, &after)
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    fn sealed(key: &str, ciphertext: &str) -> Value {
        json!({ "key_id": key, "nonce": "n", "ciphertext": ciphertext })
    }

    #[test]
    fn creation_lists_every_field_as_added() {
        assert_eq!(
            lines(
                Value::Null,
                json!({ "name": "binance", "config": { "fee": 0.1 }, "pairs": ["A/B"] })
            ),
            [
                "+ config.fee: 0.1",
                "+ name: \"binance\"",
                "+ pairs: [\"A/B\"]"
            ]
        );
    }

    #[test]
    fn nested_changes_are_named_by_path() {
        assert_eq!(
            lines(
                json!({ "status": "running", "config": { "stake": 10, "old": 1 } }),
                json!({ "status": "stopped", "config": { "stake": 10, "new": true } })
            ),
            [
                "- config.old: 1",
                "+ config.new: true",
                "~ status: \"running\" -> \"stopped\""
            ]
        );
        assert!(diff(&json!({ "a": [1, 2] }), &json!({ "a": [1, 2] })).is_empty());
    }

    #[test]
    fn secrets_show_only_as_set_rotated_or_removed() {
        let before = json!({ "secrets": { "api_key": sealed("k1", "AAAA") } });
        let after = json!({ "secrets": {
            "api_key": sealed("k2", "BBBB"),
            "api_secret": sealed("k2", "CCCC"),
        } });
        let shown = lines(before.clone(), after.clone());
        assert_eq!(
            shown,
            [
                "* secrets.api_key: secret rotated",
                "* secrets.api_secret: secret set"
            ]
        );
        assert_eq!(
            lines(after, json!({ "secrets": {} })),
            [
                "* secrets.api_key: secret removed",
                "* secrets.api_secret: secret removed"
            ]
        );
        let serialized = serde_json::to_string(&diff(&Value::Null, &before)).unwrap();
        assert!(!serialized.contains("AAAA"), "{serialized}");
    }

    #[test]
    fn lists_of_objects_are_walked_and_long_text_is_summarized() {
        let code = "class A:\n    pass\n";
        let shown = lines(
            json!({ "versions": [{ "version": 1, "code": code }] }),
            json!({ "versions": [{ "version": 1, "code": code }, { "version": 2, "code": code }] }),
        );
        assert_eq!(
            shown,
            [
                "+ versions[1].code: <text, 2 lines>",
                "+ versions[1].version: 2"
            ]
        );
        let long = "x".repeat(200);
        let shown = lines(json!({ "error": null }), json!({ "error": long }));
        assert_eq!(
            shown,
            [format!("~ error: null -> \"{}\"...", "x".repeat(80))]
        );
    }
}
