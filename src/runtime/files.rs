//! Files a runtime lays out for freqtrade and reads back from it: the run files (the
//! strategy and the config) and the records it keeps beside them.

use std::path::{Component, Path, PathBuf};

use super::{RuntimeError, StrategyFile};

/// Writes `strategy` (alone in `dir/user_data/strategies`, so no stale class is found)
/// and `config` (`dir/config.json`); returns the config's path.
pub(crate) async fn write_run_files(
    dir: &Path,
    strategy: &StrategyFile,
    config: &serde_json::Value,
) -> Result<PathBuf, RuntimeError> {
    let strategies = dir.join("user_data").join("strategies");
    if strategies.exists() {
        tokio::fs::remove_dir_all(&strategies)
            .await
            .map_err(RuntimeError::io("clear the strategies directory"))?;
    }
    tokio::fs::create_dir_all(&strategies)
        .await
        .map_err(RuntimeError::io(format!("create {}", strategies.display())))?;
    tokio::fs::write(
        strategies.join(format!("{}.py", strategy.class_name)),
        &strategy.code,
    )
    .await
    .map_err(RuntimeError::io("write the strategy file"))?;
    let config_file = dir.join("config.json");
    let text = serde_json::to_vec_pretty(config).map_err(|e| RuntimeError::Io {
        action: "serialize the config".into(),
        source: e.into(),
    })?;
    tokio::fs::write(&config_file, text)
        .await
        .map_err(RuntimeError::io("write the config file"))?;
    Ok(config_file)
}

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one,
/// never a part (records are read while their jobs and bots change them).
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await
}

/// A file a job wrote, by its path under `dir/user_data`; `None` when there is none.
/// Only plain relative paths are read: nothing outside the job's `user_data`.
pub(crate) async fn user_data_file(
    dir: &Path,
    path: &str,
) -> Result<Option<Vec<u8>>, RuntimeError> {
    let relative = Path::new(path);
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !inside || path.is_empty() {
        return Err(RuntimeError::OutsideJob(path.to_owned()));
    }
    let file: PathBuf = dir.join("user_data").join(relative);
    match tokio::fs::read(&file).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RuntimeError::io(format!("read {}", file.display()))(e)),
    }
}
