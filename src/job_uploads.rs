//! Results a job sends home: how a job run in a Kubernetes cluster (with no shared
//! volume and no exec) returns its result files and its log to the control plane.
//!
//! Starting such a job makes a one-time token (kept here as its SHA-256 only) that the
//! job's last step presents to `PUT /jobs/{id}/results` with a zip of its
//! `user_data` result directories and its log. The endpoint takes exactly one upload per
//! job, of at most the configured size, and nothing else: a second upload gets 409, a
//! wrong token or an unknown job 403, both without a word about which. The token is
//! checked before the body is read, and a few uploads are taken at once.

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::Generate;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::Semaphore;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The name of the job's log in its upload.
pub const LOG_FILE: &str = "anytrade-job.log";
/// The header carrying the exit status of the job's steps.
pub const EXIT_STATUS_HEADER: &str = "x-anytrade-exit-status";
/// The largest file read back out of an upload (unpacked: a small archive may hold a
/// huge file).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Uploads taken at once; more are asked to come back (503).
const AT_ONCE: usize = 4;

/// What a job sent home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The exit status of the job's steps (0: every step succeeded).
    pub exit_status: i32,
    pub archive: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the store of job results failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the job's upload is not a readable zip archive: {0}")]
    Archive(String),
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Makes the job's upload token, replacing one that was never used (a start that did
/// not get as far as the job). Returns the token; only its digest is kept.
pub async fn new_token(pool: &PgPool, job_id: Uuid) -> Result<Zeroizing<String>, UploadError> {
    let bytes = Zeroizing::new(<[u8; 32]>::generate());
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice()));
    sqlx::query(
        "INSERT INTO job_uploads (job_id, token_sha256) VALUES ($1, $2) \
         ON CONFLICT (job_id) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, \
         created_at = now() WHERE job_uploads.received_at IS NULL",
    )
    .bind(job_id)
    .bind(digest(&token))
    .execute(pool)
    .await?;
    Ok(token)
}

/// What the job sent, once it has.
pub async fn received(pool: &PgPool, job_id: Uuid) -> Result<Option<Upload>, UploadError> {
    let row: Option<(Option<i32>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT exit_status, archive FROM job_uploads WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some((Some(exit_status), Some(archive))) => Some(Upload {
            exit_status,
            archive,
        }),
        _ => None,
    })
}

/// The exit status the job sent with its results, once it has (without the archive).
pub async fn sent(pool: &PgPool, job_id: Uuid) -> Result<Option<i32>, UploadError> {
    let status: Option<Option<i32>> = sqlx::query_scalar(
        "SELECT exit_status FROM job_uploads WHERE job_id = $1 AND received_at IS NOT NULL",
    )
    .bind(job_id)
    .fetch_optional(pool)
    .await?;
    Ok(status.flatten())
}

