//! Free-form freqtrade settings supplied by users.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::DomainError;

/// Keys that hold credentials in freqtrade or ccxt configuration, compared after
/// lowercasing and dropping `_` and `-` (so `apiKey`, `api_key` and `API-KEY` all match).
const CREDENTIAL_KEYS: &[&str] = &[
    "key",
    "secret",
    "password",
    "passphrase",
    "uid",
    "apikey",
    "apisecret",
    "secretkey",
    "privatekey",
    "walletaddress",
];

/// A JSON object of settings (exchange options, bot overrides, job overrides) that
/// contains no credential at any depth: credentials go in exchange secrets, which are
/// encrypted, while config is stored and shown in clear.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "Map<String, Value>")]
pub struct ConfigObject(Map<String, Value>);

impl ConfigObject {
    /// `field` is the input's API name (`config`, `config.extra`); errors name it, or the
    /// path of the offending key under it (`config.ccxt_config.apiKey`, `config.list[2].key`).
    pub fn parse(field: &str, value: Value) -> Result<Self, DomainError> {
        match value {
            Value::Object(map) => Self::from_map(field, map),
            other => Err(DomainError::invalid(
                field,
                format!("must be a JSON object, got {}", kind(&other)),
            )),
        }
    }

    fn from_map(field: &str, map: Map<String, Value>) -> Result<Self, DomainError> {
        // Breadth-first with an explicit queue: no recursion on user-controlled depth.
        let mut queue: Vec<(String, &Value)> = Vec::new();
        for (key, value) in &map {
            check_key(field, key)?;
            queue.push((format!("{field}.{key}"), value));
        }
        while let Some((path, value)) = queue.pop() {
            match value {
                Value::Object(inner) => {
                    for (key, value) in inner {
                        check_key(&path, key)?;
                        queue.push((format!("{path}.{key}"), value));
                    }
                }
                Value::Array(items) => {
                    for (i, value) in items.iter().enumerate() {
                        queue.push((format!("{path}[{i}]"), value));
                    }
                }
                _ => {}
            }
        }
        Ok(Self(map))
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn check_key(path: &str, key: &str) -> Result<(), DomainError> {
    let normalized: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    if CREDENTIAL_KEYS.contains(&normalized.as_str()) {
        return Err(DomainError::invalid(
            format!("{path}.{key}"),
            "credentials go in exchange secrets, not in config",
        ));
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl TryFrom<Map<String, Value>> for ConfigObject {
    type Error = DomainError;

    fn try_from(map: Map<String, Value>) -> Result<Self, Self::Error> {
        Self::from_map("config", map)
    }
}

impl From<ConfigObject> for Map<String, Value> {
    fn from(config: ConfigObject) -> Self {
        config.0
    }
}
