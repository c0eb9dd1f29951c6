//! Reading what a finished freqtrade backtest or hyperopt left behind.
//!
//! Pure functions over bytes the executor has already read from a job's `user_data`:
//! no I/O here, so every rule about freqtrade 2026.9's output formats is tested against real
//! files in `tests/fixtures/freqtrade/jobs/` (see the README there).
//!
//! - `backtest_results/.last_result.json` → [`latest_backtest`]: the `.zip` to read next.
//! - that `.zip` → [`backtest_stats`]: one strategy's statistics, trades capped.
//! - `hyperopt_results/.last_result.json` → [`latest_hyperopt`]: the `.fthypt` to read.
//! - that `.fthypt` → [`hyperopt_epochs`] → [`hyperopt_results`]: progress and the best epoch.
//!
//! The files come out of a process that runs user-supplied strategy code, so they are treated
//! as untrusted: no input can make these functions panic, and the size of what they keep does
//! not grow with the number of trades.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufReader, Cursor, Read};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// At most this many entries of a backtest's `trades` (and `locks`) list are kept: a long
/// backtest has tens of thousands of trades of about 1 KB each, too much to record in an event.
pub const MAX_BACKTEST_TRADES: usize = 1000;

/// Decompressed bytes of the statistics member read at most. Real statistics take about 1 KB
/// per trade; this only stops a crafted archive from keeping the executor busy forever.
const MAX_STATISTICS_BYTES: u64 = 1 << 30;

/// Why a finished job's output could not be read. Messages are for the job's user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    /// `.last_result.json` is not JSON (freqtrade writes it whole, so this is not a race).
    #[error("{dir}/.last_result.json is not valid JSON: {reason}")]
    LastResultJson { dir: &'static str, reason: String },
    /// `.last_result.json` has no string under the key freqtrade writes.
    #[error("{dir}/.last_result.json does not name a result file (no \"{key}\" string)")]
    LastResultKey {
        dir: &'static str,
        key: &'static str,
    },
    /// The name would not stay inside the results directory once joined to it.
    #[error("{dir}/.last_result.json names {name:?}, which is not a plain file name")]
    LastResultName { dir: &'static str, name: String },
    /// The backtest result is not a zip archive the `zip` crate can open.
    #[error("the backtest result is not a readable zip archive: {reason}")]
    Archive { reason: String },
    /// The archive has no `.json` member to take the statistics from.
    #[error("the result archive holds no statistics (no .json member)")]
    NoStatistics,
    /// The statistics member is not JSON of the expected shape, or is too large.
    #[error("{member} in the result archive cannot be read as backtest statistics: {reason}")]
    Statistics { member: String, reason: String },
    /// The statistics are there, but not for this strategy class.
    #[error(
        "the result archive has no statistics for strategy {class} (it has: {})",
        found_text(.found)
    )]
    NoStrategy { class: String, found: Vec<String> },
    /// A complete line of the `.fthypt` file is not an epoch object.
    #[error("line {line} of the hyperopt results is not a valid epoch: {reason}")]
    Epoch { line: usize, reason: String },
}

fn found_text(found: &[String]) -> String {
    if found.is_empty() {
        "none".to_owned()
    } else {
        found.join(", ")
    }
}

/// The backtest archive `backtest_results/.last_result.json` names (key `latest_backtest`),
/// relative to `user_data/backtest_results`, e.g. `backtest-result-2026-11-25_02-20-57.zip`.
pub fn latest_backtest(last_result: &[u8]) -> Result<String, ResultError> {
    latest(last_result, "backtest_results", "latest_backtest")
}

/// The epochs file `hyperopt_results/.last_result.json` names (key `latest_hyperopt`),
/// relative to `user_data/hyperopt_results`, e.g. `strategy_Tunable_2026-11-25_02-20-22.fthypt`.
pub fn latest_hyperopt(last_result: &[u8]) -> Result<String, ResultError> {
    latest(last_result, "hyperopt_results", "latest_hyperopt")
}

