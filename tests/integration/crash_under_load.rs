//! The short form of the crash soak (`scripts/bench chaos` runs the long one): the real
//! binary under 8 clients' commands, SIGKILLed three times and started again. Nothing
//! acknowledged is lost, nothing is in the log twice, the projectors reach the head by
//! themselves, and the read models equal a rebuild.

use std::time::Duration;

use crate::crash_load::{Plan, run};
use crate::helpers::fresh_database_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let plan = Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        database_url: fresh_database_url().await,
        clients: 8,
        kills: 3,
        serve_for: Duration::from_millis(500)..Duration::from_millis(1500),
    };
    let report = run(&plan).await;
    eprintln!("{report:#?}");
    assert_eq!(report.kills, 3);
    assert!(
        report.acknowledged >= 100,
        "too little load to mean anything: {report:?}"
    );
    assert!(report.bots_checked > 0, "no bot's wish was checked");
    assert_eq!(report.failures(), Vec::<String>::new());
}
