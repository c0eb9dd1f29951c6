//! Reading the domain's enums back from the text columns that store their names. The
//! names are the domain's own (`as_str`/`parse`), and a `CHECK` on each column keeps
//! anything else out, so a value that does not parse is a bug worth an error.

use anytrade_aggregates::DomainError;
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The value of text column `column`, parsed by `parse`.
pub(crate) fn column<T>(
    row: &PgRow,
    column: &str,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> sqlx::Result<T> {
    let text: String = row.try_get(column)?;
    decoded(column, parse(&text))
}

/// [`column`] for a nullable column.
pub(crate) fn optional<T>(
    row: &PgRow,
    column: &str,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> sqlx::Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| decoded(column, parse(&text))).transpose()
}

fn decoded<T>(column: &str, parsed: Result<T, DomainError>) -> sqlx::Result<T> {
    parsed.map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::{BotMode, OptimizationMetric, RuntimeKind, WantedState};
    use anytrade_aggregates::{BotStatus, JobStatus};

    const CHECKS: &str = include_str!("../../migrations/20261204000110_known_statuses.sql");

    /// The names a `CHECK (column IN (…))` of the migration allows.
    fn allowed(constraint: &str) -> Vec<String> {
        let start = CHECKS
            .find(constraint)
            .expect("constraint in the migration");
        let rest = &CHECKS[start..];
        let list = &rest[rest.find(" IN (").expect("an IN list") + 5..];
        let list = &list[..list.find(')').expect("closed")];
        list.split(',')
            .map(|name| name.trim().trim_matches('\'').to_owned())
            .collect()
    }

    fn names<T>(all: &[T], as_str: impl Fn(&T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| as_str(v).to_owned()).collect()
    }

    #[test]
    fn the_columns_allow_exactly_the_domains_names() {
        let stored_bot_statuses: Vec<BotStatus> = BotStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != BotStatus::Deleted)
            .collect();
        assert_eq!(
            allowed("bots_status_known"),
            names(&stored_bot_statuses, |s| s.as_str())
        );
        assert_eq!(
            allowed("bots_mode_known"),
            names(BotMode::ALL, |m| m.as_str())
        );
        assert_eq!(
            allowed("bots_runtime_known"),
            names(RuntimeKind::ALL, |r| r.as_str())
        );
        for table in ["backtests", "hyperopts"] {
            assert_eq!(
                allowed(&format!("{table}_status_known")),
                names(JobStatus::ALL, |s| s.as_str())
            );
        }
        assert_eq!(
            allowed("bots_wanted_known"),
            names(WantedState::ALL, |w| w.as_str())
        );
        assert_eq!(
            allowed("hyperopts_optimization_metric_known"),
            names(OptimizationMetric::ALL, |m| m.as_str())
        );
    }
}
