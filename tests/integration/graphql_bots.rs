//! Bots through GraphQL: every field and its relations, the lifecycle as recorded intent
//! (with the runtime's confirmations driven directly through the command side, standing
//! in for the runtime layer), refused input, access, and filtered, ordered pagination.

use std::sync::Arc;
use std::time::Duration;

use anytrade::lookup::PgLookup;
use anytrade::store::{CommandMetadata, Commands, EventLog};
use anytrade_aggregates::BotCommand;
use serde_json::{Value, json};

use crate::app::TestApp;

const CODE: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '5m'\n";
const CODE_V2: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '1h'\n";

const FIELDS: &str = "id name status mode runtime runtimeId apiUrl
    config { maxOpenTrades stakeAmount pairs timeframe extra } resources { cpu memory }
    freqtradeVersion strategyVersion errorMessage exchange { name } strategy { name }
    healthStatus lastSeenAt uptime wantedStatus createdAt updatedAt";

pub(crate) async fn create_exchange(app: &TestApp) -> String {
    app.query(
        "mutation { createExchange(input: { name: \"binance\" }) { id } }",
        json!({}),
    )
    .await["createExchange"]["id"]
        .as_str()
        .expect("exchange id")
        .to_owned()
}

async fn create_strategy(app: &TestApp, name: &str) -> String {
    app.query(
        "mutation($name: String!, $code: String!) { createStrategy(input: { name: $name, code: $code }) { id } }",
        json!({ "name": name, "code": CODE }),
    )
    .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned()
}

const CREATE: &str = "mutation($input: CreateBotInput!) { createBot(input: $input) { id name status runtimeId apiUrl uptime } }";

/// A dry-run bot with defaults for everything else.
fn plain(name: &str, exchange: &str, strategy: &str) -> Value {
    json!({ "name": name, "exchangeId": exchange, "strategyId": strategy, "mode": "DRY_RUN" })
}

async fn create_bot(app: &TestApp, input: Value) -> Value {
    app.query(CREATE, json!({ "input": input })).await["createBot"].clone()
}