fn latest(bytes: &[u8], dir: &'static str, key: &'static str) -> Result<String, ResultError> {
    let document: Value =
        serde_json::from_slice(bytes).map_err(|error| ResultError::LastResultJson {
            dir,
            reason: error.to_string(),
        })?;
    let name = document
        .get(key)
        .and_then(Value::as_str)
        .ok_or(ResultError::LastResultKey { dir, key })?;
    if !is_plain_file_name(name) {
        return Err(ResultError::LastResultName {
            dir,
            name: name.to_owned(),
        });
    }
    Ok(name.to_owned())
}

/// A name the executor can join to the results directory without leaving it. freqtrade only
/// ever writes a bare file name; anything else came from somewhere else.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && !name.contains("..") && !name.contains(['/', '\\', '\0'])
}

/// The statistics of `strategy_class` from a backtest result archive.
///
/// freqtrade 2026.9 writes `backtest-result-<time>.zip` holding `<stem>.json` (the statistics:
/// `{"strategy": {class: stats, …}, "strategy_comparison": […]}`) besides `<stem>_config.json`,
/// `<stem>_<Class>.py`, `<stem>_<Class>.json` (the strategy's parameter file, when it has one,
/// e.g. after a hyperopt), `<stem>_market_change.feather` and `<stem>_<Class>_wallet.feather`.
///
/// The stats object comes back with its `trades` and `locks` lists cut to
/// [`MAX_BACKTEST_TRADES`] entries; a cut list gets a sibling `trades_omitted` /
/// `locks_omitted` with the number of entries left out. (Locks matter because a cooldown
/// protection adds one per trade.) Nothing else is dropped: the per-candle data (wallet balance,
/// market change) lives in the `.feather` members, which are never read, and what remains
/// grows with days or pairs (`periodic_breakdown`, `daily_profit`, `results_per_pair`), not
/// with candles or trades.
pub fn backtest_stats(
    archive: &[u8],
    strategy_class: &str,
) -> Result<Map<String, Value>, ResultError> {
    backtest_stats_capped(archive, strategy_class, MAX_BACKTEST_TRADES)
}

fn backtest_stats_capped(
    archive: &[u8],
    strategy_class: &str,
    cap: usize,
) -> Result<Map<String, Value>, ResultError> {
    let archive_error = |error: zip::result::ZipError| ResultError::Archive {
        reason: error.to_string(),
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).map_err(archive_error)?;
    // Every other member's name is the statistics member's stem plus a suffix, so of the
    // `.json` members (statistics, config, parameter file) the statistics have the shortest.
    let (index, member) = zip
        .file_names_raw()
        .enumerate()
        .filter(|(_, name)| name.ends_with(b".json"))
        .min_by_key(|(_, name)| name.len())
        .map(|(index, name)| (index, String::from_utf8_lossy(name).into_owned()))
        .ok_or(ResultError::NoStatistics)?;
    let statistics_error = |reason: String| ResultError::Statistics {
        member: member.clone(),
        reason,
    };
    let file = zip
        .by_index(index)
        .map_err(|error| statistics_error(error.to_string()))?;

    // Streamed, so trades past the cap are skipped without ever being held in memory.
    let reader = BufReader::new(Limited {
        inner: file,
        left: MAX_STATISTICS_BYTES,
    });
    let mut json = serde_json::Deserializer::from_reader(reader);
    let statistics = StatisticsSeed {
        class: strategy_class,
        cap,
    }
    .deserialize(&mut json)
    .and_then(|statistics| json.end().map(|()| statistics))
    .map_err(|error| statistics_error(error.to_string()))?;

    statistics.stats.ok_or_else(|| ResultError::NoStrategy {
        class: strategy_class.to_owned(),
        found: statistics.classes,
    })
}

/// A reader that fails, rather than ends, after `left` bytes: a truncated document would
/// give a misleading "EOF while parsing" instead of saying it is too large.
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other(format!(
                "larger than {MAX_STATISTICS_BYTES} bytes"
            )));
        }
        let room = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = self.inner.read(&mut buf[..room])?;
        self.left = self.left.saturating_sub(read as u64);
        Ok(read)
    }
}

/// What the statistics member holds, as far as it is kept: the wanted class's stats, and
/// the classes present (to name them when the wanted one is missing).
struct Statistics {
    stats: Option<Map<String, Value>>,
    classes: Vec<String>,
}

