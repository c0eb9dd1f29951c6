//! Restarts this machine's Docker engine as an upgrade or a crash of the daemon
//! would: the daemon is stopped (without live-restore, its containers stop with it)
//! and started again with its own command line, detached as `start-stop-daemon`
//! started it (Debian's service script cannot run here: it raises a limit the sandbox
//! refuses). Only where asked to (`ANYTRADE_TEST_RESTART_DOCKER=1`, which
//! `scripts/test` sets: a developer's `cargo test` leaves their engine alone), where
//! this process may (root, the engine on this host), and never an engine a service
//! manager runs (systemd would start it again on its own); callers keep every other use
//! of the engine out meanwhile.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PID_FILE: &str = "/var/run/docker.pid";
const LOG_FILE: &str = "/var/log/docker.log";
const STOP_WITHIN: Duration = Duration::from_secs(120);
const START_WITHIN: Duration = Duration::from_secs(60);

/// Why the engine cannot be restarted from here, if it cannot.
pub fn cannot_restart() -> Option<String> {
    if std::env::var_os("ANYTRADE_TEST_RESTART_DOCKER").is_none_or(|v| v != "1") {
        return Some("ANYTRADE_TEST_RESTART_DOCKER is not 1".into());
    }
    let pid = match daemon_pid() {
        Ok(pid) => pid,
        Err(e) => return Some(e),
    };
    if Command::new("start-stop-daemon")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("no start-stop-daemon to start the engine with".into());
    }
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    if cgroup.contains(".service") {
        return Some(format!(
            "the engine runs under a service manager ({cgroup:?})"
        ));
    }
    command_line(pid).err()
}

/// Whether the engine keeps containers running while it restarts.
pub fn live_restore() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.LiveRestoreEnabled}}"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "true")
}

/// How long a restart took.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    /// From the stop signal until the daemon was gone.
    pub stopping: Duration,
    /// From the stop signal until the engine answered again.
    pub down: Duration,
}

/// Stops the daemon, waits until it is gone, starts it, and waits until it answers.
pub fn restart() -> Result<Restart, String> {
    let pid = daemon_pid()?;
    let (program, args) = command_line(pid)?;
    let began = Instant::now();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    if !signalled.success() {
        return Err(format!("cannot signal the engine (pid {pid})"));
    }
    while alive(pid) {
        if began.elapsed() > STOP_WITHIN {
            return Err(format!(
                "the engine (pid {pid}) did not stop within {STOP_WITHIN:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stopping = began.elapsed();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(LOG_FILE)
        .map_err(|e| format!("open {LOG_FILE}: {e}"))?;
    let started = Command::new("start-stop-daemon")
        .args([
            "--start",
            "--background",
            "--no-close",
            "--exec",
            &program,
            "--",
        ])
        .args(&args)
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .status()
        .map_err(|e| format!("start-stop-daemon: {e}"))?;
    if !started.success() {
        return Err(format!(
            "cannot start {program} again ({started}); see {LOG_FILE}"
        ));
    }
    let starting = Instant::now();
    while !answers() {
        if starting.elapsed() > START_WITHIN {
            return Err(format!(
                "the engine did not answer within {START_WITHIN:?} of its start"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Restart {
        stopping,
        down: began.elapsed(),
    })
}

/// The daemon's program and arguments, to start it again as it was.
fn command_line(pid: u32) -> Result<(String, Vec<String>), String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map_err(|e| format!("cannot read the engine's command line: {e}"))?;
    let mut words = raw
        .split(|b| *b == 0)
        .filter(|word| !word.is_empty())
        .map(|word| String::from_utf8_lossy(word).into_owned());
    let program = words
        .next()
        .filter(|program| Path::new(program).is_absolute())
        .ok_or_else(|| format!("the engine's command line names no program by path: {raw:?}"))?;
    Ok((program, words.collect()))
}

fn daemon_pid() -> Result<u32, String> {
    let text = std::fs::read_to_string(PID_FILE)
        .map_err(|e| format!("cannot read the engine's pid from {PID_FILE}: {e}"))?;
    let pid = text
        .trim()
        .parse()
        .map_err(|_| format!("{PID_FILE} holds no pid: {text:?}"))?;
    if alive(pid) {
        Ok(pid)
    } else {
        Err(format!(
            "the engine's pid {pid} (from {PID_FILE}) runs no process"
        ))
    }
}

/// Whether `pid` runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn answers() -> bool {
    Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|out| out.status.success())
}
