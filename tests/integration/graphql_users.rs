//! Users managed through the API by admins: created, changed, disabled, deleted, each
//! change recorded with who made it; tokens of a disabled user or a reset password
//! stop counting at once; bad input changes nothing.

use serde_json::{Value, json};

use crate::app::{TestApp, VIEWER_PASSWORD};

const CREATE: &str = "mutation($input: CreateUserInput!) {
    createUser(input: $input) { id username role disabled } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateUserInput!) {
    updateUser(id: $id, input: $input) { id username role disabled } }";
const DELETE: &str = "mutation($id: ID!) { deleteUser(id: $id) { username } }";
const USERS: &str = "{ users { id username role disabled changes { actor change role } } }";
const EXCHANGES: &str = "{ exchanges { id } }";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// Every user and every recorded change, to show that a refusal changed nothing.
async fn snapshot(app: &TestApp) -> (Value, Value) {
    let users = app.query(USERS, json!({})).await;
    let changes = app
        .query("{ userChanges { at actor userId change } }", json!({}))
        .await;
    (users, changes)
}

async fn id_of(app: &TestApp, username: &str) -> String {
    let users = app.query(USERS, json!({})).await;
    users["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .unwrap_or_else(|| panic!("no user {username}: {users}"))
        .to_owned()
}

#[tokio::test]
async fn an_admin_adds_a_user_whose_tokens_end_when_disabled_or_reset() {
    let app = TestApp::spawn().await;
    let created = app
        .query(
            CREATE,
            json!({ "input": {
                "username": "ops.alice", "password": "orange kettle drifts at noon",
                "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(created["createUser"]["role"], "VIEWER");
    assert_eq!(created["createUser"]["disabled"], false);
    let id = created["createUser"]["id"].as_str().expect("id").to_owned();

    let token = app.login("ops.alice", "orange kettle drifts at noon").await;
    let (_, body) = app.graphql_as(Some(&token), EXCHANGES, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Disabling ends the session at once, and no new one starts.
    app.query(UPDATE, json!({ "id": id, "input": { "disabled": true } }))
        .await;
    let (_, body) = app.graphql_as(Some(&token), EXCHANGES, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let (status, _) = app
        .login_status("ops.alice", "orange kettle drifts at noon")
        .await;
    assert_eq!(status, 401);

    // Enabled again and promoted: a fresh login is an admin; a new password ends it.
    let updated = app
        .query(
            UPDATE,
            json!({ "id": id, "input": { "disabled": false, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(updated["updateUser"]["role"], "ADMIN");
    let token = app.login("ops.alice", "orange kettle drifts at noon").await;
    let (_, body) = app.graphql_as(Some(&token), USERS, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    app.query(
        UPDATE,
        json!({ "id": id, "input": { "password": "violet harbour sleeps till ten" } }),
    )
    .await;
    let (_, body) = app.graphql_as(Some(&token), EXCHANGES, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let (status, _) = app
        .login_status("ops.alice", "orange kettle drifts at noon")
        .await;
    assert_eq!(status, 401);
    app.login("ops.alice", "violet harbour sleeps till ten")
        .await;

    let users = app.query(USERS, json!({})).await;
    let alice = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "ops.alice")
        .expect("alice listed")
        .clone();
    let changes: Vec<(&str, &str)> = alice["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["actor"].as_str().unwrap_or_default(),
                c["change"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("user:admin", "CREATED"),
            ("user:admin", "DISABLED"),
            ("user:admin", "ROLE_CHANGED"),
            ("user:admin", "ENABLED"),
            ("user:admin", "PASSWORD_SET"),
        ],
        "{alice}"
    );
    let serialized = users.to_string();
    assert!(!serialized.contains("violet harbour"), "{serialized}");
    assert!(!serialized.contains("$argon2"), "{serialized}");

    // Deleted: gone from the list, its history kept, its token refused.
    let deleted = app.query(DELETE, json!({ "id": id })).await;
    assert_eq!(deleted["deleteUser"]["username"], "ops.alice");
    let (users, changes) = snapshot(&app).await;
    assert!(!users.to_string().contains("ops.alice"), "{users}");
    let last = changes["userChanges"]
        .as_array()
        .and_then(|c| c.last())
        .expect("a change");
    assert_eq!(last["change"], "DELETED");
    assert_eq!(last["userId"], id.as_str());
    let (status, _) = app
        .login_status("ops.alice", "violet harbour sleeps till ten")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn bad_user_changes_are_typed_errors_that_change_nothing() {
    let app = TestApp::spawn().await;
    let admin_id = id_of(&app, "admin").await;
    let viewer_id = id_of(&app, "viewer").await;
    let before = snapshot(&app).await;

    let create = |username: &str, password: &str, role: &str| json!({ "input": { "username": username, "password": password, "role": role } });
    let cases = [
        (
            CREATE,
            create("weakling", "password1234", "VIEWER"),
            "VALIDATION",
            "password",
        ),
        (
            CREATE,
            create("short", "tiny", "VIEWER"),
            "VALIDATION",
            "password",
        ),
        (
            CREATE,
            create("bad name!", "orange kettle drifts at noon", "VIEWER"),
            "VALIDATION",
            "username",
        ),
        (
            CREATE,
            create("viewer", "orange kettle drifts at noon", "ADMIN"),
            "CONFLICT",
            "username",
        ),
        (
            UPDATE,
            json!({ "id": admin_id, "input": { "role": "VIEWER" } }),
            "CONFLICT",
            "role",
        ),
        (
            UPDATE,
            json!({ "id": admin_id, "input": { "disabled": true } }),
            "CONFLICT",
            "disabled",
        ),
        (
            UPDATE,
            json!({ "id": viewer_id, "input": { "password": "viewer" } }),
            "VALIDATION",
            "password",
        ),
        (
            UPDATE,
            json!({ "id": uuid::Uuid::new_v4().to_string(), "input": { "disabled": true } }),
            "NOT_FOUND",
            "id",
        ),
        (DELETE, json!({ "id": admin_id }), "CONFLICT", "id"),
        (DELETE, json!({ "id": "not-a-uuid" }), "VALIDATION", "id"),
    ];
    for (query, variables, code, field) in cases {
        let error = app.query_error(query, variables.clone()).await;
        assert_eq!(error["code"], code, "{variables}: {error}");
        assert_eq!(error["field"], field, "{variables}: {error}");
    }

    // A role that does not exist is refused by the schema before anything runs.
    let (_, body) = app
        .graphql_as(
            Some(&app.admin),
            CREATE,
            create("newcomer", "orange kettle drifts at noon", "OWNER"),
        )
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("OWNER"), "{body}");

    assert_eq!(snapshot(&app).await, before, "nothing may change");
    // The viewer's session survived the refused password change.
    let (_, body) = app
        .graphql_as(Some(&app.viewer), EXCHANGES, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    app.login("viewer", VIEWER_PASSWORD).await;
}

#[tokio::test]
async fn only_admins_see_or_change_users() {
    let app = TestApp::spawn().await;
    let viewer_id = id_of(&app, "viewer").await;
    let before = snapshot(&app).await;
    let attempts = [
        (USERS, json!({})),
        ("{ userChanges { actor } }", json!({})),
        (
            CREATE,
            json!({ "input": { "username": "sneaky", "password": "orange kettle drifts at noon",
                "role": "ADMIN" } }),
        ),
        (
            UPDATE,
            json!({ "id": viewer_id, "input": { "role": "ADMIN" } }),
        ),
        (DELETE, json!({ "id": viewer_id })),
    ];
    for (query, variables) in attempts {
        let (_, body) = app.graphql_as(Some(&app.viewer), query, variables).await;
        assert_eq!(code(&body), "FORBIDDEN", "{query}: {body}");
        let (_, body) = app.graphql_as(None, query, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{query}: {body}");
    }
    assert_eq!(snapshot(&app).await, before, "nothing may change");
}

#[tokio::test]
async fn a_second_admin_lets_the_first_step_down() {
    let app = TestApp::spawn().await;
    app.query(
        CREATE,
        json!({ "input": { "username": "second", "password": "copper lantern hums softly",
            "role": "ADMIN" } }),
    )
    .await;
    let admin_id = id_of(&app, "admin").await;
    let demoted = app
        .query(
            UPDATE,
            json!({ "id": admin_id, "input": { "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(demoted["updateUser"]["role"], "VIEWER");
    // Its token says admin, but the service reads the role it has now.
    let (_, body) = app.graphql_as(Some(&app.admin), USERS, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    let second = app.login("second", "copper lantern hums softly").await;
    let (_, body) = app.graphql_as(Some(&second), USERS, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let second_id = id_of_as(&app, &second, "second").await;
    let (_, body) = app
        .graphql_as(Some(&second), DELETE, json!({ "id": second_id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "CONFLICT",
        "the last admin stays: {body}"
    );
}

async fn id_of_as(app: &TestApp, token: &str, username: &str) -> String {
    let (_, body) = app.graphql_as(Some(token), USERS, json!({})).await;
    body["data"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .expect("listed")
        .to_owned()
}
