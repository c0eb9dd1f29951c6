//! The bots' API credentials and tokens, checked without locks or allocation.
//!
//! freqtrade accepts HTTP Basic or a JWT from `/token/login`. Here a token is
//! `kind.bot.expiry.nonce.mac`, the mac a keyed hash over the rest under a per-process
//! random key, so tokens are verified by recomputation instead of being stored. It stands in
//! for freqtrade's JWT and is not cryptographically strong: this is a benchmark fixture,
//! never a real bot.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderValue;

use crate::hash;

/// freqtrade's access tokens live 15 minutes, refresh tokens 30 days.
const ACCESS_LIFETIME_S: i64 = 15 * 60;
const REFRESH_LIFETIME_S: i64 = 30 * 24 * 3600;

/// What a request's `Authorization` header proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Nothing valid.
    Anonymous,
    /// The right username and password.
    Basic,
    /// A live access token of this bot.
    Access,
    /// A live refresh token of this bot: good only for `/token/refresh`.
    Refresh,
}

impl Caller {
    /// May call the bot's protected endpoints.
    pub fn may_call(self) -> bool {
        matches!(self, Caller::Basic | Caller::Access)
    }
}

/// The credentials every bot of the fleet shares, and the token key.
#[derive(Debug)]
pub struct Auth {
    /// Base64 of `username:password`, as a Basic header carries it.
    basic: String,
    key: [u64; 2],
    nonce: AtomicU64,
}

impl Auth {
    pub fn new(username: &str, password: &str) -> Self {
        // RandomState is seeded from the OS: tokens of an earlier run do not verify.
        let random = RandomState::new();
        let (k0, k1) = (
            random.hash_one(super::time::now_ms()),
            random.hash_one(std::process::id()),
        );
        Auth {
            basic: base64(format!("{username}:{password}").as_bytes()),
            key: [k0, k1],
            nonce: AtomicU64::new(hash::mix(k0 ^ k1)),
        }
    }

    /// Who the request is, for bot `bot` at `now_s` (seconds since the epoch).
    pub fn caller(&self, header: Option<&HeaderValue>, bot: u32, now_s: i64) -> Caller {
        let Some((scheme, credentials)) = header
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().split_once(' '))
        else {
            return Caller::Anonymous;
        };
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            return if credentials == self.basic {
                Caller::Basic
            } else {
                Caller::Anonymous
            };
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.verify(credentials, bot, now_s);
        }
        Caller::Anonymous
    }

    /// A new access (`refresh == false`) or refresh token for bot `bot`.
    pub fn mint(&self, refresh: bool, bot: u32, now_s: i64) -> String {
        let (kind, lifetime) = if refresh {
            ('r', REFRESH_LIFETIME_S)
        } else {
            ('a', ACCESS_LIFETIME_S)
        };
        let expiry = now_s.saturating_add(lifetime);
        let nonce = hash::mix(self.nonce.fetch_add(1, Ordering::Relaxed));
        let [m0, m1] = self.mac(kind, bot, expiry, nonce);
        format!("{kind}.{bot}.{expiry}.{nonce:x}.{m0:016x}{m1:016x}")
    }

    fn mac(&self, kind: char, bot: u32, expiry: i64, nonce: u64) -> [u64; 2] {
        let body = hash::mix(
            u64::from(kind)
                ^ hash::mix(u64::from(bot) ^ hash::mix(expiry as u64 ^ hash::mix(nonce))),
        );
        self.key.map(|key| hash::mix(key ^ body))
    }

    fn verify(&self, token: &str, bot: u32, now_s: i64) -> Caller {
        let mut parts = token.split('.');
        let (Some(kind), Some(for_bot), Some(expiry), Some(nonce), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Caller::Anonymous;
        };
        let (caller, kind) = match kind {
            "a" => (Caller::Access, 'a'),
            "r" => (Caller::Refresh, 'r'),
            _ => return Caller::Anonymous,
        };
        let parsed = (
            for_bot.parse::<u32>(),
            expiry.parse::<i64>(),
            u64::from_str_radix(nonce, 16),
            mac.get(..16).map(|m| u64::from_str_radix(m, 16)),
            mac.get(16..).map(|m| u64::from_str_radix(m, 16)),
        );
        let (Ok(for_bot), Ok(expiry), Ok(nonce), Some(Ok(m0)), Some(Ok(m1))) = parsed else {
            return Caller::Anonymous;
        };
        // Each bot has its own tokens, as each freqtrade has its own JWT secret.
        if for_bot != bot || expiry < now_s || mac.len() != 32 {
            return Caller::Anonymous;
        }
        if self.mac(kind, bot, expiry, nonce) == [m0, m1] {
            caller
        } else {
            Caller::Anonymous
        }
    }
}

/// Standard base64 with padding (RFC 4648), as HTTP Basic uses.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |index: u32| {
        ALPHABET
            .get((index & 63) as usize)
            .map_or('=', |b| char::from(*b))
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        for (slot, byte) in group.iter_mut().zip(chunk) {
            *slot = *byte;
        }
        let [a, b, c] = group.map(u32::from);
        let n = a << 16 | b << 8 | c;
        out.push(sextet(n >> 18));
        out.push(sextet(n >> 12));
        out.push(if chunk.len() > 1 { sextet(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_562_691;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"freqtrader:secret"), "ZnJlcXRyYWRlcjpzZWNyZXQ=");
    }

    #[test]
    fn basic_and_tokens() {
        let auth = Auth::new("freqtrader", "secret");
        let basic = header("Basic ZnJlcXRyYWRlcjpzZWNyZXQ=");
        assert_eq!(auth.caller(Some(&basic), 0, NOW), Caller::Basic);
        assert_eq!(
            auth.caller(Some(&header("basic ZnJlcXRyYWRlcjpzZWNyZXQ=")), 0, NOW),
            Caller::Basic
        );
        assert_eq!(
            auth.caller(Some(&header("Basic Zm9v")), 0, NOW),
            Caller::Anonymous
        );
        assert_eq!(auth.caller(None, 0, NOW), Caller::Anonymous);

        let access = auth.mint(false, 3, NOW);
        let refresh = auth.mint(true, 3, NOW);
        assert_ne!(
            access,
            auth.mint(false, 3, NOW),
            "every login gets a new token"
        );
        let bearer = |token: &str| header(&format!("Bearer {token}"));
        assert_eq!(auth.caller(Some(&bearer(&access)), 3, NOW), Caller::Access);
        assert_eq!(
            auth.caller(Some(&bearer(&refresh)), 3, NOW),
            Caller::Refresh
        );
        assert_eq!(
            auth.caller(Some(&bearer(&access)), 4, NOW),
            Caller::Anonymous
        );
        assert_eq!(
            auth.caller(Some(&bearer(&access)), 3, NOW + ACCESS_LIFETIME_S + 1),
            Caller::Anonymous
        );
        let forged = access.replacen("a.", "r.", 1);
        assert_eq!(
            auth.caller(Some(&bearer(&forged)), 3, NOW),
            Caller::Anonymous
        );
        for junk in ["", "a", "a.3", "a.3.x.y.z", "a.3.1.1.zz", "a.3.1.1.1.1"] {
            assert_eq!(auth.caller(Some(&bearer(junk)), 3, NOW), Caller::Anonymous);
        }
        // Another process's tokens are refused.
        let other = Auth::new("freqtrader", "secret");
        assert_eq!(
            other.caller(Some(&bearer(&access)), 3, NOW),
            Caller::Anonymous
        );
    }
}