/// The top-level object: only its `strategy` member is read.
struct StatisticsSeed<'a> {
    class: &'a str,
    cap: usize,
}

impl<'de> DeserializeSeed<'de> for StatisticsSeed<'_> {
    type Value = Statistics;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Statistics, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StatisticsSeed<'_> {
    type Value = Statistics;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a `strategy` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Statistics, A::Error> {
        let mut statistics = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "strategy" && statistics.is_none() {
                statistics = Some(map.next_value_seed(StrategiesSeed {
                    class: self.class,
                    cap: self.cap,
                })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        statistics.ok_or_else(|| de::Error::missing_field("strategy"))
    }
}

/// The `strategy` object, class name → stats: only the wanted class's stats are kept.
struct StrategiesSeed<'a> {
    class: &'a str,
    cap: usize,
}

impl<'de> DeserializeSeed<'de> for StrategiesSeed<'_> {
    type Value = Statistics;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Statistics, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StrategiesSeed<'_> {
    type Value = Statistics;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of strategy statistics by class name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Statistics, A::Error> {
        let mut statistics = Statistics {
            stats: None,
            classes: Vec::new(),
        };
        while let Some(class) = map.next_key::<String>()? {
            if class == self.class && statistics.stats.is_none() {
                statistics.stats = Some(map.next_value_seed(StatsSeed { cap: self.cap })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            statistics.classes.push(class);
        }
        Ok(statistics)
    }
}

/// The lists in a strategy's stats that grow with the number of trades.
const CAPPED_LISTS: [&str; 2] = ["trades", "locks"];

/// One strategy's stats object, kept whole except for [`CAPPED_LISTS`].
struct StatsSeed {
    cap: usize,
}

impl<'de> DeserializeSeed<'de> for StatsSeed {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StatsSeed {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a strategy's statistics object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut stats = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if CAPPED_LISTS.contains(&key.as_str()) {
                let list = map.next_value_seed(CappedList { cap: self.cap })?;
                if list.omitted > 0 {
                    stats.insert(format!("{key}_omitted"), list.omitted.into());
                }
                stats.insert(key, Value::Array(list.kept));
            } else {
                stats.insert(key, map.next_value()?);
            }
        }
        Ok(stats)
    }
}

/// The first `cap` entries of a list, and how many came after them.
struct Capped {
    kept: Vec<Value>,
    omitted: u64,
}

struct CappedList {
    cap: usize,
}

impl<'de> DeserializeSeed<'de> for CappedList {
    type Value = Capped;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Capped, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CappedList {
    type Value = Capped;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped, A::Error> {
        let mut kept = Vec::new();
        while kept.len() < self.cap {
            match seq.next_element::<Value>()? {
                Some(entry) => kept.push(entry),
                None => return Ok(Capped { kept, omitted: 0 }),
            }
        }
        let mut omitted = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            omitted += 1;
        }
        Ok(Capped { kept, omitted })
    }
}

/// What a hyperopt's `.fthypt` file says so far.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperoptEpochs {
    /// Complete epoch lines in the file.
    pub done: u32,
    /// The best of them, if any.
    pub best: Option<BestEpoch>,
    /// Each epoch's number and loss, in the file's order (`None`: not a finite number).
    pub losses: Vec<(u32, Option<f64>)>,
}

/// The best epoch of a hyperopt.
#[derive(Debug, Clone, PartialEq)]
pub struct BestEpoch {
    /// 1-based: the line's `current_epoch`, or its position among the epochs without one.
    pub epoch: u32,
    /// The loss function's value (lower is better); NaN when freqtrade wrote none or a
    /// non-finite one.
    pub loss: f64,
    /// The optimised parameters, flat (`params_dict`, e.g. `{"buy_every": 3}`). The
    /// parameters not optimised (ROI, stoploss, trailing, max_open_trades) are left out.
    pub params: Map<String, Value>,
    /// `results_metrics`: the backtest statistics of this epoch, without the `trades` and
    /// `locks` lists (each trade is about 1 KB, on every epoch line).
    pub metrics: Map<String, Value>,
}

