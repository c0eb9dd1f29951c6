//! Deterministic garbage for "never panics" tests: no extra dependency, same inputs on
//! every run, so a failure is reproducible.

/// A tiny xorshift generator; quality is irrelevant, determinism is the point.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// Pieces that tend to find edge cases: syntax of every value type, numbers at the edges,
/// Python tokens, unicode, control characters.
const PIECES: &[&str] = &[
    "",
    " ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\0",
    "\u{7f}",
    "\u{feff}",
    "é",
    "ß",
    "💥",
    "\u{202e}",
    "a",
    "Z",
    "_",
    "-",
    ".",
    ",",
    ":",
    "/",
    "\\",
    "'",
    "\"",
    "\"\"\"",
    "#",
    "@",
    "$",
    "%",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    "=",
    "+",
    "*",
    "**",
    "&",
    "|",
    "^",
    "~",
    "!",
    "0",
    "1",
    "9",
    "00",
    "-1",
    "1e309",
    "-0",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "1.",
    ".5",
    "18446744073709551616",
    "99999999999999999999999999",
    "2147483648",
    "4294967296",
    "m",
    "Mi",
    "Gi",
    "Ti",
    "Ki",
    "K",
    "M",
    "G",
    "T",
    "B",
    "KB",
    "MB",
    "500m",
    "0.001",
    "2024-01-01",
    "2024-02-30",
    "9999-12-31",
    "0000-00-00",
    "2024-1-1",
    "+2024-01-01",
    "BTC/USDT",
    "btc/usdt",
    "BTC/USDT:USDT",
    "/",
    "//",
    ":",
    "BTC/",
    "/USDT",
    "binance",
    "okx",
    "dry_run",
    "live",
    "docker",
    "1m",
    "1M",
    "5m",
    "1h",
    "1w",
    "2026.9",
    "2026.13",
    "2026.9.1",
    "unlimited",
    "all",
    "buy",
    "sharpe",
    "def ",
    "class ",
    "lambda",
    ":",
    "    ",
    "if ",
    "else",
    "match ",
    "case ",
    "f'",
    "{x}",
    "import ",
    "from ",
    "IStrategy",
    "eval(",
    "exec",
    "os.system",
    "subprocess.",
    "yield",
    "async ",
    "await ",
    "\\N{",
    "0x",
    "0b",
    "0o",
    "1_0",
    "\"\"",
    "'''",
    "\\",
    "`",
    "?",
];

/// `count` deterministic garbage strings, from empty to a few hundred pieces long,
/// including a few very long ones.
pub(crate) fn strings(count: usize) -> Vec<String> {
    let mut rng = Rng::new(0x5eed_cafe_f00d_d00d);
    let mut out = Vec::with_capacity(count + 4);
    for i in 0..count {
        let len = match i % 10 {
            0 => rng.below(3),
            1..=6 => rng.below(12),
            _ => rng.below(300),
        };
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(rng.pick(PIECES));
        }
        out.push(s);
    }
    out.push("(".repeat(10_000));
    out.push("9".repeat(5_000));
    out.push("a".repeat(100_000));
    out.push("\u{10ffff}".repeat(1_000));
    out
}

/// `count` damaged copies of `text`: cut at a random point, with random pieces spliced in.
pub(crate) fn mutations(text: &str, count: usize) -> Vec<String> {
    let mut rng = Rng::new(0x0dd_ba11);
    let chars: Vec<char> = text.chars().collect();
    (0..count)
        .map(|_| {
            let mut out: Vec<char> = chars.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(out.len() + 1);
                let piece: Vec<char> = rng.pick(PIECES).chars().collect();
                out.splice(at..at, piece);
            }
            if rng.below(3) == 0 {
                out.truncate(rng.below(out.len() + 1));
            }
            out.into_iter().collect()
        })
        .collect()
}
