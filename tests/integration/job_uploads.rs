//! The store behind `PUT /jobs/{id}/results`: one upload per job, with the job's token
//! only, read back file by file.

use std::io::Write;

use anytrade::job_uploads::{self, Accepted};
use uuid::Uuid;

use crate::helpers::fresh_database;

fn zipped(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("file");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("zip");
    buffer.into_inner()
}

#[tokio::test]
async fn a_job_sends_its_results_once_with_its_own_token() {
    let pool = fresh_database().await;
    let job = Uuid::new_v4();
    let token = job_uploads::new_token(&pool, job).await.expect("token");
    assert_eq!(job_uploads::sent(&pool, job).await.expect("sent"), None);
    let archive = zipped(&[
        (
            "backtest_results/.last_result.json",
            b"{\"latest_backtest\": \"a.zip\"}",
        ),
        ("anytrade-job.log", b"anytrade-step 1 backtesting\ndone\n"),
    ]);

    let other = Uuid::new_v4();
    assert_eq!(
        job_uploads::accept(&pool, other, &token, 0, &archive)
            .await
            .expect("accept"),
        Accepted::Refused,
        "the token of one job opens no other"
    );
    assert_eq!(
        job_uploads::accept(&pool, job, "guessed", 0, &archive)
            .await
            .expect("accept"),
        Accepted::Refused
    );
    assert_eq!(
        job_uploads::expected(&pool, job, &token)
            .await
            .expect("expected"),
        Accepted::Stored,
        "awaited, asked before its body is read"
    );
    assert_eq!(
        job_uploads::expected(&pool, job, "guessed")
            .await
            .expect("expected"),
        Accepted::Refused
    );
    assert_eq!(
        job_uploads::accept(&pool, job, &token, 0, &archive)
            .await
            .expect("accept"),
        Accepted::Stored
    );
    assert_eq!(
        job_uploads::accept(&pool, job, &token, 1, b"later")
            .await
            .expect("accept"),
        Accepted::AlreadySent,
        "exactly one upload per job"
    );
    assert_eq!(
        job_uploads::expected(&pool, job, &token)
            .await
            .expect("expected"),
        Accepted::AlreadySent
    );
    // A token made anew after the upload does not replace the spent one.
    let _ = job_uploads::new_token(&pool, job).await.expect("token");
    assert_eq!(job_uploads::sent(&pool, job).await.expect("sent"), Some(0));

    let upload = job_uploads::received(&pool, job)
        .await
        .expect("read")
        .expect("upload");
    assert_eq!(
        upload
            .file("backtest_results/.last_result.json")
            .expect("file"),
        Some(b"{\"latest_backtest\": \"a.zip\"}".to_vec())
    );
    assert_eq!(
        upload.file("backtest_results/missing.json").expect("file"),
        None
    );
    assert_eq!(upload.log(), vec!["anytrade-step 1 backtesting", "done"]);

    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_sha256 FROM job_uploads WHERE job_id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_ne!(stored, token.as_bytes(), "only the token's digest is kept");

    job_uploads::remove(&pool, job).await.expect("remove");
    assert!(
        job_uploads::received(&pool, job)
            .await
            .expect("read")
            .is_none()
    );
}
