//! The strategy checker on arbitrary input: it must answer every input (no panic, no
//! stack overflow however deep the nesting) within the per-input time limit the runner
//! sets, and agree with itself: code it accepts names exactly one class.
#![no_main]

use anytrade_aggregates::{StrategyCode, analyze};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(code) = std::str::from_utf8(data) else {
        return;
    };
    let analysis = analyze(code);
    if analysis.problems.is_empty() {
        assert!(analysis.class_name.is_some(), "accepted without a class");
    }
    let parsed = StrategyCode::parse(code);
    assert_eq!(parsed.is_ok(), analysis.is_valid(), "parse and analyze disagree");
});
