//! The short forms of the crash soaks (`scripts/bench chaos` runs the long ones): the
//! real binary SIGKILLed under load and started again.
//!
//! Under 8 clients' commands: nothing acknowledged is lost, nothing is in the log twice,
//! the projectors reach the head by themselves, and the read models equal a rebuild.
//! Managing bots on the local runtime, and on the docker runtime, under
//! start/stop/restart/delete commands: every bot settles where its last acknowledged
//! command put it, with exactly one process (or running container) when it runs and
//! none otherwise.

use std::time::Duration;

use crate::crash_load::{Plan, run};
use crate::helpers::fresh_database_url;
use crate::side_effects;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let plan = Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        database_url: fresh_database_url().await,
        clients: 8,
        kills: 3,
        serve_for: Duration::from_millis(500)..Duration::from_millis(1500),
        min_per_window: 12,
    };
    let report = run(&plan).await;
    eprintln!("{report:#?}");
    assert_eq!(report.kills, 3);
    // How many commands 8 clients get through between kills depends on the machine's
    // load (8 in 4 windows in one run with every test at once, 300 alone), so each
    // window lasts until 12 are through: enough that the log is checked against some.
    assert!(
        report.acknowledged >= 40,
        "too little load to mean anything: {report:?}"
    );
    assert!(report.bots_checked > 0, "no bot's wish was checked");
    assert_eq!(report.failures(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_managing_bots_leaves_one_process_per_running_bot() {
    let plan = side_effects::Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        fleet: side_effects::Fleet::Local,
        database_url: fresh_database_url().await,
        bots: 5,
        commands: 150,
        kills: 4,
        clients: 2,
        serve_for: Duration::from_millis(700)..Duration::from_millis(2000),
    };
    let report = side_effects::run(&plan).await;
    eprintln!("{report:#?}");
    assert_eq!(report.kills, 4);
    // Most commands are refused as conflicts (a start while starting, …): what counts is
    // that some were carried out and bots' last commands could be checked.
    assert!(report.acknowledged >= 25, "too little load: {report:?}");
    assert!(report.bots_checked > 0, "no bot's last command was checked");
    assert!(report.peak_processes > 0, "no bot ever ran: {report:?}");
    assert_eq!(report.failures(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_managing_docker_bots_leaves_one_container_per_running_bot() {
    if !crate::docker_runtime::docker_wanted() {
        return;
    }
    let _engine = crate::docker_runtime::ENGINE.read().await;
    let plan = side_effects::Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        fleet: side_effects::Fleet::Docker,
        database_url: fresh_database_url().await,
        bots: 3,
        commands: 60,
        kills: 3,
        clients: 2,
        serve_for: Duration::from_millis(1000)..Duration::from_millis(2500),
    };
    let report = side_effects::run(&plan).await;
    eprintln!("{report:#?}");
    assert_eq!(report.kills, 3);
    // Load varies most here (the stand-in image is built while other tests run).
    assert!(report.acknowledged >= 10, "too little load: {report:?}");
    assert!(report.bots_checked > 0, "no bot's last command was checked");
    assert!(report.peak_processes > 0, "no bot ever ran: {report:?}");
    assert_eq!(report.failures(), Vec::<String>::new());
}
