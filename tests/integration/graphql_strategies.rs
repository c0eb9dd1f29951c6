//! Strategies through GraphQL: versions, validation, name uniqueness, and Relay
//! pagination (empty, first page, last page, stale cursor, bad cursor).

use serde_json::{Value, json};

use crate::app::TestApp;

const CODE: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '5m'\n";
const CODE_V2: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '1h'\n";

async fn create(app: &TestApp, name: &str) -> Value {
    app.query(
        "mutation($input: CreateStrategyInput!) { createStrategy(input: $input) { id name version className sha256 code versions { version } } }",
        json!({ "input": { "name": name, "description": "test", "code": CODE } }),
    )
    .await["createStrategy"]
        .clone()
}

#[tokio::test]
async fn strategy_versions_validation_and_uniqueness() {
    let app = TestApp::spawn().await;
    let strategy = create(&app, "Always In").await;
    assert_eq!(strategy["version"], 1);
    assert_eq!(strategy["className"], "AlwaysIn");
    assert_eq!(strategy["code"], CODE);
    assert_eq!(strategy["sha256"].as_str().map(str::len), Some(64));
    let id = strategy["id"].as_str().expect("id").to_owned();

    let updated = app
        .query(
            "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version code versions { version sha256 } } }",
            json!({ "id": id, "code": CODE_V2 }),
        )
        .await;
    assert_eq!(updated["updateStrategy"]["version"], 2);
    assert_eq!(updated["updateStrategy"]["code"], CODE_V2);
    let versions = updated["updateStrategy"]["versions"]
        .as_array()
        .expect("versions");
    assert_eq!(versions.len(), 2);
    assert_ne!(versions[0]["sha256"], versions[1]["sha256"]);

    let before = app.event_count().await;
    let duplicate = app
        .query_error(
            "mutation { createStrategy(input: { name: \"always in\", code: \"x = 1\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        duplicate["code"], "VALIDATION",
        "the code is checked before the name: {duplicate}"
    );
    let duplicate = app
        .query_error(
            "mutation($code: String!) { createStrategy(input: { name: \"always in\", code: $code }) { id } }",
            json!({ "code": CODE }),
        )
        .await;
    assert_eq!(
        (duplicate["code"].as_str(), duplicate["field"].as_str()),
        (Some("CONFLICT"), Some("name"))
    );
    let forbidden = app
        .query_error(
            "mutation($code: String!) { createStrategy(input: { name: \"sneaky\", code: $code }) { id } }",
            json!({ "code": format!("{CODE}    def f(self):\n        eval('1')\n") }),
        )
        .await;
    assert_eq!(
        (forbidden["code"].as_str(), forbidden["field"].as_str()),
        (Some("VALIDATION"), Some("code"))
    );
    assert_eq!(
        app.event_count().await,
        before,
        "refused commands wrote events"
    );

    let checked = app
        .query(
            "mutation($code: String!) { validateStrategy(code: $code) { valid className errors { line column message } } }",
            json!({ "code": "class A(IStrategy):\n    def f(self:\n        pass\n" }),
        )
        .await;
    let result = &checked["validateStrategy"];
    assert_eq!(result["valid"], false);
    assert!(
        result["errors"][0]["line"].as_u64().is_some_and(|l| l >= 2),
        "{result}"
    );

    assert_eq!(
        app.query(
            "mutation($id: ID!) { deleteStrategy(id: $id) }",
            json!({ "id": id })
        )
        .await["deleteStrategy"],
        true
    );
}

const PAGE: &str = "query($first: Int, $after: String) { strategies(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id name } } } }";