/// The fields of an epoch line needed to choose the best one; the rest is skipped unread.
#[derive(Deserialize)]
struct EpochSummary {
    #[serde(default)]
    loss: Option<f64>,
    #[serde(default)]
    is_best: bool,
    #[serde(default)]
    current_epoch: Option<u32>,
}

/// The fields of the best epoch line that are kept.
#[derive(Deserialize)]
struct EpochDetail {
    #[serde(default)]
    params_dict: Map<String, Value>,
    #[serde(default)]
    results_metrics: Map<String, Value>,
}

/// The complete, non-blank lines of a `.fthypt` file: the epochs finished so far, counted
/// without parsing them (each line carries the epoch's trades, so parsing a long run's file
/// on every progress check would cost far more than the count is worth).
pub fn epochs_done(fthypt: &[u8]) -> u32 {
    let complete = match fthypt.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &fthypt[..end],
        None => &[],
    };
    let lines = complete
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .count();
    u32::try_from(lines).unwrap_or(u32::MAX)
}

/// Reads a `.fthypt` file: one JSON object per line, appended by freqtrade as each epoch ends.
///
/// The best epoch is the last one freqtrade marked `is_best` (it marks an epoch that beats all
/// before it), or failing that the one with the lowest finite loss. Only lines ending in a
/// newline count: the file may be read while freqtrade is writing its last line. Blank lines
/// are skipped; any other complete line that is not an epoch object is an error.
pub fn hyperopt_epochs(fthypt: &[u8]) -> Result<HyperoptEpochs, ResultError> {
    let complete = match fthypt.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &fthypt[..end],
        None => &[],
    };

    struct Candidate<'a> {
        line: usize,
        text: Cow<'a, [u8]>,
        epoch: u32,
        loss: f64,
    }
    let mut done: u32 = 0;
    let mut losses = Vec::new();
    let mut last_marked: Option<Candidate> = None;
    let mut lowest: Option<Candidate> = None;
    for (index, raw) in complete.split(|&byte| byte == b'\n').enumerate() {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = index + 1;
        let text = non_finite_to_null(raw);
        let summary: EpochSummary =
            serde_json::from_slice(&text).map_err(|error| ResultError::Epoch {
                line,
                reason: error.to_string(),
            })?;
        done = done.saturating_add(1);
        let candidate = Candidate {
            line,
            epoch: summary.current_epoch.unwrap_or(done),
            loss: summary.loss.unwrap_or(f64::NAN),
            text,
        };
        losses.push((
            candidate.epoch,
            Some(candidate.loss).filter(|loss| loss.is_finite()),
        ));
        if summary.is_best {
            last_marked = Some(candidate);
        } else if candidate.loss.is_finite()
            && lowest.as_ref().is_none_or(|low| candidate.loss < low.loss)
        {
            lowest = Some(candidate);
        }
    }

    // `lowest` is only used when no epoch is marked, so it only looks at unmarked ones.
    let Some(best) = last_marked.or(lowest) else {
        return Ok(HyperoptEpochs {
            done,
            best: None,
            losses,
        });
    };
    let detail: EpochDetail =
        serde_json::from_slice(&best.text).map_err(|error| ResultError::Epoch {
            line: best.line,
            reason: error.to_string(),
        })?;
    let mut metrics = detail.results_metrics;
    for list in CAPPED_LISTS {
        metrics.remove(list);
    }
    Ok(HyperoptEpochs {
        done,
        best: Some(BestEpoch {
            epoch: best.epoch,
            loss: best.loss,
            params: detail.params_dict,
            metrics,
        }),
        losses,
    })
}

/// freqtrade writes epoch lines with rapidjson's NaN mode: a loss or metric that is not a
/// finite number appears as a bare `NaN`, `Infinity` or `-Infinity`, which is not JSON. Those
/// tokens (outside strings only) become `null`. Copies only when there is one.
fn non_finite_to_null(line: &[u8]) -> Cow<'_, [u8]> {
    const TOKENS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut fixed: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    let mut at = 0;
    while let Some(&byte) = line.get(at) {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
        } else if let Some(token) = TOKENS.iter().find(|token| line[at..].starts_with(token)) {
            fixed
                .get_or_insert_with(|| line[..at].to_vec())
                .extend_from_slice(b"null");
            at += token.len();
            continue;
        }
        if let Some(fixed) = fixed.as_mut() {
            fixed.push(byte);
        }
        at += 1;
    }
    fixed.map_or(Cow::Borrowed(line), Cow::Owned)
}

