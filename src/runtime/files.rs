//! Files a runtime lays out for freqtrade and reads back from it: the run files (the
//! strategy and the config) and the records it keeps beside them.
//!
//! The directories are shared with code AnyTrade does not control (a strategy runs in
//! them, in a container as another user perhaps), so nothing here follows a link
//! planted there: links in the way are removed before writing, and a file is read only
//! when it resolves inside the directory, is a regular file, and is not huge.

use std::path::{Component, Path, PathBuf};

use super::{RuntimeError, StrategyFile};

/// Writes `strategy` (alone in `dir/user_data/strategies`, so no stale class is found)
/// and `config` (`dir/config.json`); returns the config's path.
pub(crate) async fn write_run_files(
    dir: &Path,
    strategy: &StrategyFile,
    config: &serde_json::Value,
) -> Result<PathBuf, RuntimeError> {
    let user_data = dir.join("user_data");
    remove_link(&user_data).await?;
    let strategies = user_data.join("strategies");
    remove_link(&strategies).await?;
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
    write_atomically(&config_file, &text)
        .await
        .map_err(RuntimeError::io("write the config file"))?;
    Ok(config_file)
}

/// Removes `path` when it is a symbolic link (to anywhere); leaves anything else.
async fn remove_link(path: &Path) -> Result<(), RuntimeError> {
    match tokio::fs::symlink_metadata(path).await {
        Ok(meta) if meta.file_type().is_symlink() => {
            tokio::fs::remove_file(path)
                .await
                .map_err(RuntimeError::io(format!(
                    "remove the link {}",
                    path.display()
                )))
        }
        _ => Ok(()),
    }
}

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one,
/// never a part (records are read while their jobs and bots change them). The rename
/// replaces a link at `path` rather than writing through it.
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    if tokio::fs::symlink_metadata(&temporary).await.is_ok() {
        tokio::fs::remove_file(&temporary).await?;
    }
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await
}

/// Writes `bytes` as `dir/name`, readable by its owner only (0400, in a 0700
/// directory), handed to `owner` when given; replaces the file whole. For secrets a
/// container's user reads and no one else may.
pub(crate) async fn write_private(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<(), RuntimeError> {
    let (dir, name, bytes) = (
        dir.to_owned(),
        name.to_owned(),
        zeroize::Zeroizing::new(bytes.to_vec()),
    );
    let action = format!("write {}", dir.join(&name).display());
    blocking(action, move || {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let temporary = dir.join(format!(".{name}.tmp"));
        match std::fs::remove_file(&temporary) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&temporary)?;
        file.write_all(&bytes)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::lchown(&dir, Some(uid), Some(gid))?;
            std::os::unix::fs::lchown(&temporary, Some(uid), Some(gid))?;
        }
        std::fs::rename(&temporary, dir.join(&name))
    })
    .await
}

/// Gives `dir` and everything under it to `owner` (links themselves, never what they
/// point at), so a container running as `owner` can write what was laid out for it.
pub(crate) async fn hand_over(dir: &Path, owner: (u32, u32)) -> Result<(), RuntimeError> {
    fn walk(path: &Path, (uid, gid): (u32, u32)) -> std::io::Result<()> {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(path)?.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path(), (uid, gid))?;
            }
        }
        Ok(())
    }
    let dir = dir.to_owned();
    let action = format!("hand {} to the containers' user", dir.display());
    blocking(action, move || walk(&dir, owner)).await
}

/// Runs file work that blocks on the blocking pool; a failure names `action`.
async fn blocking(
    action: String,
    work: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> Result<(), RuntimeError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)
        .and_then(|done| done)
        .map_err(RuntimeError::io(action))
}

/// Result files read at most (a backtest's archive is about 1 KB per trade).
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// `path` when it is a plain relative path (no `..`, no root): the only paths read out
/// of a job's `user_data`.
pub(crate) fn plain_relative(path: &str) -> Result<(), RuntimeError> {
    let plain = Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if plain && !path.is_empty() {
        Ok(())
    } else {
        Err(RuntimeError::OutsideJob(path.to_owned()))
    }
}

/// A file a job wrote, by its path under `dir/user_data`; `None` when there is none.
/// Only plain relative paths are read, and only regular files that resolve inside the
/// job's `user_data` and are at most [`MAX_FILE_BYTES`].
pub(crate) async fn user_data_file(
    dir: &Path,
    path: &str,
) -> Result<Option<Vec<u8>>, RuntimeError> {
    plain_relative(path)?;
    let root = dir.join("user_data");
    let file = root.join(path);
    let resolved = match (
        tokio::fs::canonicalize(&root).await,
        tokio::fs::canonicalize(&file).await,
    ) {
        (Ok(root), Ok(resolved)) if resolved.starts_with(&root) => resolved,
        (Ok(_), Ok(_)) => return Err(RuntimeError::OutsideJob(path.to_owned())),
        (_, Err(e)) | (Err(e), _) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        (_, Err(e)) | (Err(e), _) => {
            return Err(RuntimeError::io(format!("resolve {}", file.display()))(e));
        }
    };
    let meta = tokio::fs::metadata(&resolved)
        .await
        .map_err(RuntimeError::io(format!("read {}", file.display())))?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return Err(RuntimeError::OutsideJob(path.to_owned()));
    }
    match tokio::fs::read(&resolved).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RuntimeError::io(format!("read {}", file.display()))(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_result_file_is_read_only_inside_user_data_and_only_when_regular() {
        let dir = tempfile::tempdir().expect("dir");
        let user_data = dir.path().join("user_data");
        std::fs::create_dir_all(user_data.join("results")).expect("dirs");
        std::fs::write(user_data.join("results/a.json"), "{}").expect("file");
        std::fs::write(dir.path().join("secret"), "s").expect("secret");
        std::os::unix::fs::symlink(dir.path().join("secret"), user_data.join("results/link"))
            .expect("link");
        std::os::unix::fs::symlink("/dev/zero", user_data.join("zero")).expect("link");

        let read = |path: &'static str| user_data_file(dir.path(), path);
        assert_eq!(
            read("results/a.json").await.expect("read"),
            Some(b"{}".to_vec())
        );
        assert_eq!(read("results/none.json").await.expect("read"), None);
        assert!(matches!(
            read("results/link").await,
            Err(RuntimeError::OutsideJob(_))
        ));
        assert!(matches!(
            read("zero").await,
            Err(RuntimeError::OutsideJob(_))
        ));
        assert!(matches!(
            read("../secret").await,
            Err(RuntimeError::OutsideJob(_))
        ));
    }

    #[tokio::test]
    async fn run_files_replace_links_instead_of_writing_through_them() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, "untouched").expect("target");
        std::fs::create_dir_all(dir.path().join("bot")).expect("bot dir");
        std::os::unix::fs::symlink(&target, dir.path().join("bot/config.json")).expect("link");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("bot/user_data")).expect("link");
        let strategy = StrategyFile {
            class_name: "A".into(),
            code: "class A: pass".into(),
        };
        write_run_files(
            &dir.path().join("bot"),
            &strategy,
            &serde_json::json!({"a": 1}),
        )
        .await
        .expect("written");
        assert_eq!(
            std::fs::read_to_string(&target).expect("target"),
            "untouched"
        );
        assert!(
            !dir.path().join("strategies").exists(),
            "no write through the link"
        );
        let written = dir.path().join("bot/user_data/strategies/A.py");
        assert!(
            !std::fs::symlink_metadata(dir.path().join("bot/user_data"))
                .expect("user_data")
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(written).expect("strategy"),
            "class A: pass"
        );
    }
}
