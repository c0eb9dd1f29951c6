//! `anytrade users` through the real binary, against a running service on the same
//! database: what it changes takes effect in the service at once, is recorded as made
//! by `cli:<os user>`, and bad input exits with 2 naming the argument, changing nothing.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::app::{ADMIN_PASSWORD, TestApp, VIEWER_PASSWORD};
use crate::audit::{stderr, stdout};
use crate::cli::anytrade;

const EXCHANGES: &str = "{ exchanges { id } }";

/// Runs `anytrade users ARGS` on the app's database with `input` on standard input.
fn users(app: &TestApp, args: &[&str], input: &str) -> Output {
    let url = app
        .settings
        .database_url
        .as_ref()
        .expect("a database url")
        .expose()
        .to_owned();
    let mut child = anytrade()
        .arg("users")
        .args(args)
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run anytrade users");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("wait")
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

/// Exits with 2 and names `argument` on standard error.
fn refused(output: Output, argument: &str) -> String {
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains(&format!("{argument}: ")),
        "{argument}: {message}"
    );
    message
}

fn unauthenticated(body: &serde_json::Value) -> bool {
    body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_added_and_changed_on_the_command_line_count_in_the_service_at_once() {
    let app = TestApp::spawn().await;

    let added = ok(users(
        &app,
        &["add", "night.shift", "--role", "admin"],
        "amber falcon crosses the bay\n",
    ));
    assert!(
        added.contains("night.shift") && added.contains("admin"),
        "{added}"
    );
    let token = app
        .login("night.shift", "amber falcon crosses the bay")
        .await;
    let (_, body) = app
        .graphql_as(Some(&token), "{ users { username } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let listed = ok(users(&app, &["list"], ""));
    for name in ["admin", "viewer", "night.shift"] {
        assert!(listed.contains(name), "{listed}");
    }

    // The service remembers the viewer's standing for 2 s; the change is announced,
    // so a request right after the command is refused already.
    let (_, body) = app
        .graphql_as(Some(&app.viewer), EXCHANGES, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let remembered = Instant::now();
    let disabled = ok(users(&app, &["disable", "viewer"], ""));
    assert!(disabled.contains("disabled"), "{disabled}");
    let refused_at_once = poll_refused(&app, &app.viewer).await;
    if remembered.elapsed() < Duration::from_millis(1_500) {
        assert!(
            refused_at_once,
            "the disabled viewer's token still counted after the command"
        );
    }
    assert_eq!(app.login_status("viewer", VIEWER_PASSWORD).await.0, 401);
    ok(users(&app, &["enable", "viewer"], ""));
    let viewer = app.login("viewer", VIEWER_PASSWORD).await;

    ok(users(
        &app,
        &["passwd", "viewer"],
        "silver meadow under frost\n",
    ));
    assert!(wait_refused(&app, &viewer).await, "the old session ended");
    assert_eq!(app.login_status("viewer", VIEWER_PASSWORD).await.0, 401);
    app.login("viewer", "silver meadow under frost").await;

    ok(users(&app, &["set-role", "viewer", "admin"], ""));
    ok(users(&app, &["delete", "night.shift"], ""));
    assert!(
        wait_refused(&app, &token).await,
        "a deleted user's token ended"
    );

    let history = ok(users(&app, &["history", "viewer"], ""));
    let kinds: Vec<&str> = history
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "disabled",
            "enabled",
            "password_set",
            "role_changed"
        ],
        "{history}"
    );
    assert!(
        history.lines().skip(2).all(|line| line.contains("cli:")),
        "{history}"
    );
    let everything = ok(users(&app, &["history"], ""));
    assert!(everything.contains("deleted"), "{everything}");
    assert!(!everything.contains("silver meadow"), "{everything}");
}

/// Whether a request with `token` is refused right away.
async fn poll_refused(app: &TestApp, token: &str) -> bool {
    let (_, body) = app.graphql_as(Some(token), EXCHANGES, json!({})).await;
    unauthenticated(&body)
}

/// Whether a request with `token` is refused within 5 s.
async fn wait_refused(app: &TestApp, token: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if poll_refused(app, token).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_user_commands_exit_2_naming_the_argument_and_change_nothing() {
    let app = TestApp::spawn().await;
    let before = ok(users(&app, &["history"], ""));

    let message = refused(users(&app, &["add", "weak"], "password1234\n"), "password");
    assert!(!message.contains("password1234"), "{message}");
    refused(users(&app, &["add", "empty"], ""), "password");
    refused(
        users(
            &app,
            &["add", "has space"],
            "amber falcon crosses the bay\n",
        ),
        "username",
    );
    refused(
        users(&app, &["add", "viewer"], "amber falcon crosses the bay\n"),
        "username",
    );
    refused(users(&app, &["set-role", "admin", "viewer"], ""), "role");
    refused(users(&app, &["disable", "admin"], ""), "disabled");
    refused(users(&app, &["delete", "admin"], ""), "username");
    refused(users(&app, &["disable", "nobody"], ""), "username");
    refused(
        users(
            &app,
            &["passwd", "nobody"],
            "amber falcon crosses the bay\n",
        ),
        "username",
    );
    // clap refuses a role that does not exist, with its usage exit code.
    let output = users(&app, &["add", "newcomer", "--role", "owner"], "");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("owner"), "{}", stderr(&output));

    assert_eq!(
        ok(users(&app, &["history"], "")),
        before,
        "nothing may change"
    );
    app.login("admin", ADMIN_PASSWORD).await;
}
