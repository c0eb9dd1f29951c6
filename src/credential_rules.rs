//! What makes a username, a password and a token-signing secret acceptable: checked
//! where users are created and where settings load, so both agree. A leaf module: the
//! settings and the auth modules use it, it uses neither.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

pub const MAX_USERNAME_CHARS: usize = 64;
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer is no safer and only costs hashing time.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A username is 1 to 64 of `A-Z a-z 0-9 _ . -`. The reason never quotes it.
pub fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty() || username.len() > MAX_USERNAME_CHARS {
        return Err(format!("must be 1 to {MAX_USERNAME_CHARS} characters"));
    }
    if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err("may contain only letters A-Z and a-z, digits, '_', '.' and '-'".into());
    }
    Ok(())
}

/// A password is 12 to 1024 characters and not easy to guess: zxcvbn, told the
/// username, must rate it at least [`MIN_STRENGTH`] (length alone lets through
/// `aaaaaaaaaaaa`, `123456789012` or the username twice). The reason never quotes it.
pub fn check_password(password: &str, username: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    let strength = zxcvbn::zxcvbn(password, &[username]);
    if strength.score() < MIN_STRENGTH {
        let why = strength
            .feedback()
            .and_then(|feedback| feedback.warning())
            .map(|warning| format!(" ({warning})"))
            .unwrap_or_default();
        return Err(format!(
            "is too easy to guess{why}; use more words or characters that do not follow a pattern"
        ));
    }
    Ok(())
}

/// The weakest password accepted: zxcvbn's "safely unguessable" (about 10^10 guesses
/// or more), which an offline attack on a stolen argon2 hash cannot run through.
pub const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// The shortest signing secret accepted: HS256 wants a key as long as its output.
pub const MIN_SECRET_LEN: usize = 32;

/// The bytes of a configured `jwt_secret` (base64, at least [`MIN_SECRET_LEN`]
/// bytes). The reason never quotes the value.
pub fn decode_secret(secret: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let bytes = Zeroizing::new(
        BASE64
            .decode(secret.trim())
            .map_err(|_| "not valid base64; create one with `anytrade keygen`".to_owned())?,
    );
    if bytes.len() < MIN_SECRET_LEN {
        return Err(format!(
            "decodes to {} bytes, need at least {MIN_SECRET_LEN}; create one with `anytrade keygen`",
            bytes.len()
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["admin", "a", "ops.team-1_x", &"x".repeat(64)] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            &"x".repeat(65),
            "with space",
            "émile",
            "a/b",
            "a@b",
            "a\n",
        ] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_long_enough_and_never_echoed() {
        assert!(check_password("twelve chars of mixed-up sort", "bob").is_ok());
        assert!(
            check_password("ünïcödé-ok!!", "bob").is_ok(),
            "counts characters"
        );
        let short = check_password("hunter2", "bob").unwrap_err();
        assert!(short.contains("at least 12"), "{short}");
        assert!(!short.contains("hunter2"));
        assert!(check_password(&"x".repeat(1025), "bob").is_err());
    }

    #[test]
    fn passwords_that_follow_a_pattern_are_refused_without_being_quoted() {
        for weak in [
            "aaaaaaaaaaaa",
            "123456789012",
            "passwordpassword",
            "qwertyuiopasdf",
            "margaretmargaret",
        ] {
            let reason = check_password(weak, "margaret").expect_err(weak);
            assert!(
                reason.starts_with("is too easy to guess"),
                "{weak}: {reason}"
            );
            assert!(!reason.contains(weak), "{reason}");
        }
    }

    #[test]
    fn secrets_are_base64_of_32_bytes_or_more() {
        assert!(decode_secret(&BASE64.encode([1u8; 32])).is_ok());
        let short = decode_secret(&BASE64.encode([1u8; 31])).expect_err("too short");
        assert!(short.contains("31 bytes"), "{short}");
        assert!(decode_secret("not base64!").is_err());
    }
}