async fn bot(app: &TestApp, id: &str) -> Value {
    app.query(
        &format!("query($id: ID!) {{ bot(id: $id) {{ {FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["bot"]
        .clone()
}

async fn mutate(app: &TestApp, mutation: &str, id: &str) -> Value {
    app.query(
        &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ {FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await[mutation]
        .clone()
}

/// `mutation(id: $id)`, selecting the id unless the mutation answers a Boolean.
fn by_id(mutation: &str) -> String {
    if mutation.starts_with("delete") {
        format!("mutation($id: ID!) {{ {mutation}(id: $id) }}")
    } else {
        format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}")
    }
}

/// `(code, field)` of the one error `mutation(id)` answers with.
async fn refused(app: &TestApp, mutation: &str, id: &str) -> (String, String) {
    let error = app.query_error(&by_id(mutation), json!({ "id": id })).await;
    code_and_field(&error)
}

fn code_and_field(extensions: &Value) -> (String, String) {
    (
        extensions["code"].as_str().unwrap_or_default().to_owned(),
        extensions["field"].as_str().unwrap_or_default().to_owned(),
    )
}

fn pair(code: &str, field: &str) -> (String, String) {
    (code.to_owned(), field.to_owned())
}

/// Stands in for the runtime layer: confirms lifecycle steps through the command side,
/// as the runtime's process manager will.
struct Runtime {
    commands: Commands,
    meta: CommandMetadata,
}

impl Runtime {
    fn new(app: &TestApp) -> Self {
        let log = EventLog::new(app.pool.clone());
        let lookup = Arc::new(PgLookup::new(app.pool.clone()));
        Self {
            commands: Commands::new(&app.pool, &log, lookup),
            meta: CommandMetadata::issued_by("runtime:test"),
        }
    }

    /// Sends `command` for bot `id`, then waits until the service's read model shows
    /// `status` (`None`: the bot is gone) and returns the bot as the API shows it.
    async fn confirm(
        &self,
        app: &TestApp,
        id: &str,
        command: BotCommand,
        status: Option<&str>,
    ) -> Value {
        self.commands
            .bots
            .execute(&id.parse().expect("bot id"), command, &self.meta)
            .await
            .expect("the runtime's confirmation is accepted");
        for _ in 0..200 {
            let shown = bot(app, id).await;
            let now = shown.get("status").and_then(Value::as_str);
            if now == status {
                return shown;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("bot {id} never reached {status:?}");
    }

    async fn provisioned(&self, app: &TestApp, id: &str) -> Value {
        let command = BotCommand::ConfirmBotProvisioned {
            runtime_id: format!("container-{id}"),
        };
        self.confirm(app, id, command, Some("STOPPED")).await
    }

    async fn started(&self, app: &TestApp, id: &str) -> Value {
        let command = BotCommand::ConfirmBotStarted {
            runtime_id: format!("container-{id}"),
            api_url: "http://127.0.0.1:18080".into(),
        };
        self.confirm(app, id, command, Some("RUNNING")).await
    }
}

#[tokio::test]
async fn a_bot_shows_every_field_and_its_exchange_and_strategy() {
    let app = TestApp::spawn().await;
    let exchange = create_exchange(&app).await;
    let strategy = create_strategy(&app, "Always In").await;
    let unused = create_strategy(&app, "Unused").await;

    let created = app
        .query(
            &format!(
                "mutation($input: CreateBotInput!) {{ createBot(input: $input) {{ {FIELDS} }} }}"
            ),
            json!({ "input": {
                "name": "Scalper",
                "exchangeId": exchange,
                "strategyId": strategy,
                "mode": "DRY_RUN",
                "runtime": "DOCKER",
                "config": {
                    "maxOpenTrades": 3,
                    "stakeAmount": "100.50",
                    "pairs": ["BTC/USDT", "ETH/USDT"],
                    "timeframe": "5m",
                    "dryRun": true,
                    "extra": { "minimal_roi": { "0": 0.1 } }
                },
                "resources": { "cpu": "0.5", "memory": "1024Mi" },
                "freqtradeVersion": "2026.9.1"
            } }),
        )
        .await["createBot"]
        .clone();
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(created["name"], "Scalper");
    assert_eq!(
        created["status"], "CREATING",
        "a new bot waits for its runtime"
    );
    assert_eq!(created["mode"], "DRY_RUN");
    assert_eq!(created["runtime"], "DOCKER");
    assert_eq!(created["runtimeId"], Value::Null);
    assert_eq!(created["apiUrl"], Value::Null);
    assert_eq!(
        created["config"],
        json!({
            "maxOpenTrades": 3,
            "stakeAmount": "100.5",
            "pairs": ["BTC/USDT", "ETH/USDT"],
            "timeframe": "5m",
            "extra": { "minimal_roi": { "0": 0.1 } }
        })
    );
    assert_eq!(
        created["resources"],
        json!({ "cpu": "500m", "memory": "1Gi" }),
        "limits come back in canonical spelling"
    );
    assert_eq!(created["freqtradeVersion"], "2026.9.1");
    assert_eq!(created["strategyVersion"], 1);
    assert_eq!(created["errorMessage"], Value::Null);
    assert_eq!(created["exchange"], json!({ "name": "binance" }));
    assert_eq!(created["strategy"], json!({ "name": "Always In" }));
    assert_eq!(created["healthStatus"], "UNKNOWN");
    assert_eq!(created["lastSeenAt"], Value::Null);
    assert_eq!(created["uptime"], Value::Null);
    assert!(created["createdAt"].is_string(), "{created}");
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert_eq!(bot(&app, &id).await, created, "bot(id) shows the same");

    let defaults = create_bot(&app, plain("Plain", &exchange, &strategy)).await;
    let defaults = bot(&app, defaults["id"].as_str().expect("id")).await;
    assert_eq!(defaults["runtime"], Value::Null, "the service's default");
    assert_eq!(
        defaults["config"],
        json!({ "maxOpenTrades": null, "stakeAmount": null, "pairs": null, "timeframe": null, "extra": {} })
    );
    assert_eq!(
        defaults["resources"],
        json!({ "cpu": null, "memory": null })
    );
    assert_eq!(defaults["freqtradeVersion"], "2026.9");

    let mut unlimited = plain("Unlimited", &exchange, &strategy);
    unlimited["config"] = json!({ "stakeAmount": "unlimited", "maxOpenTrades": -1 });
    let unlimited = create_bot(&app, unlimited).await;
    let unlimited = bot(&app, unlimited["id"].as_str().expect("id")).await;
    assert_eq!(unlimited["config"]["stakeAmount"], "unlimited");
    assert_eq!(unlimited["config"]["maxOpenTrades"], -1);

    // Nested lists, each through one DataLoader query for the whole list.
    let strategies = app
        .query(
            "{ strategies { edges { node { name bots { name exchange { name } strategy { name } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        strategies["strategies"]["edges"],
        json!([
            { "node": { "name": "Always In", "bots": [
                { "name": "Scalper", "exchange": { "name": "binance" }, "strategy": { "name": "Always In" } },
                { "name": "Plain", "exchange": { "name": "binance" }, "strategy": { "name": "Always In" } },
                { "name": "Unlimited", "exchange": { "name": "binance" }, "strategy": { "name": "Always In" } }
            ] } },
            { "node": { "name": "Unused", "bots": [] } }
        ])
    );
    let one = app
        .query(
            "query($id: ID!) { strategy(id: $id) { bots { name } } }",
            json!({ "id": unused }),
        )
        .await;
    assert_eq!(one["strategy"]["bots"], json!([]));
    let exchanges = app
        .query("{ exchanges { bots { name } } }", json!({}))
        .await;
    assert_eq!(
        exchanges["exchanges"],
        json!([{ "bots": [{ "name": "Scalper" }, { "name": "Plain" }, { "name": "Unlimited" }] }])
    );
    let listed = app
        .query(
            "{ bots { totalCount edges { node { name exchange { name } strategy { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["bots"]["totalCount"], 3);
    assert_eq!(
        listed["bots"]["edges"][0]["node"],
        json!({ "name": "Scalper", "exchange": { "name": "binance" }, "strategy": { "name": "Always In" } })
    );
}

#[tokio::test]
async fn the_lifecycle_records_intent_and_guards_deletion() {
    let app = TestApp::spawn().await;
    let runtime = Runtime::new(&app);
    let exchange = create_exchange(&app).await;
    let strategy = create_strategy(&app, "Always In").await;
    let created = create_bot(&app, plain("Lifecycle", &exchange, &strategy)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["status"], "CREATING");

    // Nothing runs before the runtime has provisioned the bot: a start or stop asked for
    // meanwhile is recorded as wanted, once.
    let wanted = |bot: &Value| (bot["status"].clone(), bot["wantedStatus"].clone());
    let started = mutate(&app, "startBot", &id).await;
    assert_eq!(wanted(&started), (json!("CREATING"), json!("RUNNING")));
    let before = app.event_count().await;
    let restarted = mutate(&app, "restartBot", &id).await;
    assert_eq!(wanted(&restarted), (json!("CREATING"), json!("RUNNING")));
    assert_eq!(
        app.event_count().await,
        before,
        "wanted twice, recorded once"
    );
    let stopped = mutate(&app, "stopBot", &id).await;
    assert_eq!(wanted(&stopped), (json!("CREATING"), json!("STOPPED")));
    let before = app.event_count().await;
    let update = app
        .query_error(
            "mutation($id: ID!) { updateBot(id: $id, input: { name: \"Renamed\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code_and_field(&update), pair("CONFLICT", "status"));
    // While a bot uses them, its exchange and strategy stay.
    assert_eq!(
        refused(&app, "deleteExchange", &exchange).await,
        pair("CONFLICT", "id")
    );
    assert_eq!(
        refused(&app, "deleteStrategy", &strategy).await,
        pair("CONFLICT", "id")
    );
    assert_eq!(app.event_count().await, before, "refusals wrote events");

    let stopped = runtime.provisioned(&app, &id).await;
    assert_eq!(stopped["runtimeId"], format!("container-{id}"));
    assert_eq!(
        stopped["wantedStatus"],
        Value::Null,
        "staying stopped is done"
    );
    assert_eq!(stopped["uptime"], Value::Null);

    // Stopped: settings can change, including the pinned strategy version.
    app.query(
        "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version } }",
        json!({ "id": strategy, "code": CODE_V2 }),
    )
    .await;
    let updated = app
        .query(
            &format!("mutation($id: ID!, $input: UpdateBotInput!) {{ updateBot(id: $id, input: $input) {{ {FIELDS} }} }}"),
            json!({ "id": id, "input": {
                "name": "Renamed",
                "strategyVersion": 2,
                "runtime": "LOCAL",
                "resources": { "memory": "2Gi" },
                "config": { "pairs": ["BTC/USDT"] }
            } }),
        )
        .await["updateBot"]
        .clone();
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["strategyVersion"], 2);
    assert_eq!(updated["runtime"], "LOCAL");
    assert_eq!(
        updated["resources"],
        json!({ "cpu": null, "memory": "2Gi" })
    );
    assert_eq!(updated["config"]["pairs"], json!(["BTC/USDT"]));
    assert_eq!(updated["status"], "STOPPED");
    assert_ne!(updated["updatedAt"], updated["createdAt"]);
    let before = app.event_count().await;
    let too_new = app
        .query_error(
            "mutation($id: ID!) { updateBot(id: $id, input: { strategyVersion: 3 }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        code_and_field(&too_new),
        pair("VALIDATION", "strategyVersion")
    );
    assert_eq!(app.event_count().await, before);

    // Start records the request: STARTING, not running, until the runtime says so.
    let starting = mutate(&app, "startBot", &id).await;
    assert_eq!(starting["status"], "STARTING");
    assert_eq!(starting["uptime"], Value::Null);
    assert_eq!(
        refused(&app, "startBot", &id).await,
        pair("CONFLICT", "status")
    );
    assert_eq!(
        refused(&app, "restartBot", &id).await,
        pair("CONFLICT", "status"),
        "only a running bot restarts"
    );

    let running = runtime.started(&app, &id).await;
    assert_eq!(running["apiUrl"], "http://127.0.0.1:18080");
    assert!(
        running["uptime"].as_i64().is_some_and(|s| s >= 0),
        "{running}"
    );
    assert_eq!(running["healthStatus"], "UNKNOWN");
    let update = app
        .query_error(
            "mutation($id: ID!) { updateBot(id: $id, input: { name: \"Again\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code_and_field(&update), pair("CONFLICT", "status"));

    let restarting = mutate(&app, "restartBot", &id).await;
    assert_eq!(restarting["status"], "STARTING");
    assert_eq!(restarting["uptime"], Value::Null);
    runtime.started(&app, &id).await;

    let stopping = mutate(&app, "stopBot", &id).await;
    assert_eq!(stopping["status"], "STOPPING");
    assert_eq!(
        refused(&app, "stopBot", &id).await,
        pair("CONFLICT", "status")
    );
    let stopped = runtime
        .confirm(&app, &id, BotCommand::ConfirmBotStopped, Some("STOPPED"))
        .await;
    assert_eq!(stopped["uptime"], Value::Null);

    // Delete asks; the bot reads DELETING (and still holds its exchange and strategy)
    // until the runtime has removed it.
    let deleted = app
        .query(
            "mutation($id: ID!) { deleteBot(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["deleteBot"], true);
    assert_eq!(bot(&app, &id).await["status"], "DELETING");
    assert_eq!(
        refused(&app, "startBot", &id).await,
        pair("CONFLICT", "status")
    );
    assert_eq!(
        refused(&app, "deleteExchange", &exchange).await,
        pair("CONFLICT", "id")
    );

    let gone = runtime
        .confirm(&app, &id, BotCommand::ConfirmBotDeleted, None)
        .await;
    assert_eq!(gone, Value::Null);
    let listed = app
        .query("{ bots { totalCount edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(listed["bots"]["totalCount"], 0);
    assert_eq!(listed["bots"]["edges"], json!([]));
    assert_eq!(
        refused(&app, "startBot", &id).await,
        pair("NOT_FOUND", "id")
    );
    for (mutation, target) in [("deleteExchange", &exchange), ("deleteStrategy", &strategy)] {
        let answer = app
            .query(
                &format!("mutation($id: ID!) {{ {mutation}(id: $id) }}"),
                json!({ "id": target }),
            )
            .await;
        assert_eq!(answer[mutation], true, "{mutation} once no bot uses it");
    }
}

#[tokio::test]
async fn bad_bot_input_is_a_typed_error_that_writes_nothing() {
    let app = TestApp::spawn().await;
    let exchange = create_exchange(&app).await;
    let strategy = create_strategy(&app, "Always In").await;
    let base = plain("Checked", &exchange, &strategy);
    let with = |changes: Value| {
        let mut input = base.clone();
        for (key, value) in changes.as_object().expect("object") {
            input[key] = value.clone();
        }
        input
    };
    let unknown = "0190d2b5-0000-7000-8000-000000000000";
    let cases = [
        (
            with(json!({ "config": { "pairs": ["BTC/USDT", "not a pair"] } })),
            "VALIDATION",
            "config.pairs[1]",
        ),
        (
            with(json!({ "config": { "pairs": ["BTC/USDT", "BTC/USDT"] } })),
            "VALIDATION",
            "config.pairs[1]",
        ),
        (
            with(json!({ "config": { "stakeAmount": "-5" } })),
            "VALIDATION",
            "config.stakeAmount",
        ),
        (
            with(json!({ "config": { "maxOpenTrades": 0 } })),
            "VALIDATION",
            "config.maxOpenTrades",
        ),
        (
            with(json!({ "config": { "timeframe": "7m" } })),
            "VALIDATION",
            "config.timeframe",
        ),
        (
            with(json!({ "config": { "dryRun": false } })),
            "VALIDATION",
            "config.dryRun",
        ),
        (
            with(json!({ "config": { "extra": { "dry_run": false } } })),
            "VALIDATION",
            "config.extra.dry_run",
        ),
        (
            with(json!({ "resources": { "memory": "lots" } })),
            "VALIDATION",
            "resources.memory",
        ),
        (
            with(json!({ "resources": { "cpu": "-1" } })),
            "VALIDATION",
            "resources.cpu",
        ),
        (with(json!({ "name": "" })), "VALIDATION", "name"),
        (
            with(json!({ "freqtradeVersion": "latest" })),
            "VALIDATION",
            "freqtradeVersion",
        ),
        // The exchange is in test mode: no live trading on it.
        (with(json!({ "mode": "LIVE" })), "VALIDATION", "mode"),
        (
            with(json!({ "exchangeId": "not-a-uuid" })),
            "VALIDATION",
            "exchangeId",
        ),
        (
            with(json!({ "exchangeId": unknown })),
            "NOT_FOUND",
            "exchangeId",
        ),
        (
            with(json!({ "strategyId": unknown })),
            "NOT_FOUND",
            "strategyId",
        ),
    ];
    let before = app.event_count().await;
    for (input, code, field) in cases {
        let error = app.query_error(CREATE, json!({ "input": input })).await;
        assert_eq!(code_and_field(&error), pair(code, field), "{input}");
    }
    for mutation in ["startBot", "stopBot", "restartBot", "deleteBot"] {
        assert_eq!(
            refused(&app, mutation, unknown).await,
            pair("NOT_FOUND", "id"),
            "{mutation}"
        );
        assert_eq!(
            refused(&app, mutation, "nope").await,
            pair("VALIDATION", "id"),
            "{mutation}"
        );
    }
    assert_eq!(
        app.event_count().await,
        before,
        "refused commands wrote events"
    );

    let missing = app
        .query(
            "query($id: ID!) { bot(id: $id) { id } }",
            json!({ "id": unknown }),
        )
        .await;
    assert_eq!(missing["bot"], Value::Null);
    let garbage = app
        .query_error("{ bot(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(code_and_field(&garbage), pair("VALIDATION", "id"));
    let filter = app
        .query_error(
            "{ bots(filter: { exchangeId: \"nope\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        code_and_field(&filter),
        pair("VALIDATION", "filter.exchangeId")
    );

    // A viewer reads bots but cannot create one.
    create_bot(&app, base.clone()).await;
    let (status, listed) = app
        .graphql_as(
            Some(&app.viewer),
            "{ bots { totalCount edges { node { name strategy { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"]["bots"]["totalCount"], 1, "{listed}");
    let before = app.event_count().await;
    let (_, forbidden) = app
        .graphql_as(Some(&app.viewer), CREATE, json!({ "input": base }))
        .await;
    assert_eq!(
        forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{forbidden}"
    );
    assert_eq!(app.event_count().await, before);
}

const PAGE: &str = "query($filter: BotFilter, $orderBy: BotOrder, $first: Int, $after: String) {
    bots(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } } } }";

/// Follows cursors to the end, `first` at a time; returns the names in order and checks
/// `totalCount` and `pageInfo` on every page.
async fn walk(app: &TestApp, filter: Value, order: Value, first: i64) -> Vec<String> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    loop {
        let page = app
            .query(
                PAGE,
                json!({ "filter": filter, "orderBy": order, "first": first, "after": after }),
            )
            .await["bots"]
            .clone();
        let count = page["totalCount"].as_i64().expect("totalCount");
        assert_eq!(*total.get_or_insert(count), count, "totalCount changed");
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        let edges = page["edges"].as_array().expect("edges");
        assert!(edges.len() as i64 <= first);
        names.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().expect("name").to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(names.len() as i64, count, "pages add up to totalCount");
            return names;
        }
        after = Some(
            page["pageInfo"]["endCursor"]
                .as_str()
                .expect("endCursor")
                .to_owned(),
        );
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn bots_filter_order_and_paginate() {
    let app = TestApp::spawn().await;
    let runtime = Runtime::new(&app);
    let exchange = create_exchange(&app).await;
    let first_strategy = create_strategy(&app, "First").await;
    let second_strategy = create_strategy(&app, "Second").await;

    let empty = walk(&app, json!(null), json!(null), 2).await;
    assert!(empty.is_empty());

    // Created in this order; names sort otherwise. alpha and charlie get provisioned.
    let created = ["delta", "alpha", "echo", "charlie", "bravo"];
    for (i, name) in created.iter().enumerate() {
        let strategy = if i < 3 {
            &first_strategy
        } else {
            &second_strategy
        };
        let bot = create_bot(&app, plain(name, &exchange, strategy)).await;
        if ["alpha", "charlie"].contains(name) {
            runtime
                .provisioned(&app, bot["id"].as_str().expect("id"))
                .await;
        }
    }

    let none = json!(null);
    assert_eq!(walk(&app, none.clone(), none.clone(), 2).await, created);
    let order = |field: &str, direction: &str| json!({ "field": field, "direction": direction });
    let cases = [
        (order("CREATED_AT", "ASC"), created.to_vec()),
        (
            order("CREATED_AT", "DESC"),
            vec!["bravo", "charlie", "echo", "alpha", "delta"],
        ),
        (
            order("NAME", "ASC"),
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (
            order("NAME", "DESC"),
            vec!["echo", "delta", "charlie", "bravo", "alpha"],
        ),
        // Lifecycle order (CREATING before STOPPED), ties by creation.
        (
            order("STATUS", "ASC"),
            vec!["delta", "echo", "bravo", "alpha", "charlie"],
        ),
        (
            order("STATUS", "DESC"),
            vec!["charlie", "alpha", "bravo", "echo", "delta"],
        ),
        (
            json!({ "field": "NAME" }),
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (
            json!({ "direction": "DESC" }),
            vec!["bravo", "charlie", "echo", "alpha", "delta"],
        ),
    ];
    for (order, expected) in cases {
        for first in [1, 2, 5] {
            assert_eq!(
                walk(&app, none.clone(), order.clone(), first).await,
                strings(&expected),
                "{order} first {first}"
            );
        }
    }

    let filters = [
        (json!({ "status": "STOPPED" }), vec!["alpha", "charlie"]),
        (
            json!({ "status": "CREATING" }),
            vec!["bravo", "delta", "echo"],
        ),
        (json!({ "status": "RUNNING" }), vec![]),
        (
            json!({ "nameContains": "A" }),
            vec!["alpha", "bravo", "charlie", "delta"],
        ),
        (json!({ "nameContains": "%" }), vec![]),
        (
            json!({ "nameContains": "a", "status": "CREATING" }),
            vec!["bravo", "delta"],
        ),
        (
            json!({ "strategyId": second_strategy }),
            vec!["bravo", "charlie"],
        ),
        (
            json!({ "exchangeId": exchange, "mode": "DRY_RUN" }),
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (json!({ "mode": "LIVE" }), vec![]),
    ];
    for (filter, expected) in filters {
        assert_eq!(
            walk(&app, filter.clone(), order("NAME", "ASC"), 1).await,
            strings(&expected),
            "{filter}"
        );
    }
    let desc = walk(
        &app,
        json!({ "nameContains": "a" }),
        order("CREATED_AT", "DESC"),
        2,
    )
    .await;
    assert_eq!(desc, ["bravo", "charlie", "alpha", "delta"]);

    // A cursor belongs to its ordering.
    let by_name = app
        .query(PAGE, json!({ "orderBy": order("NAME", "ASC"), "first": 1 }))
        .await;
    let cursor = by_name["bots"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    for other in [
        json!(null),
        order("NAME", "DESC"),
        order("STATUS", "ASC"),
        order("CREATED_AT", "ASC"),
    ] {
        let error = app
            .query_error(
                PAGE,
                json!({ "orderBy": other, "first": 1, "after": cursor }),
            )
            .await;
        assert_eq!(
            code_and_field(&error),
            pair("VALIDATION", "after"),
            "{other}"
        );
    }
    let next = app
        .query(
            PAGE,
            json!({ "orderBy": order("NAME", "ASC"), "first": 1, "after": cursor }),
        )
        .await;
    assert_eq!(next["bots"]["edges"][0]["node"]["name"], "bravo");
    for bad in ["garbage", ""] {
        let error = app
            .query_error(PAGE, json!({ "first": 1, "after": bad }))
            .await;
        assert_eq!(code_and_field(&error), pair("VALIDATION", "after"));
    }
    let error = app.query_error(PAGE, json!({ "first": 101 })).await;
    assert_eq!(code_and_field(&error), pair("VALIDATION", "first"));
}