/// Forgets the job's token and upload (the job was deleted).
pub async fn remove(pool: &PgPool, job_id: Uuid) -> Result<(), UploadError> {
    sqlx::query("DELETE FROM job_uploads WHERE job_id = $1")
        .bind(job_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// How an upload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Stored,
    /// The job had sent its results already.
    AlreadySent,
    /// No job waits for an upload with this token.
    Refused,
}

/// What an upload with `token` would meet, asked before its body is read:
/// [`Accepted::Stored`] when the job awaits it.
pub async fn expected(pool: &PgPool, job_id: Uuid, token: &str) -> Result<Accepted, UploadError> {
    let awaited: Option<bool> = sqlx::query_scalar(
        "SELECT received_at IS NULL FROM job_uploads WHERE job_id = $1 AND token_sha256 = $2",
    )
    .bind(job_id)
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    Ok(match awaited {
        Some(true) => Accepted::Stored,
        Some(false) => Accepted::AlreadySent,
        None => Accepted::Refused,
    })
}

/// Stores the job's upload if `token` is the job's and it sent nothing yet.
pub async fn accept(
    pool: &PgPool,
    job_id: Uuid,
    token: &str,
    exit_status: i32,
    archive: &[u8],
) -> Result<Accepted, UploadError> {
    let stored = sqlx::query(
        "UPDATE job_uploads SET exit_status = $3, archive = $4, received_at = now() \
         WHERE job_id = $1 AND token_sha256 = $2 AND received_at IS NULL",
    )
    .bind(job_id)
    .bind(digest(token))
    .bind(exit_status)
    .bind(archive)
    .execute(pool)
    .await?;
    if stored.rows_affected() == 1 {
        return Ok(Accepted::Stored);
    }
    // Not stored: it was sent already, or the token is not the job's.
    Ok(match expected(pool, job_id, token).await? {
        Accepted::AlreadySent => Accepted::AlreadySent,
        Accepted::Stored | Accepted::Refused => Accepted::Refused,
    })
}

impl Upload {
    /// A file of the upload by its path under the job's `user_data`; `None` when the
    /// job sent no such file.
    pub fn file(&self, path: &str) -> Result<Option<Vec<u8>>, UploadError> {
        let reader = std::io::Cursor::new(&self.archive);
        let mut archive =
            zip::ZipArchive::new(reader).map_err(|e| UploadError::Archive(e.to_string()))?;
        let mut file = match archive.by_name(path) {
            Ok(file) => file,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(UploadError::Archive(e.to_string())),
        };
        if file.size() > MAX_FILE_BYTES {
            return Err(UploadError::Archive(format!("{path} is too large")));
        }
        let mut bytes = Vec::new();
        file.by_ref()
            .take(MAX_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| UploadError::Archive(e.to_string()))?;
        Ok(Some(bytes))
    }

    /// The job's log, line by line.
    pub fn log(&self) -> Vec<String> {
        let text = self.file(LOG_FILE).ok().flatten().unwrap_or_default();
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Clone)]
struct Uploads {
    pool: PgPool,
    max_bytes: usize,
    at_once: Arc<Semaphore>,
}

/// `PUT /jobs/{id}/results`, taking bodies of at most `max_bytes`.
pub fn router(pool: PgPool, max_bytes: usize) -> Router {
    Router::new()
        .route("/jobs/{id}/results", put(upload))
        .with_state(Uploads {
            pool,
            max_bytes,
            at_once: Arc::new(Semaphore::new(AT_ONCE)),
        })
}

async fn upload(
    State(uploads): State<Uploads>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, &'static str) {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let (Ok(job_id), Some(token)) = (Uuid::parse_str(&id), token) else {
        return (
            StatusCode::FORBIDDEN,
            "no upload is expected with this token",
        );
    };
    let Some(exit_status) = headers
        .get(EXIT_STATUS_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i32>().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "x-anytrade-exit-status must be the integer exit status of the job's steps",
        );
    };
    let Ok(_turn) = uploads.at_once.try_acquire() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many uploads at once; retry",
        );
    };
    // Nobody gets to send a body without the job's token.
    match expected(&uploads.pool, job_id, token).await {
        Ok(Accepted::Stored) => {}
        refused => return answer(refused, job_id, 0),
    }
    let body = match axum::body::to_bytes(body, uploads.max_bytes).await {
        Ok(body) => body,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the results are larger than runtime.kubernetes.max_results_bytes",
            );
        }
    };
    let outcome = accept(&uploads.pool, job_id, token, exit_status, &body).await;
    answer(outcome, job_id, body.len())
}

/// The answer to an upload attempt.
fn answer(
    outcome: Result<Accepted, UploadError>,
    job_id: Uuid,
    bytes: usize,
) -> (StatusCode, &'static str) {
    match outcome {
        Ok(Accepted::Stored) => {
            tracing::info!(job = %job_id, bytes, "job results received");
            (StatusCode::CREATED, "stored")
        }
        Ok(Accepted::AlreadySent) => (StatusCode::CONFLICT, "the job's results were sent already"),
        Ok(Accepted::Refused) => (
            StatusCode::FORBIDDEN,
            "no upload is expected with this token",
        ),
        Err(e) => {
            tracing::warn!(job = %job_id, error = %e, "cannot store a job's results");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the results cannot be stored now",
            )
        }
    }
}
