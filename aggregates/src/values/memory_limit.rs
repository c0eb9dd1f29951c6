//! Memory limit of a bot's container, pod or process.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

const FIELD: &str = "resources.memory";
const KI: u64 = 1024;
const MI: u64 = KI * 1024;
const GI: u64 = MI * 1024;
const TI: u64 = GI * 1024;
const MIN_BYTES: u64 = 64 * MI;
const MAX_BYTES: u64 = TI;

/// Units, longest spelling first so `KB` is not read as `K` followed by junk.
const UNITS: &[(&str, u64)] = &[
    ("Ki", KI),
    ("Mi", MI),
    ("Gi", GI),
    ("Ti", TI),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("K", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("B", 1),
    ("", 1),
];

/// A memory limit between 64Mi and 1Ti, kept in bytes. Accepts plain bytes, binary units
/// (`Ki`, `Mi`, `Gi`, `Ti`) and decimal units (`K`/`KB`, `M`/`MB`, `G`/`GB`, `T`/`TB`, powers
/// of 1000 as in Kubernetes), with an optional decimal fraction (`1.5Gi`; fractions of a
/// byte are dropped). Canonical form: the largest binary unit that divides it exactly
/// (`512Mi`, `2Gi`), else plain bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemoryLimit {
    bytes: u64,
}

impl MemoryLimit {
    /// Errors name `resources.memory`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let split = input
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(input.len());
        let (number, unit) = input.split_at_checked(split).unwrap_or((input, ""));
        let Some(&(_, multiplier)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "unknown unit {} in {}; use Ki, Mi, Gi, Ti, K, M, G, T (or KB, MB, GB, TB) or plain bytes",
                    quoted(unit),
                    quoted(input)
                ),
            ));
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let shaped = digits(int) && (digits(frac) || !number.contains('.'));
        if !shaped {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "{} must be a number with an optional unit, like 512Mi or 2Gi",
                    quoted(input)
                ),
            ));
        }
        match to_bytes(int, frac, multiplier) {
            Some(bytes) if (MIN_BYTES..=MAX_BYTES).contains(&bytes) => Ok(Self { bytes }),
            _ => Err(DomainError::invalid(
                FIELD,
                format!(
                    "{} is out of range: must be between 64Mi and 1Ti",
                    quoted(input)
                ),
            )),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// `int.frac × multiplier`, rounded down to whole bytes; `None` when absurdly large.
fn to_bytes(int: &str, frac: &str, multiplier: u64) -> Option<u64> {
    // Anything longer is far out of range; this also keeps the arithmetic in u128.
    if int.len() > 20 || frac.len() > 18 {
        return None;
    }
    let int: u128 = int.parse().ok()?;
    let whole = int.checked_mul(u128::from(multiplier))?;
    let fraction = if frac.is_empty() {
        0
    } else {
        let numerator: u128 = frac.parse().ok()?;
        let denominator = 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?;
        numerator.checked_mul(u128::from(multiplier))? / denominator
    };
    u64::try_from(whole.checked_add(fraction)?).ok()
}

impl std::fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (unit, size) in [("Ti", TI), ("Gi", GI), ("Mi", MI), ("Ki", KI)] {
            if self.bytes.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.bytes / size);
            }
        }
        write!(f, "{}", self.bytes)
    }
}

impl TryFrom<String> for MemoryLimit {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<MemoryLimit> for String {
    fn from(limit: MemoryLimit) -> Self {
        limit.to_string()
    }
}
