//! The historical period a backtest or hyperopt covers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// A period of days, `start` strictly before `end`, parsed from `YYYY-MM-DD` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

/// The serialized shape, checked on the way in.
#[derive(Deserialize)]
struct RawDateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateRange {
    /// Errors name `startDate` or `endDate`.
    pub fn parse(start: &str, end: &str) -> Result<Self, DomainError> {
        let start = parse_date("startDate", start)?;
        let end = parse_date("endDate", end)?;
        Self::new(start, end)
    }

    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DomainError> {
        if start >= end {
            return Err(DomainError::invalid(
                "endDate",
                format!("must be after startDate ({start}), got {end}"),
            ));
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of days covered (end exclusive).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// freqtrade's `--timerange` argument, `YYYYMMDD-YYYYMMDD`.
    pub fn timerange(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%Y%m%d"),
            self.end.format("%Y%m%d")
        )
    }
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = DomainError;

    fn try_from(raw: RawDateRange) -> Result<Self, Self::Error> {
        Self::new(raw.start, raw.end)
    }
}

/// Strict `YYYY-MM-DD`: chrono alone would also take `2024-1-5`.
fn parse_date(field: &str, input: &str) -> Result<NaiveDate, DomainError> {
    let bytes = input.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(DomainError::invalid(
            field,
            format!(
                "{} must be a date like 2024-01-31 (YYYY-MM-DD)",
                quoted(input)
            ),
        ));
    }
    NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| {
        DomainError::invalid(field, format!("{} is not a calendar date", quoted(input)))
    })
}
