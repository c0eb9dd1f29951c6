//! freqtrade installations for the local runtime: one virtual environment per version,
//! made on first use (`python3 -m venv`, `pip install "freqtrade[hyperopt]==VERSION"`;
//! the extra brings what hyperopts need) and reused.
//!
//! A finished installation has a marker file; a directory without it (a crash or a
//! failed pip run) is removed and made again. A file lock per version keeps two bots,
//! or two control planes sharing the directory, from installing the same version at
//! once.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::super::RuntimeError;

/// Written last; its content names what was installed.
const MARKER: &str = ".anytrade-installed";

pub struct Installs {
    root: PathBuf,
    python: String,
}

impl Installs {
    pub fn new(root: PathBuf, python: String) -> Self {
        Self { root, python }
    }

    /// The `freqtrade` executable of `version`, installed first if needed.
    pub async fn ensure(&self, version: &str) -> Result<PathBuf, RuntimeError> {
        let dir = self.root.join(version);
        let executable = dir.join("bin").join("freqtrade");
        if dir.join(MARKER).exists() && executable.exists() {
            return Ok(executable);
        }
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(RuntimeError::io(format!("create {}", self.root.display())))?;
        let lock_path = self.root.join(format!(".{version}.lock"));
        let lock = tokio::task::spawn_blocking(move || lock_exclusive(&lock_path))
            .await
            .map_err(|e| install_error(version, format!("lock task failed: {e}")))??;
        // Another installer may have finished while we waited for the lock.
        if dir.join(MARKER).exists() && executable.exists() {
            drop(lock);
            return Ok(executable);
        }
        let result = self.install(version, &dir).await;
        drop(lock);
        result.map(|()| executable)
    }

    async fn install(&self, version: &str, dir: &Path) -> Result<(), RuntimeError> {
        if dir.exists() {
            tokio::fs::remove_dir_all(dir)
                .await
                .map_err(RuntimeError::io(format!("remove {}", dir.display())))?;
        }
        tracing::info!(version, dir = %dir.display(), "installing freqtrade");
        let venv = Command::new(&self.python)
            .args(["-m", "venv"])
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => install_error(
                    version,
                    format!(
                        "{} not found (runtime.local.python): install Python 3.11 or newer",
                        self.python
                    ),
                ),
                _ => install_error(version, format!("cannot run {}: {e}", self.python)),
            })?;
        if !venv.status.success() {
            return Err(install_error(
                version,
                format!(
                    "`{} -m venv` failed: {}",
                    self.python,
                    last_error_line(&venv.stderr)
                ),
            ));
        }
        let pip = dir.join("bin").join("pip");
        let installed = Command::new(&pip)
            .args([
                "install",
                "--disable-pip-version-check",
                "--no-input",
                &format!("freqtrade[hyperopt]=={version}"),
            ])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| install_error(version, format!("cannot run pip: {e}")))?;
        if !installed.status.success() {
            let _ = tokio::fs::remove_dir_all(dir).await;
            return Err(install_error(
                version,
                format!("pip: {}", last_error_line(&installed.stderr)),
            ));
        }
        tokio::fs::write(dir.join(MARKER), version)
            .await
            .map_err(RuntimeError::io("mark the installation finished"))?;
        tracing::info!(version, "freqtrade installed");
        Ok(())
    }
}

fn install_error(version: &str, reason: String) -> RuntimeError {
    RuntimeError::Install {
        version: version.to_owned(),
        reason,
    }
}

/// pip's and venv's own explanation: the last line that starts with `ERROR:`, else the
/// last non-empty line.
fn last_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or(lines.last())
        .copied()
        .unwrap_or("no output");
    line.chars().take(500).collect()
}

fn lock_exclusive(path: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, RuntimeError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(RuntimeError::io(format!("open {}", path.display())))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, errno)| {
        RuntimeError::Io {
            action: format!("lock {}", path.display()),
            source: errno.into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_errors_are_reduced_to_their_reason() {
        let stderr = b"Looking in indexes: x\nERROR: Could not find a version that satisfies the requirement freqtrade==1999.1\nERROR: No matching distribution found for freqtrade==1999.1\n";
        assert_eq!(
            last_error_line(stderr),
            "ERROR: No matching distribution found for freqtrade==1999.1"
        );
        assert_eq!(last_error_line(b"\n  boom \n"), "boom");
        assert_eq!(last_error_line(b""), "no output");
    }

    #[tokio::test]
    async fn a_missing_python_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let installs = Installs::new(root.path().to_owned(), "no-such-python-3".into());
        let error = installs.ensure("2026.9").await.unwrap_err().to_string();
        assert_eq!(
            error,
            "freqtrade 2026.9 cannot be installed: no-such-python-3 not found \
             (runtime.local.python): install Python 3.11 or newer"
        );
    }
}
