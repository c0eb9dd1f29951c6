//! The `anytrade` binary as a user runs it: `serve` with no DATABASE_URL brings up its
//! own PostgreSQL and answers /healthz; bad keys and bad configuration stop it early.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anytrade::crypto::Keyring;

pub fn anytrade() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anytrade"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

/// A data directory the unprivileged PostgreSQL user can reach when tests run as root.
pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("anytrade-serve-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn login(port: u16, password: &str) -> Option<(u16, serde_json::Value)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/auth/login"))
            .json(&serde_json::json!({ "username": "admin", "password": password }))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.ok()?))
    })
}

fn get(url: &str) -> Option<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let response = reqwest::get(url).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    })
}

pub(crate) fn spawn_serve(data: &std::path::Path, port: u16, key: &str) -> std::process::Child {
    spawn_serve_with(data, port, key, &[])
}

/// [`spawn_serve`] with more environment variables.
pub(crate) fn spawn_serve_with(
    data: &std::path::Path,
    port: u16,
    key: &str,
    env: &[(&str, &str)],
) -> std::process::Child {
    anytrade()
        .arg("serve")
        .env("ANYTRADE_DATA_DIR", data)
        .env("ANYTRADE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANYTRADE_ENCRYPTION_KEY", key)
        .env("ANYTRADE_ADMIN_PASSWORD", "first-admin-password")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anytrade serve")
}

/// Waits for `/healthz` to answer, failing with the server's log if it exits first.
pub fn wait_healthy(server: &mut std::process::Child, port: u16) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(answer) = get(&format!("http://127.0.0.1:{port}/healthz")) {
            return answer;
        }
        if let Ok(Some(status)) = server.try_wait() {
            let mut log = String::new();
            if let Some(mut stderr) = server.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
            }
            panic!("serve exited early ({status}): {log}");
        }
        assert!(Instant::now() < deadline, "serve did not answer in time");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The admin's bearer token from an `anytrade serve` at `base` that may still be
/// starting: logs in until it answers (at most 120 s).
pub async fn admin_token(base: &str, password: &str) -> String {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let login = client
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({ "username": "admin", "password": password }))
            .send()
            .await;
        if let Ok(response) = login
            && let Ok(body) = response.json::<serde_json::Value>().await
            && let Some(token) = body["token"].as_str()
        {
            return token.to_owned();
        }
        assert!(Instant::now() < deadline, "serve did not answer at {base}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn terminate(server: std::process::Child) -> String {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("send SIGTERM");
    let output = server.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "serve failed on SIGTERM: {log}");
    log
}

#[test]
fn serve_without_database_url_runs_its_own_postgres_and_stops_cleanly() {
    let data = data_dir();
    let port = free_port();
    let mut server = spawn_serve(data.path(), port, &Keyring::generate_key());
    assert_eq!(wait_healthy(&mut server, port), (200, "ok".to_owned()));
    assert_eq!(
        get(&format!("http://127.0.0.1:{port}/readyz")),
        Some((200, "ready".to_owned()))
    );
    let (status, body) = login(port, "first-admin-password").expect("login answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "admin");
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert_eq!(login(port, "not-the-password").map(|(s, _)| s), Some(401));
    let cluster = data.path().join("postgres");
    assert!(
        cluster.join("PG_VERSION").exists(),
        "cluster initialized in the data dir"
    );
    assert!(cluster.join("postmaster.pid").exists(), "cluster running");

    let log = terminate(server);
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(
        !cluster.join("postmaster.pid").exists(),
        "embedded PostgreSQL still running after shutdown"
    );
}

#[test]
fn a_killed_server_leaves_its_cluster_running_and_the_next_start_reuses_it() {
    let data = data_dir();
    let key = Keyring::generate_key();
    let port = free_port();
    let mut first = spawn_serve(data.path(), port, &key);
    wait_healthy(&mut first, port);
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    let pid_file = data.path().join("postgres/postmaster.pid");
    assert!(pid_file.exists(), "the cluster outlives a killed server");

    let port = free_port();
    let mut second = spawn_serve(data.path(), port, &key);
    wait_healthy(&mut second, port);
    assert_eq!(
        get(&format!("http://127.0.0.1:{port}/readyz")),
        Some((200, "ready".to_owned()))
    );
    let log = terminate(second);
    assert!(log.contains("already running; reusing it"), "{log}");
    assert!(
        !pid_file.exists(),
        "the reused cluster is stopped with the server"
    );
}

fn serve_error(envs: &[(&str, &str)]) -> String {
    let data = data_dir();
    let mut command = anytrade();
    command
        .arg("serve")
        .env("ANYTRADE_DATA_DIR", data.path())
        .env("ANYTRADE_LISTEN", format!("127.0.0.1:{}", free_port()));
    for (k, v) in envs {
        command.env(k, v);
    }
    let output = command.output().expect("run anytrade");
    assert!(
        !output.status.success(),
        "serve should have refused to start"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_refuses_a_missing_or_malformed_key_and_says_how_to_make_one() {
    let missing = serve_error(&[]);
    assert!(
        missing.contains("ANYTRADE_ENCRYPTION_KEY is not set"),
        "{missing}"
    );
    assert!(missing.contains("anytrade keygen"), "{missing}");
    let malformed = serve_error(&[("ANYTRADE_ENCRYPTION_KEY", "dG9vIHNob3J0")]);
    assert!(
        malformed.contains("ANYTRADE_ENCRYPTION_KEY is malformed"),
        "{malformed}"
    );
    assert!(
        !malformed.contains("dG9vIHNob3J0"),
        "the key must not be echoed"
    );
}

#[test]
fn serve_refuses_invalid_configuration_naming_the_key() {
    let key = Keyring::generate_key();
    let error = serve_error(&[
        ("ANYTRADE_ENCRYPTION_KEY", &key),
        ("ANYTRADE_RUNTIME", "podman"),
    ]);
    assert!(error.contains("runtime.default"), "{error}");
    assert!(error.contains("podman"), "{error}");
}

#[test]
fn keygen_prints_a_usable_key() {
    let output = anytrade().arg("keygen").output().expect("keygen");
    assert!(output.status.success());
    let key = String::from_utf8(output.stdout).expect("utf8");
    Keyring::from_base64(Some(key.trim()), &[]).expect("generated key loads");
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["keygen", "--help"],
    ] {
        let output = anytrade().args(args).output().expect("help");
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn schema_prints_the_graphql_sdl() {
    let output = anytrade().arg("schema").output().expect("schema");
    assert!(output.status.success());
    let sdl = String::from_utf8(output.stdout).expect("utf8");
    for expected in [
        "type Query",
        "type Mutation",
        "type Subscription",
        "botStatusChanged",
        "createExchange",
    ] {
        assert!(sdl.contains(expected), "missing {expected}");
    }
}