async fn page(app: &TestApp, first: i64, after: Option<&str>) -> Value {
    app.query(PAGE, json!({ "first": first, "after": after }))
        .await["strategies"]
        .clone()
}

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn strategies_paginate_with_stable_cursors() {
    let app = TestApp::spawn().await;
    let empty = page(&app, 10, None).await;
    assert_eq!(empty["totalCount"], 0);
    assert_eq!(empty["edges"], json!([]));
    assert_eq!(empty["pageInfo"]["hasNextPage"], false);

    for i in 1..=5 {
        create(&app, &format!("s{i}")).await;
    }
    let first = page(&app, 2, None).await;
    assert_eq!(names(&first), ["s1", "s2"]);
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);

    // The row a cursor points at is deleted: the cursor still works.
    let cursor = first["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let s2 = first["edges"][1]["node"]["id"].clone();
    app.query(
        "mutation($id: ID!) { deleteStrategy(id: $id) }",
        json!({ "id": s2 }),
    )
    .await;
    let second = page(&app, 2, Some(&cursor)).await;
    assert_eq!(names(&second), ["s3", "s4"]);
    assert_eq!(second["totalCount"], 4);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    let last = page(&app, 2, second["pageInfo"]["endCursor"].as_str()).await;
    assert_eq!(names(&last), ["s5"]);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    let bad = app
        .query_error(PAGE, json!({ "first": 2, "after": "garbage" }))
        .await;
    assert_eq!(
        (bad["code"].as_str(), bad["field"].as_str()),
        (Some("VALIDATION"), Some("after"))
    );
    let too_many = app.query_error(PAGE, json!({ "first": 101 })).await;
    assert_eq!(
        (too_many["code"].as_str(), too_many["field"].as_str()),
        (Some("VALIDATION"), Some("first"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_name_leave_exactly_one_strategy() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let name = if i % 2 == 0 { "Race" } else { "race" };
                app.graphql_as(
                    Some(&app.admin),
                    "mutation($name: String!, $code: String!) { createStrategy(input: { name: $name, code: $code }) { id } }",
                    json!({ "name": name, "code": CODE }),
                )
                .await
                .1
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        let body = attempt.await.expect("task");
        match body.get("errors") {
            None => created += 1,
            Some(errors) => {
                assert_eq!(errors[0]["extensions"]["code"], "CONFLICT", "{body}");
                assert_eq!(errors[0]["extensions"]["field"], "name", "{body}");
            }
        }
    }
    assert_eq!(created, 1);
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'StrategyCreated'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_renamed_strategy_frees_its_old_name_and_cannot_take_a_used_one() {
    let app = TestApp::spawn().await;
    create(&app, "Alpha").await;
    let beta = create(&app, "Beta").await["id"].clone();
    let rename = "mutation($id: ID!, $name: String!) { updateStrategy(id: $id, input: { name: $name }) { name } }";
    let taken = app
        .query_error(rename, json!({ "id": beta, "name": "ALPHA" }))
        .await;
    assert_eq!(
        (taken["code"].as_str(), taken["field"].as_str()),
        (Some("CONFLICT"), Some("name"))
    );
    let renamed = app
        .query(rename, json!({ "id": beta, "name": "Gamma" }))
        .await;
    assert_eq!(renamed["updateStrategy"]["name"], "Gamma");
    assert_eq!(
        create(&app, "Beta").await["name"],
        "Beta",
        "the old name is free again"
    );
    let deleted = app
        .query(
            "mutation($id: ID!) { deleteStrategy(id: $id) }",
            json!({ "id": beta }),
        )
        .await;
    assert_eq!(deleted["deleteStrategy"], true);
    assert_eq!(
        create(&app, "Gamma").await["name"],
        "Gamma",
        "a deleted strategy's name is free"
    );
}

/// Leaves `name` reserved for `holder` since `age_secs` ago, as a service killed between
/// reserving a name and writing its create or rename would.
async fn reservation_left_behind(app: &TestApp, name: &str, holder: &str, age_secs: i64) {
    sqlx::query(
        "INSERT INTO strategy_names (name_key, strategy_id, reserved_at)
         VALUES (lower($1), $2::uuid, now() - make_interval(secs => $3))
         ON CONFLICT (name_key) DO UPDATE SET strategy_id = $2::uuid,
             reserved_at = now() - make_interval(secs => $3)",
    )
    .bind(name)
    .bind(holder)
    .bind(age_secs as f64)
    .execute(&app.pool)
    .await
    .expect("leave a reservation behind");
}

#[tokio::test]
async fn a_name_reserved_by_a_create_or_rename_that_never_happened_is_taken_over() {
    let app = TestApp::spawn().await;
    let conflict = |error: &Value| (error["code"].clone(), error["field"].clone());
    let create_error = |name: &'static str| {
        let app = &app;
        async move {
            app.query_error(
                "mutation($input: CreateStrategyInput!) { createStrategy(input: $input) { id } }",
                json!({ "input": { "name": name, "code": CODE } }),
            )
            .await
        }
    };
    // A create killed after reserving: the strategy never existed.
    let never = uuid::Uuid::now_v7().to_string();
    reservation_left_behind(&app, "Ghost", &never, 5).await;
    // Within the grace period the create may still be on its way: the name is taken.
    assert_eq!(
        conflict(&create_error("Ghost").await),
        (json!("CONFLICT"), json!("name"))
    );
    reservation_left_behind(&app, "Ghost", &never, 3600).await;
    assert_eq!(create(&app, "Ghost").await["name"], "Ghost");

    // A rename killed after reserving: the strategy still has its old name.
    let alpha = create(&app, "Alpha").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    reservation_left_behind(&app, "Delta", &alpha, 3600).await;
    assert_eq!(create(&app, "Delta").await["name"], "Delta");

    // A name its holder really has stays taken, however old the reservation.
    reservation_left_behind(&app, "Alpha", &alpha, 3600).await;
    assert_eq!(
        conflict(&create_error("ALPHA").await),
        (json!("CONFLICT"), json!("name"))
    );
}
