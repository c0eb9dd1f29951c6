//! The bytes each event's chained hash covers, rendered here so that appends need not
//! have PostgreSQL render them: the `events_chain_hash` trigger then only prefixes the
//! predecessor's hash and digests (see the `event_hash_from_appender` migration), and
//! `anytrade audit verify` recomputes the same bytes from what is stored.
//!
//! The payload and metadata are covered in jsonb's canonical text (what `payload::text`
//! returns), because that is all the store keeps of them: the text an appender sent is
//! gone once PostgreSQL has parsed it.

use cqrs_es::persist::SerializedEvent;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// One event's fields as the chain covers them (jsonb values in canonical text).
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a str,
    pub metadata: &'a str,
}

impl Content<'_> {
    /// The hashed bytes that follow the predecessor's hash: each text as its UTF-8 length
    /// (8 bytes, big-endian) then its bytes, the sequence as 8 bytes big-endian.
    pub fn framed(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.frame(|part| bytes.extend_from_slice(part));
        bytes
    }

    /// This event's hash after `previous` (empty for an aggregate's first event).
    pub fn hash(&self, previous: &[u8]) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(previous);
        self.frame(|part| hasher.update(part));
        hasher.finalize().into()
    }

    /// Hands out the framed bytes in order, so hashing needs no copy of them.
    fn frame(&self, mut put: impl FnMut(&[u8])) {
        text(&mut put, self.aggregate_type);
        text(&mut put, self.aggregate_id);
        put(&self.sequence.to_be_bytes());
        for value in [
            self.event_type,
            self.event_version,
            self.payload,
            self.metadata,
        ] {
            text(&mut put, value);
        }
    }
}

/// A text field, framed by its length so no two field lists give the same bytes.
fn text(put: &mut impl FnMut(&[u8]), value: &str) {
    put(&(value.len() as u64).to_be_bytes());
    put(value.as_bytes());
}

/// What an appended event's hash covers after its predecessor's hash (the insert
/// trigger adds that): the bytes `store::repository` sends with each event.
pub fn appended(event: &SerializedEvent) -> Vec<u8> {
    Content {
        aggregate_type: &event.aggregate_type,
        aggregate_id: &event.aggregate_id,
        sequence: event.sequence as i64,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &jsonb_text(&event.payload),
        metadata: &jsonb_text(&event.metadata),
    }
    .framed()
}

/// The text PostgreSQL gives for `value` once stored as jsonb (`jsonb::text`): object
/// keys by length then bytes, `", "` and `": "` separators, strings escaped as jsonb
/// escapes them, numbers as `numeric` prints the text serde_json sends.
pub fn jsonb_text(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            // What goes over the wire is serde_json's text; PostgreSQL parses that.
            let sent = serde_json::to_string(number).unwrap_or_default();
            write_numeric(out, &sent);
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A string as jsonb prints it: the escapes below, other control characters as
/// `\u00xx`, everything else (non-ASCII too) as is.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number's text as `numeric` stores and prints it: plain decimal notation, as
/// many fractional digits as the text had after its point minus its exponent (at least
/// none), and no sign on zero.
fn write_numeric(out: &mut String, sent: &str) {
    let (negative, unsigned) = match sent.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sent),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = [whole, fraction].concat();
    // The value is `digits` × 10^-scale.
    let scale = fraction.len() as i64 - exponent;
    if scale <= 0 {
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
    }
    let scale = scale.max(0) as usize;
    if digits.len() <= scale {
        let pad = scale + 1 - digits.len();
        digits.insert_str(0, &"0".repeat(pad));
    }
    let (integer, fractional) = digits.split_at(digits.len() - scale);
    let integer = match integer.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    if negative && digits.bytes().any(|d| d != b'0') {
        out.push('-');
    }
    out.push_str(integer);
    if scale > 0 {
        out.push('.');
        out.push_str(fractional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numeric(sent: &str) -> String {
        let mut out = String::new();
        write_numeric(&mut out, sent);
        out
    }

    #[test]
    fn numbers_print_as_numeric_prints_their_text() {
        for (sent, printed) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0.0"),
            ("12", "12"),
            ("-12", "-12"),
            ("0.1", "0.1"),
            ("100000.0", "100000.0"),
            ("1e16", "10000000000000000"),
            ("1.5e3", "1500"),
            ("1.25e1", "12.5"),
            ("1e-7", "0.0000001"),
            ("-1.5E-7", "-0.00000015"),
            ("1.5e+2", "150"),
            ("123.456e-2", "1.23456"),
        ] {
            assert_eq!(numeric(sent), printed, "{sent}");
        }
    }

    #[test]
    fn objects_sort_keys_by_length_then_bytes_and_strings_escape_as_jsonb() {
        let value = json!({ "bb": [1, "x\"\\\n\u{1}é"], "a": {}, "c": [], "ab": null });
        assert_eq!(
            jsonb_text(&value),
            r#"{"a": {}, "c": [], "ab": null, "bb": [1, "x\"\\\n\u0001é"]}"#
        );
    }

    #[test]
    fn framing_separates_fields_by_length() {
        let content = |aggregate_type, aggregate_id| Content {
            aggregate_type,
            aggregate_id,
            sequence: 1,
            event_type: "E",
            event_version: "1.0",
            payload: "{}",
            metadata: "{}",
        };
        assert_ne!(content("ab", "c").hash(b""), content("a", "bc").hash(b""));
        assert_ne!(
            content("a", "b").hash(b""),
            content("a", "b").hash(&[0; 32])
        );
    }
}
