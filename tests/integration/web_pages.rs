//! The dashboard's strategies and event log in a real browser, against a service that
//! runs no bots (the pages read the log and the read models only): a strategy's
//! versions with the bots on each and the difference between two, and the event log
//! filtered, tailed live and refusing a bad filter by naming the field.

use std::time::Duration;

use serde_json::json;

use crate::app::{ADMIN_PASSWORD, TestApp};
use crate::bot_lifecycle::{create_bot, strategy};
use crate::graphql_bots::create_exchange;
use crate::sandbox::ALWAYS_ENTER;
use crate::web_fleet::{
    assert_not_reloaded, browser, click, count, form_field, go, log_in, mark_page, screenshot,
    text, wait_for_text,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategies_show_their_versions_and_the_event_log_follows_live() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let exchange = create_exchange(&app).await;
    let always = strategy(&app, "always", ALWAYS_ENTER).await;
    create_bot(&app, "on-one", &exchange, &always, json!({})).await;
    let quicker = ALWAYS_ENTER.replace(r#"{"0": 0.001}"#, r#"{"0": 0.002}"#);
    assert_ne!(quicker, ALWAYS_ENTER);
    let updated = app
        .query(
            "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version } }",
            json!({ "id": always, "code": quicker }),
        )
        .await;
    assert_eq!(updated["updateStrategy"]["version"], 2);
    create_bot(&app, "on-two", &exchange, &always, json!({})).await;

    log_in(&client, &app, "admin", ADMIN_PASSWORD).await;
    mark_page(&client).await;

    // The list, then the strategy: each version with the bots that run it, and what
    // changed from version 1 to 2.
    click(&client, "#nav a[data-page=strategies]").await;
    let row = format!("#strategy-{always}");
    wait_for_text(
        &client,
        &format!("{row} .bots"),
        "2",
        Duration::from_secs(10),
    )
    .await;
    click(&client, &format!("{row} .name a")).await;
    wait_for_text(
        &client,
        "#strategy-versions tr[data-version='2'] .bots",
        "on-two",
        Duration::from_secs(10),
    )
    .await;
    let on_one = text(&client, "#strategy-versions tr[data-version='1'] .bots").await;
    assert_eq!(on_one, "on-one");
    let removed = text(&client, "#strategy-diff .diff-del").await;
    let added = text(&client, "#strategy-diff .diff-add").await;
    assert!(
        removed.contains("0.001") && added.contains("0.002"),
        "-{removed} +{added}"
    );
    let code = text(&client, "#strategy-code").await;
    assert!(
        code.contains("class AlwaysEnter") && code.contains("0.002"),
        "{code}"
    );
    screenshot(&client, "strategy").await;
    // The code of version 1, and version 2 against itself.
    for (name, version) in [("code", "1"), ("from", "2")] {
        form_field(&client, "#strategy-show", name)
            .await
            .select_by_value(version)
            .await
            .expect("pick a version");
    }
    click(&client, "#strategy-show button[type=submit]").await;
    wait_for_text(
        &client,
        "#strategy-diff-empty",
        "The same code.",
        Duration::from_secs(10),
    )
    .await;
    let code = text(&client, "#strategy-code").await;
    assert!(code.contains("0.001") && !code.contains("0.002"), "{code}");

    // The bots' events, newest first; a new bot's creation arrives live on top.
    go(&client, "#/events?type=bot").await;
    wait_for_text(
        &client,
        "#events-table tbody tr .event-type",
        "BotCreated",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        count(&client, "#events-table tbody tr").await,
        2,
        "one BotCreated per bot"
    );
    let newest = text(&client, "#events-table tbody tr").await;
    let live = create_bot(&app, "live-one", &exchange, &always, json!({})).await;
    wait_for_text(
        &client,
        "#events-table tbody tr td:nth-child(4)",
        &live,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        count(&client, "#events-table tbody tr").await,
        3,
        "the live event on top of the two: {newest}"
    );
    // Not another aggregate's events, which the filter leaves out: a strategy's event,
    // then a bot's, which arrives alone.
    strategy(&app, "another", ALWAYS_ENTER).await;
    let last = create_bot(&app, "last-one", &exchange, &always, json!({})).await;
    wait_for_text(
        &client,
        "#events-table tbody tr td:nth-child(4)",
        &last,
        Duration::from_secs(10),
    )
    .await;
    let types = client
        .execute(
            "return [...document.querySelectorAll('#events-table tbody tr td:nth-child(3)')]
                 .map((cell) => cell.textContent);",
            vec![],
        )
        .await
        .expect("the rows' types");
    assert_eq!(
        types,
        json!(["bot", "bot", "bot", "bot"]),
        "only the bots' events"
    );
    assert_not_reloaded(&client).await;
    screenshot(&client, "events").await;

    // A bad filter is refused by name.
    go(&client, "#/events?id=nope").await;
    wait_for_text(
        &client,
        "#page-error",
        "id: \"nope\" is not an id (a UUID)",
        Duration::from_secs(10),
    )
    .await;
    client.close().await.expect("close the browser");
}