/// The results object the executor records for a completed hyperopt, or `None` when no epoch
/// finished: `{"best_epoch", "loss", "params", "metrics", "epochs_done", "epoch_losses"}`
/// (`loss` is `null` when it is not a finite number; `epoch_losses` is `[[epoch, loss],
/// …]` in the order the epochs ended, a loss `null` the same way).
pub fn hyperopt_results(epochs: &HyperoptEpochs) -> Option<Map<String, Value>> {
    let best = epochs.best.as_ref()?;
    let mut results = Map::new();
    results.insert("best_epoch".into(), best.epoch.into());
    results.insert("loss".into(), best.loss.into());
    results.insert("params".into(), Value::Object(best.params.clone()));
    results.insert("metrics".into(), Value::Object(best.metrics.clone()));
    results.insert("epochs_done".into(), epochs.done.into());
    let losses = epochs
        .losses
        .iter()
        .map(|(epoch, loss)| Value::from(vec![Value::from(*epoch), Value::from(*loss)]))
        .collect();
    results.insert("epoch_losses".into(), Value::Array(losses));
    Some(results)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;

    const BACKTEST_LAST: &[u8] =
        include_bytes!("../../tests/fixtures/freqtrade/jobs/backtest_last_result.json");
    const HYPEROPT_LAST: &[u8] =
        include_bytes!("../../tests/fixtures/freqtrade/jobs/hyperopt_last_result.json");
    const BACKTEST_ZIP: &[u8] = include_bytes!(
        "../../tests/fixtures/freqtrade/jobs/backtest-result-2026-11-25_02-20-57.zip"
    );
    const FTHYPT: &[u8] = include_bytes!(
        "../../tests/fixtures/freqtrade/jobs/strategy_Tunable_2026-11-25_02-20-22.fthypt"
    );

    /// A zip archive of `members`, deflated as freqtrade writes them.
    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            zip.start_file(*name, options).expect("member");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish").into_inner()
    }

    /// A freqtrade-shaped archive whose `Synthetic` stats have `trades` trades, with the
    /// config and parameter members freqtrade adds (neither holds statistics).
    fn synthetic_archive(trades: usize) -> Vec<u8> {
        let trades: Vec<Value> = (0..trades).map(|id| json!({ "trade_id": id })).collect();
        let stats = json!({
            "strategy": {
                "Other": { "total_trades": 1, "trades": [{}] },
                "Synthetic": { "total_trades": trades.len(), "trades": trades, "locks": [] },
            },
            "strategy_comparison": [],
        });
        archive(&[
            ("r_config.json", br#"{"strategy": "Synthetic"}"#),
            ("r.json", stats.to_string().as_bytes()),
            (
                "r_Synthetic.json",
                br#"{"strategy_name": "Synthetic", "params": {}}"#,
            ),
        ])
    }

    #[test]
    fn oversized_statistics_fail_instead_of_ending() {
        let mut limited = Limited {
            inner: &b"abcdef"[..],
            left: 3,
        };
        let mut read = Vec::new();
        let error = limited.read_to_end(&mut read).expect_err("over the limit");
        assert_eq!(read, b"abc");
        assert!(error.to_string().starts_with("larger than "), "{error}");
    }

    #[test]
    fn real_last_results_name_their_files() {
        assert_eq!(
            latest_backtest(BACKTEST_LAST).expect("backtest"),
            "backtest-result-2026-11-25_02-20-57.zip"
        );
        assert_eq!(
            latest_hyperopt(HYPEROPT_LAST).expect("hyperopt"),
            "strategy_Tunable_2026-11-25_02-20-22.fthypt"
        );
    }

    #[test]
    fn a_last_result_without_its_key_is_refused() {
        assert_eq!(
            latest_backtest(HYPEROPT_LAST),
            Err(ResultError::LastResultKey {
                dir: "backtest_results",
                key: "latest_backtest"
            })
        );
        assert_eq!(
            latest_hyperopt(br#"{"latest_hyperopt": 3}"#),
            Err(ResultError::LastResultKey {
                dir: "hyperopt_results",
                key: "latest_hyperopt"
            })
        );
    }

    #[test]
    fn a_last_result_naming_anything_but_a_plain_file_is_refused() {
        for name in ["../x", "/etc/passwd", "a/b.zip", "..", ".", "", "a\\b.zip"] {
            let document = json!({ "latest_backtest": name }).to_string();
            assert_eq!(
                latest_backtest(document.as_bytes()),
                Err(ResultError::LastResultName {
                    dir: "backtest_results",
                    name: name.to_owned()
                }),
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_last_result_that_is_not_json_says_which_file() {
        let error = latest_backtest(b"{\"latest_backtest\": ").expect_err("truncated");
        assert!(
            error
                .to_string()
                .starts_with("backtest_results/.last_result.json is not valid JSON: "),
            "{error}"
        );
    }

    #[test]
    fn real_backtest_stats_are_read_for_their_class() {
        let stats = backtest_stats(BACKTEST_ZIP, "Tunable").expect("stats");
        assert_eq!(stats["total_trades"], 25);
        assert_eq!(stats["strategy_name"], "Tunable");
        assert!(stats["profit_total"].is_f64(), "{}", stats["profit_total"]);
        assert!(stats["profit_total_abs"].is_f64());
        assert_eq!(stats["trades"].as_array().map(Vec::len), Some(25));
        assert!(!stats.contains_key("trades_omitted"));
    }

    #[test]
    fn real_backtest_trades_are_capped() {
        let stats = backtest_stats_capped(BACKTEST_ZIP, "Tunable", 10).expect("stats");
        assert_eq!(stats["trades"].as_array().map(Vec::len), Some(10));
        assert_eq!(stats["trades_omitted"], 15);
        assert_eq!(stats["total_trades"], 25);
    }

    #[test]
    fn more_trades_than_the_cap_are_cut_and_counted() {
        let stats = backtest_stats(&synthetic_archive(MAX_BACKTEST_TRADES + 1), "Synthetic")
            .expect("stats");
        let trades = stats["trades"].as_array().expect("trades");
        assert_eq!(trades.len(), MAX_BACKTEST_TRADES);
        assert_eq!(trades[999]["trade_id"], 999);
        assert_eq!(stats["trades_omitted"], 1);
        assert_eq!(stats["total_trades"], MAX_BACKTEST_TRADES + 1);
        assert_eq!(stats["locks"], json!([]));
        assert!(!stats.contains_key("locks_omitted"));
    }

    #[test]
    fn exactly_the_cap_is_not_cut() {
        let stats =
            backtest_stats(&synthetic_archive(MAX_BACKTEST_TRADES), "Synthetic").expect("stats");
        assert_eq!(
            stats["trades"].as_array().map(Vec::len),
            Some(MAX_BACKTEST_TRADES)
        );
        assert!(!stats.contains_key("trades_omitted"));
    }

    #[test]
    fn a_missing_class_is_named_with_the_ones_there() {
        let error = backtest_stats(BACKTEST_ZIP, "AlwaysEnter").expect_err("not there");
        assert_eq!(
            error,
            ResultError::NoStrategy {
                class: "AlwaysEnter".into(),
                found: vec!["Tunable".into()]
            }
        );
        assert_eq!(
            error.to_string(),
            "the result archive has no statistics for strategy AlwaysEnter (it has: Tunable)"
        );
    }

    #[test]
    fn bytes_that_are_not_a_zip_are_refused() {
        assert!(matches!(
            backtest_stats(b"{\"strategy\": {}}", "Tunable"),
            Err(ResultError::Archive { .. })
        ));
        let truncated = &BACKTEST_ZIP[..BACKTEST_ZIP.len() / 2];
        assert!(matches!(
            backtest_stats(truncated, "Tunable"),
            Err(ResultError::Archive { .. })
        ));
    }

    #[test]
    fn an_archive_without_json_has_no_statistics() {
        let zip = archive(&[("r_wallet.feather", b"ARROW1")]);
        assert_eq!(
            backtest_stats(&zip, "Tunable"),
            Err(ResultError::NoStatistics)
        );
    }

    #[test]
    fn statistics_that_are_not_json_name_the_member() {
        let zip = archive(&[("r.json", b"{\"strategy\": {\"Tunable\": {")]);
        let error = backtest_stats(&zip, "Tunable").expect_err("truncated");
        assert!(
            matches!(&error, ResultError::Statistics { member, .. } if member == "r.json"),
            "{error:?}"
        );
        let zip = archive(&[("r.json", b"{\"strategy_comparison\": []}")]);
        let error = backtest_stats(&zip, "Tunable").expect_err("no strategy");
        assert!(
            error.to_string().contains("missing field `strategy`"),
            "{error}"
        );
        let zip = archive(&[("r.json", b"{\"strategy\": {\"Tunable\": {\"trades\": 3}}}")]);
        assert!(matches!(
            backtest_stats(&zip, "Tunable"),
            Err(ResultError::Statistics { .. })
        ));
    }

    #[test]
    fn real_fthypt_gives_the_last_epoch_marked_best() {
        // Epochs 1 and 2 are marked best, epoch 3 is not.
        let epochs = hyperopt_epochs(FTHYPT).expect("epochs");
        assert_eq!(epochs.done, 3);
        let numbers: Vec<u32> = epochs.losses.iter().map(|(epoch, _)| *epoch).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert!(epochs.losses.iter().all(|(_, loss)| loss.is_some()));
        let results = hyperopt_results(&epochs).expect("results");
        assert_eq!(results["epoch_losses"][1][0], 2);
        assert_eq!(results["epoch_losses"][1][1], results["loss"]);
        let best = epochs.best.expect("best");
        assert_eq!(best.epoch, 2);
        assert!(
            (best.loss - -65.2062528414603).abs() < 1e-9,
            "{}",
            best.loss
        );
        assert_eq!(
            best.params,
            json!({ "buy_every": 2 }).as_object().cloned().expect("map")
        );
        assert_eq!(best.metrics["total_trades"], 23);
        assert!(best.metrics.contains_key("profit_total"));
        assert!(!best.metrics.contains_key("trades"));
        assert!(!best.metrics.contains_key("locks"));
    }

    #[test]
    fn a_trailing_partial_line_is_ignored() {
        let mut growing = FTHYPT.to_vec();
        let first_line = FTHYPT.split(|&b| b == b'\n').next().expect("line");
        growing.extend_from_slice(&first_line[..first_line.len() / 2]);
        let epochs = hyperopt_epochs(&growing).expect("epochs");
        assert_eq!(epochs.done, 3);
        assert_eq!(epochs.best.map(|best| best.epoch), Some(2));
        // Even a whole object counts only once its newline is written.
        let unterminated = br#"{"loss": -1.0, "is_best": true, "current_epoch": 1}"#;
        assert_eq!(hyperopt_epochs(unterminated).expect("epochs").done, 0);
    }

    #[test]
    fn an_empty_fthypt_has_no_epochs() {
        let epochs = hyperopt_epochs(b"").expect("epochs");
        assert_eq!(
            epochs,
            HyperoptEpochs {
                done: 0,
                best: None,
                losses: Vec::new(),
            }
        );
        assert_eq!(hyperopt_results(&epochs), None);
    }

    #[test]
    fn a_broken_line_before_the_last_is_an_error() {
        let fthypt = b"{\"loss\": 1.0, \"is_best\": true}\nnot json\n{\"loss\": 0.5}\n";
        let error = hyperopt_epochs(fthypt).expect_err("broken");
        assert!(
            matches!(error, ResultError::Epoch { line: 2, .. }),
            "{error:?}"
        );
        assert!(matches!(
            hyperopt_epochs(b"[1, 2]\n"),
            Err(ResultError::Epoch { line: 1, .. })
        ));
    }

    #[test]
    fn the_last_marked_epoch_wins_over_a_lower_loss() {
        let fthypt = concat!(
            r#"{"loss": -1.0, "is_best": true, "current_epoch": 1, "params_dict": {"x": 1}}"#,
            "\n",
            r#"{"loss": -5.0, "is_best": false, "current_epoch": 2, "params_dict": {"x": 2}}"#,
            "\n",
            r#"{"loss": -2.0, "is_best": true, "current_epoch": 3, "params_dict": {"x": 3}}"#,
            "\n",
            r#"{"loss": -3.0, "is_best": false, "current_epoch": 4, "params_dict": {"x": 4}}"#,
            "\n",
        );
        let best = hyperopt_epochs(fthypt.as_bytes())
            .expect("epochs")
            .best
            .expect("best");
        assert_eq!((best.epoch, best.loss), (3, -2.0));
        assert_eq!(best.params["x"], 3);
    }

    #[test]
    fn without_a_marked_epoch_the_lowest_finite_loss_wins() {
        // Written by rapidjson's NaN mode; no `current_epoch`, so epochs number by position.
        let fthypt = concat!(
            r#"{"loss": 2.0, "results_metrics": {"sharpe": NaN}}"#,
            "\n\n",
            r#"{"loss": -Infinity, "results_metrics": {"note": "NaN"}}"#,
            "\n",
            r#"{"loss": 0.5, "results_metrics": {"sharpe": Infinity, "trades": []}}"#,
            "\n",
            r#"{"loss": NaN}"#,
            "\n",
        );
        let epochs = hyperopt_epochs(fthypt.as_bytes()).expect("epochs");
        assert_eq!(epochs.done, 4);
        let best = epochs.best.expect("best");
        assert_eq!((best.epoch, best.loss), (3, 0.5));
        assert_eq!(
            best.metrics,
            json!({ "sharpe": null }).as_object().cloned().expect("map")
        );
    }

    #[test]
    fn non_finite_tokens_become_null_outside_strings_only() {
        let line = br#"{"a": NaN, "b": [Infinity, -Infinity], "s": "NaN \" Infinity", "t": "x\\"}"#;
        assert_eq!(
            non_finite_to_null(line).as_ref(),
            br#"{"a": null, "b": [null, null], "s": "NaN \" Infinity", "t": "x\\"}"#
        );
        assert!(matches!(
            non_finite_to_null(br#"{"a": 1.5}"#),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn hyperopt_results_record_the_real_best_epoch() {
        let epochs = hyperopt_epochs(FTHYPT).expect("epochs");
        let results = hyperopt_results(&epochs).expect("results");
        assert_eq!(results["best_epoch"], 2);
        assert_eq!(results["epochs_done"], 3);
        assert_eq!(results["params"], json!({ "buy_every": 2 }));
        assert_eq!(results["metrics"]["total_trades"], 23);
        assert!(results["loss"].is_f64());
        let mut keys: Vec<&str> = results.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "best_epoch",
                "epoch_losses",
                "epochs_done",
                "loss",
                "metrics",
                "params"
            ]
        );
    }

    #[test]
    fn a_non_finite_best_loss_is_recorded_as_null() {
        let epochs = HyperoptEpochs {
            done: 1,
            best: Some(BestEpoch {
                epoch: 1,
                loss: f64::NAN,
                params: Map::new(),
                metrics: Map::new(),
            }),
            losses: vec![(1, None)],
        };
        let results = hyperopt_results(&epochs).expect("results");
        assert_eq!(results["loss"], Value::Null);
        assert_eq!(results["epoch_losses"], json!([[1, null]]));
    }

    #[test]
    fn epochs_done_counts_complete_lines_as_the_parse_does() {
        let real = include_bytes!(
            "../../tests/fixtures/freqtrade/jobs/strategy_Tunable_2026-11-25_02-20-22.fthypt"
        );
        assert_eq!(
            epochs_done(real),
            hyperopt_epochs(real).expect("parses").done
        );
        assert_eq!(epochs_done(real), 3);
        assert_eq!(epochs_done(b"{}\n\n{}\n{\"partial"), 2);
        assert_eq!(epochs_done(b""), 0);
    }
}
