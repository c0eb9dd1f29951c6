//! The dashboard benchmark's live part: one open fleet page's WebSocket while bots
//! change status at a fixed rate (see the top of `web.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anytrade::hub::Hub;
use anytrade::store::{CommandMetadata, Commands};
use anytrade_aggregates::BotCommand;
use anytrade_aggregates::values::BotId;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::common::{Socket, graphql_socket};

/// The subscriptions the fleet page opens, as `app.js` writes them.
const PAGE: [(&str, &str); 2] = [
    (
        "status",
        "subscription { botStatusChanged { id status healthStatus lastSeenAt } }",
    ),
    ("trades", "subscription { botTrades { botId } }"),
];

/// The lifecycle a bot is driven round: each command and the status it leads to.
fn step(n: usize, bot: BotId) -> (BotCommand, &'static str) {
    let runtime_id = format!("bench-{bot}");
    match n % 4 {
        0 => (BotCommand::StartBot, "STARTING"),
        1 => (
            BotCommand::ConfirmBotStarted {
                runtime_id,
                api_url: "http://127.0.0.1:1".into(),
            },
            "RUNNING",
        ),
        2 => (BotCommand::StopBot, "STOPPING"),
        _ => (BotCommand::ConfirmBotStopped, "STOPPED"),
    }
}

/// What the page was sent: (bot, status) → when its command was issued.
type Issued = Arc<Mutex<HashMap<(String, String), Instant>>>;

/// Issues `rate` status changes a second for `seconds` (open loop, each command its own
/// task at its slot) to `bots` in turn while one page's socket listens, then prints the
/// issue-to-page latency against the commands' own.
pub async fn run(
    commands: &Arc<Commands>,
    hub: &Hub,
    base: &str,
    token: &str,
    bots: &[BotId],
    rate: f64,
    seconds: u64,
) {
    let meta = CommandMetadata::issued_by("bench:web-live");
    // From CREATING to STOPPED, where the lifecycle starts.
    for bot in bots {
        let provisioned = BotCommand::ConfirmBotProvisioned {
            runtime_id: format!("bench-{bot}"),
        };
        commands
            .bots
            .execute(bot, provisioned, &meta)
            .await
            .expect("provisioned");
    }
    let mut socket = page_socket(base, token).await;
    let waited = Instant::now();
    while hub.subscribers() < PAGE.len() {
        assert!(waited.elapsed() < Duration::from_secs(10), "no subscribers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let issued: Issued = Arc::default();
    let total = (rate * seconds as f64) as usize;
    let expected = Arc::new(AtomicUsize::new(usize::MAX));
    let reader = {
        let (issued, expected) = (issued.clone(), expected.clone());
        tokio::spawn(async move {
            let mut latencies: Vec<(Instant, Duration)> = Vec::with_capacity(total);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds + 30);
            // Until every change that was carried out has arrived (the count is known
            // once the last command returned), or the deadline.
            while latencies.len() < expected.load(Ordering::Relaxed) {
                let message = tokio::select! {
                    message = socket.next() => message,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    _ = tokio::time::sleep_until(deadline) => break,
                };
                let arrived = Instant::now();
                let Some(Ok(Message::Text(text))) = message else {
                    continue;
                };
                let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
                let bot = &frame["payload"]["data"]["botStatusChanged"];
                let (Some(id), Some(status)) = (bot["id"].as_str(), bot["status"].as_str()) else {
                    continue;
                };
                let key = (id.to_owned(), status.to_owned());
                if let Some(at) = issued.lock().expect("issued").remove(&key) {
                    latencies.push((at, arrived - at));
                }
            }
            latencies
        })
    };

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        let slot = started + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(slot.into()).await;
        let bot = bots[n % bots.len()];
        let (command, status) = step(n / bots.len(), bot);
        issued
            .lock()
            .expect("issued")
            .insert((bot.to_string(), status.to_owned()), Instant::now());
        let (commands, meta) = (commands.clone(), meta.clone());
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            // Refused when the bot's previous step has not landed yet (a slow command
            // in the open loop): counted, not fatal.
            let done = commands.bots.execute(&bot, command, &meta).await;
            (at.elapsed(), done.is_ok())
        }));
    }
    let offered = started.elapsed();
    let mut own = Vec::with_capacity(total);
    let mut refused = 0;
    for task in tasks {
        let (took, done) = task.await.expect("command task");
        own.push(took);
        refused += usize::from(!done);
    }
    expected.store(total - refused, Ordering::Relaxed);
    let latencies = reader.await.expect("reader");

    let quarter = |from: f64, to: f64| {
        let (from, to) = (
            started + offered.mul_f64(from),
            started + offered.mul_f64(to),
        );
        latencies
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, took)| *took)
            .collect::<Vec<_>>()
    };
    let all: Vec<Duration> = latencies.iter().map(|(_, took)| *took).collect();
    let (own50, own95, own_max) = super::quantiles(own);
    println!();
    println!(
        "Live: one page's WebSocket ({} subscriptions), {rate} status changes a second \
         for {seconds} s over {} bots ({total} changes, issued in {:.1} s)\n",
        PAGE.len(),
        bots.len(),
        offered.as_secs_f64()
    );
    println!("| measured | count | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    println!(
        "| the command alone (floor; {refused} refused) | {total} | {own50:.2} | {own95:.2} | {own_max:.2} |"
    );
    let expected = total - refused;
    if all.is_empty() {
        println!("| issued → on the page | 0 of {expected} | – | – | – |");
        return;
    }
    let (l50, l95, lmax) = super::quantiles(all.clone());
    println!(
        "| issued → on the page | {} of {expected} | {l50:.2} | {l95:.2} | {lmax:.2} |",
        all.len()
    );
    let first = quarter(0.0, 0.25);
    let last = quarter(0.75, 1.01);
    if !first.is_empty() && !last.is_empty() {
        let (f50, f95, _) = super::quantiles(first);
        let (t50, t95, _) = super::quantiles(last);
        println!(
            "| … issued in the first quarter | | {f50:.2} | {f95:.2} | |\n\
             | … issued in the last quarter | | {t50:.2} | {t95:.2} | |"
        );
    }
    println!();
    println!(
        "page latency p50 {:.1} × the command's; every change reached the page: {}",
        l50 / own50.max(0.001),
        if all.len() == expected { "yes" } else { "NO" }
    );
}

/// A WebSocket as the page opens it: the token in `connection_init`, then the page's
/// subscriptions.
async fn page_socket(base: &str, token: &str) -> Socket {
    let address = base.trim_start_matches("http://");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut socket = graphql_socket(address, token, deadline)
        .await
        .expect("the page's socket");
    for (id, query) in PAGE {
        let subscribe = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("subscribe");
    }
    socket
}
