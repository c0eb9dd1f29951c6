//! Login over real HTTP against a fresh database: the first admin from the
//! configuration, the token it gets, and what is refused and how.

use anytrade::auth::{self, AuthState, Role, TokenKeys, UserError};
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::fresh_database;

const ADMIN_PASSWORD: &str = "first admin passphrase";

fn settings(admin_password: Option<&str>) -> Settings {
    Settings {
        admin_username: "admin".into(),
        admin_password: admin_password.map(|p| Redacted::from(p.to_owned())),
        encryption_key: Some(Redacted::from(Keyring::generate_key())),
        ..Settings::default()
    }
}

/// The login endpoint served on a random port over a fresh database with its first
/// admin.
struct Server {
    base: String,
    pool: PgPool,
    keys: TokenKeys,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        let settings = settings(Some(ADMIN_PASSWORD));
        let pool = fresh_database().await;
        let admin = auth::ensure_first_admin(&pool, &settings)
            .await
            .expect("first admin created");
        assert!(admin.is_some());
        let keys = TokenKeys::from_settings(&settings).expect("token keys");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let router = auth::router(AuthState {
            pool: pool.clone(),
            keys: keys.clone(),
            users: std::sync::Arc::new(auth::CurrentUsers::new(pool.clone())),
            throttle: Default::default(),
        });
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base,
            pool,
            keys,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs `body` as-is to `/auth/login`; the status, the JSON answer and the
    /// raw headers.
    async fn login_raw(&self, body: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        let response = self
            .client
            .post(format!("{}/auth/login", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).expect("a JSON answer");
        (status, json, headers)
    }

    async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        let body = json!({ "username": username, "password": password }).to_string();
        let (status, json, _) = self.login_raw(&body).await;
        (status, json)
    }

    async fn stored_hashes(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT username, password_hash FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await
            .expect("users")
    }
}

