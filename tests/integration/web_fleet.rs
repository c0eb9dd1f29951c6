//! The dashboard in a real browser (Debian's headless chromium through chromedriver)
//! against the real service running real freqtrade on the sandbox: log in, see a bot
//! appear and go from CREATING to RUNNING without a reload, start and stop it with
//! the page's buttons, its trades counted live; a viewer sees no buttons. Screenshots
//! of each page land in the test's output directory.
//!
//! Skipped, saying why, where chromium or chromedriver is missing (scripts/test installs
//! them with apt).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::app::{ADMIN_PASSWORD, TestApp, VIEWER_PASSWORD};
use crate::bot_lifecycle::managing_app;
use crate::cli::free_port;
use crate::helpers::poll_until;
use crate::sandbox::ALWAYS_ENTER;

/// chromedriver on a free port, killed when dropped.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn installed(program: &str) -> bool {
    Path::new("/usr/bin").join(program).is_file()
}

pub(crate) async fn browser() -> Option<(Driver, Client)> {
    if !installed("chromium") || !installed("chromedriver") {
        eprintln!(
            "SKIPPED: chromium or chromedriver missing (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let capabilities: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1500,900"],
        }
    }))
    .expect("capabilities");
    let client = poll_until(Duration::from_secs(30), Duration::from_millis(200), || {
        let capabilities = capabilities.clone();
        async move {
            ClientBuilder::rustls()
                .map_err(|e| e.to_string())?
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .map_err(|e| e.to_string())
        }
    })
    .await;
    Some((driver, client))
}

/// The test's output directory for screenshots.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub(crate) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let path = shots().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

pub(crate) async fn log_in(client: &Client, app: &TestApp, username: &str, password: &str) {
    client
        .goto(&format!("http://{}/", app.address))
        .await
        .expect("open the page");
    let form = client
        .wait()
        .for_element(Locator::Css("#login-form"))
        .await
        .expect("the login form");
    form.find(Locator::Css("input[name=username]"))
        .await
        .expect("username")
        .send_keys(username)
        .await
        .expect("type");
    form.find(Locator::Css("input[name=password]"))
        .await
        .expect("password")
        .send_keys(password)
        .await
        .expect("type");
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    client
        .wait()
        .for_element(Locator::Css("#fleet-table"))
        .await
        .expect("the fleet table");
}

/// Clicks the element `css` matches, again if a live update replaced it meanwhile.
pub(crate) async fn click(client: &Client, css: &str) {
    poll_until(
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let element = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            element.click().await.map_err(|e| e.to_string())
        },
    )
    .await
}

/// The field `name` of the form `form` (a CSS selector).
pub(crate) async fn form_field(
    client: &Client,
    form: &str,
    name: &str,
) -> fantoccini::elements::Element {
    client
        .find(Locator::Css(&format!("{form} [name={name}]")))
        .await
        .unwrap_or_else(|e| panic!("{form} has no field {name}: {e}"))
}

/// The text of the first element `css` matches, or "" when none does.
pub(crate) async fn text(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Marks the page, so that [`assert_not_reloaded`] can tell whether it was loaded again.
pub(crate) async fn mark_page(client: &Client) {
    client
        .execute("window.anytradeMark = 1; return 1;", vec![])
        .await
        .expect("mark the page");
}

/// The page marked by [`mark_page`] is still the one shown: live updates changed it in
/// place.
pub(crate) async fn assert_not_reloaded(client: &Client) {
    let mark = client
        .execute("return window.anytradeMark ?? null;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(mark, json!(1), "the page was reloaded");
}

/// Shows the dashboard's page `hash` names (`#/jobs`), as a link to it would.
pub(crate) async fn go(client: &Client, hash: &str) {
    client
        .execute("location.hash = arguments[0]; return 1;", vec![json!(hash)])
        .await
        .unwrap_or_else(|e| panic!("go to {hash}: {e}"));
}

/// How many elements `css` matches.
pub(crate) async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("find {css}: {e}"))
        .len()
}

