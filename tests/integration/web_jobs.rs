//! Backtests and hyperopts in the dashboard, in a real browser against real freqtrade
//! on the sandbox: started from the page's form; a backtest's page draws its equity
//! curve, two backtests side by side share one chart, the hyperopt's progress bar
//! advances live and ends at 100 with the best parameters and each epoch's loss shown.

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::app::ADMIN_PASSWORD;
use crate::bot_lifecycle::{PROVISION_WITHIN, managing_app, strategy};
use crate::helpers::poll_until;
use crate::sandbox::ALWAYS_ENTER;

/// Two buy parameters with 900 combinations: a search long enough to report progress
/// before it ends.
const WIDE: &str = r#"
from freqtrade.strategy import IStrategy, IntParameter


class Wide(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.10
    buy_every = IntParameter(1, 30, default=2, space="buy")
    buy_offset = IntParameter(0, 29, default=0, space="buy")

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        every = self.buy_every.value
        dataframe["enter_long"] = ((dataframe.index + self.buy_offset.value) % every == 0).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = 0
        return dataframe
"#;
use crate::web_fleet::{
    assert_not_reloaded, browser, click, count, form_field, go, log_in, mark_page, screenshot,
    text, wait_for_text,
};

/// Fills the new-job form and runs it; the page moves to the job's own.
async fn run_job(client: &Client, kind: &str, strategy: &str, epochs: Option<u32>) {
    go(client, "#/jobs").await;
    client
        .wait()
        .for_element(Locator::Css("#new-job summary"))
        .await
        .expect("the new-job form");
    click(client, "#new-job summary").await;
    let field = |name: &'static str| form_field(client, "#run-job", name);
    field("kind")
        .await
        .select_by_value(kind)
        .await
        .expect("pick the kind");
    field("strategyId")
        .await
        .select_by_value(strategy)
        .await
        .expect("pick the strategy");
    if let Some(epochs) = epochs {
        let input = field("epochs").await;
        input.clear().await.expect("clear");
        input
            .send_keys(&epochs.to_string())
            .await
            .expect("type epochs");
    }
    click(client, "#run-job button[type=submit]").await;
    let page = if kind == "backtest" {
        "#backtest"
    } else {
        "#hyperopt"
    };
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(page))
        .await
        .unwrap_or_else(|e| panic!("the {kind}'s page: {e}"));
}

/// The most points of a line drawn in the chart `css` (its polylines' or paths').
async fn chart_points(client: &Client, css: &str) -> i64 {
    let script = format!(
        "const lines = [...document.querySelectorAll('{css} svg polyline, {css} svg path')];
         const counts = lines.map((line) =>
           (line.getAttribute('points') ?? line.getAttribute('d') ?? '').trim().split(/\\s+/).length);
         return Math.max(0, ...counts);"
    );
    let points = client
        .execute(&script, vec![])
        .await
        .expect("read the chart");
    serde_json::from_value(points).expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backtest_draws_its_equity_curve_and_a_hyperopts_bar_runs_to_100() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let app = managing_app(data.path(), |settings| {
        settings.sandbox.enabled = true;
        settings.sandbox.listen = Some("127.0.0.1:0".parse().expect("address"));
        settings.jobs.poll_interval_ms = 500;
    })
    .await;
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let wide = strategy(&app, "wide", WIDE).await;
    log_in(&client, &app, "admin", ADMIN_PASSWORD).await;

    run_job(&client, "backtest", &always, None).await;
    wait_for_text(&client, "#job-status", "COMPLETED", PROVISION_WITHIN).await;
    let points = chart_points(&client, "#equity").await;
    assert!(points > 10, "the equity curve has {points} points");
    assert_eq!(
        count(&client, "#summary-of .per-pair tbody tr").await,
        2,
        "BTC/USDT and ETH/USDT"
    );
    screenshot(&client, "backtest").await;
    let first = client
        .find(Locator::Css("#backtest"))
        .await
        .expect("the backtest")
        .attr("data-job")
        .await
        .expect("its id")
        .expect("an id");

    // A second backtest, side by side with the first: both curves on one chart.
    run_job(&client, "backtest", &wide, None).await;
    wait_for_text(&client, "#job-status", "COMPLETED", PROVISION_WITHIN).await;
    form_field(&client, "#compare-with", "b")
        .await
        .select_by_value(&first)
        .await
        .expect("pick the first backtest");
    click(&client, "#compare-with button[type=submit]").await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#compare"))
        .await
        .expect("the comparison");
    assert_eq!(
        count(&client, "#compare-equity svg polyline").await,
        3,
        "the zero line and two curves"
    );
    for side in ["#compare-left", "#compare-right"] {
        assert_eq!(
            count(&client, &format!("{side} .per-pair tbody tr")).await,
            2,
            "{side}: BTC/USDT and ETH/USDT"
        );
    }
    let left = text(&client, "#compare-left h2 a").await;
    assert!(
        left.starts_with("wide"),
        "the page's backtest on the left: {left}"
    );
    screenshot(&client, "compare").await;

    run_job(&client, "hyperopt", &wide, Some(40)).await;
    mark_page(&client).await;
    let seen = std::sync::Mutex::new(Vec::new());
    poll_until(PROVISION_WITHIN, Duration::from_millis(100), || {
        let seen = &seen;
        let client = &client;
        async move {
            let value: f64 = client
                .execute(
                    "return Number(document.querySelector('#hyperopt-progress')?.value ?? -1);",
                    vec![],
                )
                .await
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))?;
            if let Ok(mut seen) = seen.lock()
                && seen.last() != Some(&value)
            {
                seen.push(value);
            }
            let status = text(client, "#job-status").await;
            if status == "COMPLETED" && value == 100.0 {
                Ok(())
            } else {
                assert_ne!(status, "FAILED", "the hyperopt failed");
                Err(format!("{status} at {value}"))
            }
        }
    })
    .await;
    let seen = seen.into_inner().expect("values seen");
    assert!(
        seen.iter().any(|v| *v > 0.0 && *v < 100.0),
        "the bar only jumped: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&100.0), "{seen:?}");
    assert_not_reloaded(&client).await;
    // Once done, the page shows the best parameters found.
    wait_for_text(
        &client,
        "#best-params tbody td",
        "buy_every",
        Duration::from_secs(10),
    )
    .await;
    let epochs = chart_points(&client, "#hyperopt-losses").await;
    assert!(epochs >= 10, "the loss chart has {epochs} epochs");
    screenshot(&client, "hyperopt").await;
    client
        .goto(&format!("http://{}/#/jobs", app.address))
        .await
        .expect("jobs");
    client
        .wait()
        .for_element(Locator::Css("#backtests tbody tr"))
        .await
        .expect("the lists");
    screenshot(&client, "jobs").await;
    client.close().await.expect("close the browser");
}
