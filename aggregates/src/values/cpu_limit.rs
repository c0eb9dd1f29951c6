//! CPU limit of a bot's container, pod or process.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

const FIELD: &str = "resources.cpu";
const MIN_MILLICORES: u64 = 10;
const MAX_MILLICORES: u64 = 64_000;

/// A CPU limit between 0.01 and 64 cores, kept in millicores. Accepts cores (`"0.5"`,
/// `"2"`, at most three decimals) or Kubernetes millicores (`"500m"`); its canonical form
/// is whole cores when exact (`"2"`), else millicores (`"1500m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CpuLimit {
    millicores: u32,
}

impl CpuLimit {
    /// Errors name `resources.cpu`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let millicores = match input.strip_suffix('m') {
            Some(number) if is_digits(number) => whole(number),
            _ => cores_to_millicores(input)?,
        };
        match millicores {
            Some(m) if (MIN_MILLICORES..=MAX_MILLICORES).contains(&m) => Ok(Self {
                millicores: u32::try_from(m).unwrap_or(u32::MAX),
            }),
            _ => Err(DomainError::invalid(
                FIELD,
                format!(
                    "{} is out of range: must be between 0.01 and 64 cores (10m to 64000m)",
                    quoted(input)
                ),
            )),
        }
    }

    pub fn millicores(&self) -> u32 {
        self.millicores
    }

    pub fn cores(&self) -> f64 {
        f64::from(self.millicores) / 1000.0
    }

    /// Docker's `NanoCpus`.
    pub fn nano_cpus(&self) -> i64 {
        i64::from(self.millicores) * 1_000_000
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The value of a digit string, `None` when too large to matter (out of range anyway).
fn whole(digits: &str) -> Option<u64> {
    if digits.len() > 12 {
        return None;
    }
    digits.parse().ok()
}

/// `"0.5"` → 500, `"2"` → 2000; `Ok(None)` for numbers too large; errors for anything that
/// is not a decimal number of cores.
fn cores_to_millicores(input: &str) -> Result<Option<u64>, DomainError> {
    let (int, frac) = input.split_once('.').unwrap_or((input, ""));
    let int_ok = is_digits(int) || (int.is_empty() && !frac.is_empty());
    let frac_ok = frac.is_empty() && !input.ends_with('.') || is_digits(frac);
    if !int_ok || !frac_ok {
        let unit: String = input
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
            .to_owned();
        let reason = if unit.is_empty() || unit.len() == input.len() {
            format!(
                "{} must be cores (like 0.5 or 2) or millicores (like 500m)",
                quoted(input)
            )
        } else {
            format!(
                "unknown unit {} in {}: use cores (0.5, 2) or millicores (500m)",
                quoted(&unit),
                quoted(input)
            )
        };
        return Err(DomainError::invalid(FIELD, reason));
    }
    if frac.len() > 3 {
        return Err(DomainError::invalid(
            FIELD,
            format!(
                "{} has more than 3 decimals; the finest step is 0.001 cores (1m)",
                quoted(input)
            ),
        ));
    }
    let int = if int.is_empty() { Some(0) } else { whole(int) };
    let frac_millis = format!("{frac:0<3}").parse::<u64>().unwrap_or(0);
    Ok(int
        .and_then(|i| i.checked_mul(1000))
        .and_then(|m| m.checked_add(frac_millis)))
}

impl std::fmt::Display for CpuLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.millicores.is_multiple_of(1000) {
            write!(f, "{}", self.millicores / 1000)
        } else {
            write!(f, "{}m", self.millicores)
        }
    }
}

impl TryFrom<String> for CpuLimit {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<CpuLimit> for String {
    fn from(limit: CpuLimit) -> Self {
        limit.to_string()
    }
}
