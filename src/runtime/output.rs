//! What freqtrade's output says about how it ended.

/// How freqtrade's `main` logs the error that ends it (freqtrade 2026.9 exits 0 after
/// some of them, a configuration error among them).
pub(crate) const FATAL_MARKER: &str = " - freqtrade - ERROR - ";

/// What freqtrade said when it failed: its last ERROR or CRITICAL lines, without the
/// timestamp and logger prefix, and the exception that ended a Python traceback after
/// them (freqtrade logs only "Fatal exception!" for an error in a strategy).
pub(crate) fn failure_lines(log: &[String]) -> Option<String> {
    let errors: Vec<&str> = log
        .iter()
        .filter_map(|line| {
            ["- ERROR - ", "- CRITICAL - "]
                .iter()
                .find_map(|marker| line.split_once(marker).map(|(_, message)| message.trim()))
        })
        .collect();
    let mut last: Vec<&str> = errors.iter().rev().take(2).rev().copied().collect();
    last.extend(raised(log));
    (!last.is_empty()).then(|| last.join(" / ").chars().take(800).collect())
}

/// The `Type: message` line closing the last Python traceback in `log`.
fn raised(log: &[String]) -> Option<&str> {
    let start = log
        .iter()
        .rposition(|line| line.starts_with("Traceback (most recent call last)"))?;
    log[start + 1..]
        .iter()
        .find(|line| !line.starts_with(char::is_whitespace) && !line.is_empty())
        .map(|line| line.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_lines_are_freqtrades_last_errors() {
        let log: Vec<String> = [
            "2026-11-24 10:00:00,000 - freqtrade - INFO - Starting",
            "2026-11-24 10:00:01,000 - freqtrade.resolvers - ERROR - Impossible to load Strategy 'Nope'.",
            "2026-11-24 10:00:01,001 - freqtrade - ERROR - Fatal exception!",
            "Traceback (most recent call last):",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            failure_lines(&log).unwrap(),
            "Impossible to load Strategy 'Nope'. / Fatal exception!"
        );
        assert_eq!(failure_lines(&log[..1]), None);
    }

    #[test]
    fn failure_lines_name_the_exception_a_traceback_ends_with() {
        let log: Vec<String> = [
            "2026-11-24 10:00:01,001 - freqtrade - ERROR - Fatal exception!",
            "Traceback (most recent call last):",
            "  File \"/x/strategy.py\", line 12, in populate_indicators",
            "    raise RuntimeError(\"boom\")",
            "RuntimeError: boom",
            "2026-11-24 10:00:01,002 - freqtrade - INFO - bye",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            failure_lines(&log).unwrap(),
            "Fatal exception! / RuntimeError: boom"
        );
    }
}
