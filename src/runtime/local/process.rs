//! freqtrade as a child process: started in a process group of its own so that it
//! outlives a control-plane restart and so that stopping it ends everything it
//! started; found again after a restart by pid and the kernel's start time of that
//! pid, so a recycled pid is never mistaken for the bot. A process whose record was
//! never written (the control plane died between the two) is found by its command line
//! ([`with_argument`]).

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::super::RuntimeError;

/// Environment variables freqtrade inherits from the control plane; everything else
/// (AnyTrade's own keys above all) stays out of its environment.
const INHERITED_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE"];

/// One freqtrade command to run.
pub struct Launch<'a> {
    pub executable: &'a Path,
    pub arguments: Vec<OsString>,
    /// Its working directory.
    pub dir: &'a Path,
    /// Where stdout and stderr are appended.
    pub log: &'a Path,
    pub environment: &'a [(&'static str, Zeroizing<String>)],
}

/// Starts `launch` in a process group of its own, with a clean environment.
pub fn spawn(launch: Launch<'_>) -> Result<(tokio::process::Child, ProcessId), RuntimeError> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(launch.log)
        .map_err(RuntimeError::io(format!("open {}", launch.log.display())))?;
    let stderr = log
        .try_clone()
        .map_err(RuntimeError::io("share the log file"))?;
    let mut command = tokio::process::Command::new(launch.executable);
    command
        .args(&launch.arguments)
        .current_dir(launch.dir)
        .env_clear()
        .envs(
            INHERITED_ENV
                .iter()
                .filter_map(|k| Some((k, std::env::var_os(k)?))),
        )
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .process_group(0);
    for (name, value) in launch.environment {
        command.env(name, value.as_str());
    }
    let child = command.spawn().map_err(RuntimeError::io(format!(
        "start {}",
        launch.executable.display()
    )))?;
    let process =
        child
            .id()
            .and_then(ProcessId::of)
            .ok_or_else(|| RuntimeError::ExitedAtStart {
                status: "gone".into(),
                reason: "freqtrade ended before it could be watched".into(),
            })?;
    Ok((child, process))
}

/// A process AnyTrade started: enough to find it again and to tell it from a later
/// process that got the same pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot when it started.
    pub start_time: u64,
}

impl ProcessId {
    /// The process `pid` as it is now; `None` when there is none.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = read_stat(pid)?;
        Some(Self {
            pid,
            start_time: stat.start_time,
        })
    }

    /// Whether this very process still runs (a zombie does not count).
    pub fn is_alive(&self) -> bool {
        read_stat(self.pid)
            .is_some_and(|stat| stat.start_time == self.start_time && stat.state != 'Z')
    }

    /// Ends the process group: SIGTERM, then SIGKILL after `grace`.
    pub async fn terminate(&self, grace: Duration) {
        if !self.is_alive() {
            return;
        }
        let group = Pid::from_raw(self.pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        // A stopped process (SIGSTOP, a debugger) handles SIGTERM only once continued.
        let _ = killpg(group, Signal::SIGCONT);
        let deadline = tokio::time::Instant::now() + grace;
        while self.is_alive() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The group may hold children even when the leader is gone.
        let _ = killpg(group, Signal::SIGKILL);
        while self.is_alive() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

struct Stat {
    state: char,
    start_time: u64,
}

/// Every live process (zombies excluded) with an argument that `matches`, with that
/// argument. Reads `/proc`; processes that end meanwhile are skipped.
pub fn with_argument(matches: impl Fn(&[u8]) -> bool) -> Vec<(ProcessId, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let Some(argument) = cmdline.split(|b| *b == 0).find(|a| matches(a)) else {
            continue;
        };
        if let Some(process) = ProcessId::of(pid).filter(ProcessId::is_alive) {
            found.push((process, argument.to_vec()));
        }
    }
    found
}

/// Reads state and start time from `/proc/<pid>/stat`. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn read_stat(pid: u32) -> Option<Stat> {
    let text =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // Fields from 3 on: state is 3, start time is 22.
    let state = fields.next()?.chars().next()?;
    let start_time = fields.nth(18)?.parse().ok()?;
    Some(Stat { state, start_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_is_found_by_an_argument_of_its_command_line() {
        let marker = format!("anytrade-test-{}", uuid::Uuid::new_v4());
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", "sleep 30; true", &marker])
            .spawn()
            .expect("sleep");
        // Until the child has exec'd, its command line is still this test's.
        let mut found = Vec::new();
        for _ in 0..100 {
            found = with_argument(|a| a == marker.as_bytes());
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(found.len(), 1);
        assert_eq!(Some(found[0].0.pid), child.id());
        child.kill().await.expect("kill");
        child.wait().await.expect("reap");
        assert!(with_argument(|a| a == marker.as_bytes()).is_empty());
    }

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (free trade) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 3 0 987654 123 456";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.start_time, 987654);
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (x) S 1").is_none());
    }

    #[tokio::test]
    async fn a_process_is_found_by_pid_and_start_time_and_terminated_with_its_group() {
        let child = tokio::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let id = ProcessId::of(child.id().unwrap()).unwrap();
        assert!(id.is_alive());
        let recycled = ProcessId {
            start_time: id.start_time + 1,
            ..id
        };
        assert!(!recycled.is_alive(), "same pid, other start time");
        // Reap the child as the runtime does, so it does not linger as a zombie.
        let reaper = tokio::spawn(async move {
            let mut child = child;
            child.wait().await
        });
        id.terminate(Duration::from_secs(5)).await;
        assert!(!id.is_alive());
        assert!(!reaper.await.unwrap().unwrap().success());
    }
}