#[tokio::test]
async fn the_first_admin_logs_in_and_gets_an_admin_token_for_a_day() {
    let server = Server::start().await;
    let body = json!({ "username": "admin", "password": ADMIN_PASSWORD }).to_string();
    let (status, answer, headers) = server.login_raw(&body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(answer["role"], "admin");

    let token = answer["token"].as_str().expect("a token");
    let claims = server.keys.verify(token).expect("a valid token");
    assert_eq!(claims.role, Role::Admin);
    assert_eq!(claims.name, "admin");
    assert_eq!(claims.exp - claims.iat, 24 * 3600);
    let expires_at: DateTime<Utc> = answer["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("RFC 3339");
    assert_eq!(expires_at.timestamp(), claims.exp);
    let from_now = expires_at - Utc::now();
    assert!(
        (from_now - TimeDelta::hours(24)).num_seconds().abs() < 60,
        "{from_now}"
    );

    let who = auth::authenticate(Some(&format!("Bearer {token}")), &server.keys)
        .expect("the token authenticates");
    assert_eq!(who.username, "admin");
    assert_eq!(who.user_id, claims.sub);
    assert!(who.can_mutate());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let server = Server::start().await;
    let (wrong_status, wrong) = server.login("admin", "not the password at all").await;
    let (unknown_status, unknown) = server.login("nobody", ADMIN_PASSWORD).await;
    assert_eq!(wrong_status, 401);
    assert_eq!(unknown_status, 401);
    assert_eq!(wrong, unknown);
    assert_eq!(
        wrong,
        json!({ "error": { "code": "UNAUTHENTICATED", "message": "invalid username or password" } })
    );
    // Case matters: `Admin` is another (unknown) user.
    assert_eq!(server.login("Admin", ADMIN_PASSWORD).await, (401, wrong));
}

#[tokio::test]
async fn malformed_bodies_are_refused_naming_the_field() {
    let server = Server::start().await;
    for (body, field) in [
        ("{not json", "body"),
        ("", "body"),
        ("[\"admin\"]", "body"),
        (r#"{"username": "admin"}"#, "password"),
        (r#"{"password": "first admin passphrase"}"#, "username"),
        (r#"{"username": 7, "password": "x"}"#, "username"),
        (r#"{"username": "admin", "password": null}"#, "password"),
        (
            r#"{"username": "ad\u0000min", "password": "x"}"#,
            "username",
        ),
    ] {
        let (status, answer, _) = server.login_raw(body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "VALIDATION", "{body}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, answer, _) = server
        .login_raw(&json!({ "username": "admin", "password": 123456789012345_u64 }).to_string())
        .await;
    assert_eq!(status, 400);
    assert!(!answer.to_string().contains("123456789012345"), "{answer}");
}

#[tokio::test]
async fn the_password_is_kept_only_as_an_argon2_hash_and_a_restart_changes_nothing() {
    let server = Server::start().await;
    let before = server.stored_hashes().await;
    assert_eq!(before.len(), 1);
    let (username, hash) = &before[0];
    assert_eq!(username, "admin");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(ADMIN_PASSWORD));

    // A later start with another password configured: nothing changes.
    let changed = settings(Some("another admin passphrase"));
    let again = auth::ensure_first_admin(&server.pool, &changed)
        .await
        .expect("no error");
    assert!(again.is_none());
    assert_eq!(server.stored_hashes().await, before);
    assert_eq!(server.login("admin", ADMIN_PASSWORD).await.0, 200);
    assert_eq!(
        server.login("admin", "another admin passphrase").await.0,
        401
    );
    // Nor does a start with no password at all.
    assert!(
        auth::ensure_first_admin(&server.pool, &settings(None))
            .await
            .expect("no error")
            .is_none()
    );
}

#[tokio::test]
async fn a_viewer_logs_in_as_a_viewer() {
    let server = Server::start().await;
    let viewer = auth::create_user(
        &server.pool,
        &auth::Actor::system(),
        "dash.board",
        "viewer passphrase",
        Role::Viewer,
    )
    .await
    .expect("viewer created");
    assert_eq!(viewer.role, Role::Viewer);
    let (status, answer) = server.login("dash.board", "viewer passphrase").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["role"], "viewer");
    let who = auth::authenticate(
        Some(&format!(
            "Bearer {}",
            answer["token"].as_str().expect("token")
        )),
        &server.keys,
    )
    .expect("authenticates");
    assert_eq!(who.user_id, viewer.id);
    assert_eq!(who.require_mutation(), Err(auth::AuthError::Forbidden));
}

#[tokio::test]
async fn creating_users_checks_the_input_and_refuses_duplicates() {
    let server = Server::start().await;
    let duplicate = auth::create_user(
        &server.pool,
        &auth::Actor::system(),
        "admin",
        "orange kettle drifts at noon",
        Role::Viewer,
    )
    .await;
    assert!(
        matches!(&duplicate, Err(UserError::Conflict { username }) if username == "admin"),
        "{duplicate:?}"
    );
    let short = auth::create_user(
        &server.pool,
        &auth::Actor::system(),
        "shorty",
        "hunter2",
        Role::Viewer,
    )
    .await;
    match short {
        Err(
            e @ UserError::Invalid {
                field: "password", ..
            },
        ) => assert!(!e.to_string().contains("hunter2")),
        other => panic!("expected an invalid password, got {other:?}"),
    }
    let bad_name = auth::create_user(
        &server.pool,
        &auth::Actor::system(),
        "a b",
        "orange kettle drifts at noon",
        Role::Admin,
    )
    .await;
    assert!(
        matches!(
            bad_name,
            Err(UserError::Invalid {
                field: "username",
                ..
            })
        ),
        "{bad_name:?}"
    );
    assert_eq!(server.stored_hashes().await.len(), 1);
}

#[tokio::test]
async fn the_first_start_without_an_admin_password_says_what_to_set() {
    let pool = fresh_database().await;
    let e = auth::ensure_first_admin(&pool, &settings(None))
        .await
        .unwrap_err();
    assert!(matches!(e, UserError::MissingAdminPassword { .. }), "{e:?}");
    assert!(e.to_string().contains("ANYTRADE_ADMIN_PASSWORD"), "{e}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(users, 0);
}

#[tokio::test]
async fn instances_starting_together_create_one_admin() {
    let pool = fresh_database().await;
    let settings = settings(Some(ADMIN_PASSWORD));
    let (a, b) = tokio::join!(
        auth::ensure_first_admin(&pool, &settings),
        auth::ensure_first_admin(&pool, &settings)
    );
    let created = [a.expect("first"), b.expect("second")]
        .into_iter()
        .flatten()
        .count();
    assert_eq!(created, 1);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(users, 1);
}

#[tokio::test]
async fn repeated_failures_for_a_username_are_refused_with_retry_after() {
    let server = Server::start().await;
    auth::create_user(
        &server.pool,
        &auth::Actor::system(),
        "viewer",
        "orange kettle drifts at noon",
        Role::Viewer,
    )
    .await
    .expect("viewer created");
    for attempt in 0..auth::throttle::PER_USER {
        let (status, answer) = server.login("admin", "not the password").await;
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
    }
    // Now even the right password waits: guessing gets a handful of tries per window.
    let body = json!({ "username": "admin", "password": ADMIN_PASSWORD }).to_string();
    let (status, answer, headers) = server.login_raw(&body).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"]["code"], "RATE_LIMITED", "{answer}");
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!(
        (1..=auth::throttle::WINDOW.as_secs()).contains(&retry),
        "{retry}"
    );
    // Another user is not held up by them.
    let (status, answer) = server.login("viewer", "orange kettle drifts at noon").await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_refused_for_every_username() {
    let app = crate::app::TestApp::spawn().await;
    for attempt in 0..auth::throttle::PER_CLIENT {
        let (status, answer) = app
            .login_status(&format!("guess{attempt}"), "not the password")
            .await;
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
    }
    let (status, answer) = app
        .login_status("viewer", crate::app::VIEWER_PASSWORD)
        .await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"]["code"], "RATE_LIMITED", "{answer}");
}