pub(crate) async fn wait_for_text(client: &Client, css: &str, wanted: &str, within: Duration) {
    poll_until(within, Duration::from_millis(250), || async {
        let seen = text(client, css).await;
        if seen == wanted {
            Ok(())
        } else {
            Err(format!("{css} shows {seen:?}, not {wanted:?}"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_page_follows_a_bot_live_and_only_admins_get_buttons() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let app = managing_app(data.path(), |settings| {
        settings.sandbox.enabled = true;
        settings.sandbox.listen = Some("127.0.0.1:0".parse().expect("address"));
        settings.monitor.trade_sync_interval_secs = 2;
        settings.monitor.health_interval_secs = 2;
    })
    .await;

    // The page is served with a strict policy and no inline script.
    let page = reqwest::get(format!("http://{}/", app.address))
        .await
        .expect("GET /");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    let html = page.text().await.expect("body");
    assert!(!html.contains("<script>"), "{html}");

    let strategy = crate::bot_lifecycle::strategy(&app, "always enter", ALWAYS_ENTER).await;
    log_in(&client, &app, "admin", ADMIN_PASSWORD).await;
    // Marks this page: a reload would lose it.
    mark_page(&client).await;

    // A new bot through the page's form, started once created. Market orders fill at
    // once in a dry run, so its first trade comes in seconds.
    click(&client, "#new-bot summary").await;
    let field = |name: &'static str| form_field(&client, "#create-bot", name);
    field("name")
        .await
        .send_keys("browser-bot")
        .await
        .expect("type a name");
    field("strategyId")
        .await
        .select_by_value(&strategy)
        .await
        .expect("pick the strategy");
    let pairs = field("pairs").await;
    pairs.clear().await.expect("clear");
    pairs.send_keys("BTC/USDT").await.expect("type pairs");
    let extra = crate::sandbox::market_order_settings();
    field("extra")
        .await
        .send_keys(&extra.to_string())
        .await
        .expect("type extra settings");
    screenshot(&client, "fleet-new-bot").await;
    field("name")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("submit with Enter");
    let bot = poll_until(
        Duration::from_secs(30),
        Duration::from_millis(250),
        || async {
            let found = app
                .query(
                    "{ bots(first: 10) { edges { node { id name } } } }",
                    json!({}),
                )
                .await;
            found["bots"]["edges"]
                .as_array()
                .and_then(|edges| edges.iter().find(|e| e["node"]["name"] == "browser-bot"))
                .and_then(|edge| edge["node"]["id"].as_str().map(str::to_owned))
                .ok_or_else(|| format!("no bot yet: {found}"))
        },
    )
    .await;
    let status = format!("#bot-{bot} .status .badge");
    wait_for_text(&client, &status, "RUNNING", Duration::from_secs(600)).await;
    wait_for_text(
        &client,
        &format!("#bot-{bot} .health .badge"),
        "HEALTHY",
        Duration::from_secs(60),
    )
    .await;
    wait_for_text(
        &client,
        &format!("#bot-{bot} .open"),
        "1",
        Duration::from_secs(120),
    )
    .await;
    wait_for_text(&client, "#total-open-trades", "1", Duration::from_secs(10)).await;
    screenshot(&client, "fleet-admin").await;

    // A refused action shows the server's reason in the row.
    click(&client, &format!("#bot-{bot} button[data-action=startBot]")).await;
    poll_until(
        Duration::from_secs(10),
        Duration::from_millis(200),
        || async {
            let said = text(&client, &format!("#bot-{bot} .actions .error")).await;
            if said.is_empty() {
                Err("no error shown".to_owned())
            } else {
                Ok(())
            }
        },
    )
    .await;

    the_bot_page_follows_its_trades(&client, &bot).await;
    go(&client, "#/fleet").await;

    click(&client, &format!("#bot-{bot} button[data-action=stopBot]")).await;
    wait_for_text(&client, &status, "STOPPED", Duration::from_secs(120)).await;
    assert_not_reloaded(&client).await;

    // A viewer sees the same fleet, without buttons.
    client
        .find(Locator::Css("#logout"))
        .await
        .expect("log out")
        .click()
        .await
        .expect("click log out");
    client
        .wait()
        .for_element(Locator::Css("#login-form"))
        .await
        .expect("back at the login");
    log_in(&client, &app, "viewer", VIEWER_PASSWORD).await;
    wait_for_text(&client, &status, "STOPPED", Duration::from_secs(10)).await;
    let buttons = count(&client, "button[data-action]").await;
    assert_eq!(buttons, 0, "a viewer sees {buttons} buttons");
    screenshot(&client, "fleet-viewer").await;

    // The viewer's token revoked elsewhere (its sessions ended): the next page it asks
    // for sends it back to the login.
    let token = client
        .execute(
            "return JSON.parse(sessionStorage.getItem('anytrade.token')).token;",
            vec![],
        )
        .await
        .expect("the tab's token");
    let ended = reqwest::Client::new()
        .post(format!("http://{}/auth/logout", app.address))
        .bearer_auth(token.as_str().expect("a token"))
        .send()
        .await
        .expect("logout");
    assert_eq!(ended.status().as_u16(), 204);
    go(&client, "#/jobs").await;
    wait_for_text(
        &client,
        "#login-error",
        "Your session ended; log in again.",
        Duration::from_secs(10),
    )
    .await;
    client.close().await.expect("close the browser");
}

/// The running bot's page, reached from its row: its settings, status history, open
/// trade and log; its open trade closed by the page's button moves to the closed trades
/// and draws the charts, without a reload.
async fn the_bot_page_follows_its_trades(client: &Client, bot: &str) {
    click(client, &format!("#bot-{bot} .name a")).await;
    wait_for_text(client, "#bot-status", "RUNNING", Duration::from_secs(10)).await;
    let settings = text(client, "#bot-settings").await;
    assert!(
        settings.contains("config.pairs") && settings.contains("BTC/USDT"),
        "{settings}"
    );
    let history = text(client, "#status-history").await;
    for step in ["CREATING BotCreated", "RUNNING BotStarted"] {
        assert!(history.contains(step), "{step} in {history}");
    }
    assert!(
        history.contains("admin"),
        "the start was asked by admin: {history}"
    );
    let trade = "#open-trades tbody tr td:nth-child(2)";
    wait_for_text(client, trade, "BTC/USDT", Duration::from_secs(10)).await;
    assert!(
        !text(client, "#bot-equity-empty").await.is_empty(),
        "no curve before a trade closes"
    );
    let log = text(client, "#bot-log").await;
    assert!(log.contains("freqtrade"), "the log's tail: {log}");
    screenshot(client, "bot-open").await;

    click(client, "#open-trades button[data-close-trade]").await;
    wait_for_text(client, "#closed-total", "1", Duration::from_secs(120)).await;
    let closed = text(client, "#closed-trades tbody tr td:nth-child(2)").await;
    assert_eq!(closed, "BTC/USDT");
    for chart in ["#bot-equity svg", "#bot-daily svg rect"] {
        client
            .find(Locator::Css(chart))
            .await
            .unwrap_or_else(|e| panic!("{chart} drawn: {e}"));
    }
    assert_not_reloaded(client).await;
    screenshot(client, "bot-closed").await;
}

#[tokio::test]
async fn fragments_need_a_current_token_and_show_buttons_to_admins_only() {
    let app = TestApp::spawn().await;
    let exchange = crate::graphql_bots::create_exchange(&app).await;
    let strategy = crate::bot_lifecycle::strategy(&app, "always", ALWAYS_ENTER).await;
    // A token under a name the domain lets through: its page hides it.
    let config = json!({ "config": {
        "pairs": ["BTC/USDT"], "stakeAmount": "100", "maxOpenTrades": 1,
        "extra": { "telegram": { "enabled": false, "token": "123:planted-token" } },
    }});
    let bot = crate::bot_lifecycle::create_bot(&app, "escaped", &exchange, &strategy, config).await;
    let get = |token: Option<String>| {
        let url = format!("http://{}/ui/fleet", app.address);
        async move {
            let mut request = reqwest::Client::new().get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("GET /ui/fleet");
            let status = response.status().as_u16();
            let policy = response
                .headers()
                .get("content-security-policy")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            (status, policy, response.text().await.expect("body"))
        }
    };
    let (status, policy, _) = get(None).await;
    assert_eq!(status, 401);
    assert!(policy.is_some(), "refusals carry the policy too");
    let (status, _, _) = get(Some("not-a-token".into())).await;
    assert_eq!(status, 401);

    let (status, _, admin) = get(Some(app.admin.clone())).await;
    assert_eq!(status, 200, "{admin}");
    assert!(admin.contains("always v1"), "{admin}");
    assert!(admin.contains("data-action=\"stopBot\""), "{admin}");
    let (status, _, viewer) = get(Some(app.viewer.clone())).await;
    assert_eq!(status, 200);
    assert!(
        viewer.contains("escaped") && !viewer.contains("data-action"),
        "{viewer}"
    );

    // A bot's page: a viewer gets no log and no Close buttons; nobody sees the token.
    let page = |token: &str| {
        let url = format!("http://{}/ui/bots/{bot}", app.address);
        let token = token.to_owned();
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("GET /ui/bots/ID");
            assert_eq!(response.status().as_u16(), 200);
            response.text().await.expect("body")
        }
    };
    let (admin_page, viewer_page) = (page(&app.admin).await, page(&app.viewer).await);
    for html in [&admin_page, &viewer_page] {
        assert!(!html.contains("planted-token"), "{html}");
        assert!(html.contains("(hidden)"), "{html}");
    }
    assert!(
        viewer_page.contains("The log is shown to admins."),
        "{viewer_page}"
    );
    assert!(
        !admin_page.contains("The log is shown to admins."),
        "{admin_page}"
    );
    let missing = reqwest::Client::new()
        .get(format!(
            "http://{}/ui/bots/{}",
            app.address,
            uuid::Uuid::nil()
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("GET an unknown bot");
    assert_eq!(missing.status().as_u16(), 404);

    // A logged-out token gets nothing more.
    let logout = reqwest::Client::new()
        .post(format!("http://{}/auth/logout", app.address))
        .bearer_auth(&app.viewer)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status().as_u16(), 204);
    let (status, _, _) = get(Some(app.viewer.clone())).await;
    assert_eq!(status, 401);
}
