//! Failure messages reported by the runtime layer about bots and jobs.
//!
//! A failure is a fact even when its message is useless: it is always recorded, with a
//! generic text when empty and cut when a runaway log would bloat the event.

/// Longest failure message kept, in characters; the rest of a runaway log is cut.
pub const MAX_ERROR_CHARS: usize = 16 * 1024;

/// A failure message as stored: never empty (a failure with no message still failed) and
/// at most [`MAX_ERROR_CHARS`] characters.
pub(crate) fn failure_message(error: &str) -> String {
    let error = error.trim();
    if error.is_empty() {
        return "failed without an error message".to_owned();
    }
    if error.chars().count() <= MAX_ERROR_CHARS {
        return error.to_owned();
    }
    let mut cut: String = error.chars().take(MAX_ERROR_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_are_never_empty_and_bounded() {
        assert_eq!(failure_message("  boom \n"), "boom");
        assert_eq!(failure_message(""), "failed without an error message");
        let long = failure_message(&"é".repeat(MAX_ERROR_CHARS + 10));
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
