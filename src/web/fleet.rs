//! The fleet page: every bot in one table with its health and trades, and totals
//! across the fleet. Read in four queries whatever the fleet's size (bots, their
//! health, their trades summed per bot, strategy names), rendered on the server.

use std::collections::{BTreeMap, HashMap};

use anytrade_aggregates::BotStatus;
use anytrade_aggregates::values::BotId;
use anytrade_projections::bot_health::{self, HealthStatus};
use anytrade_projections::bots::{self, BotRow};
use anytrade_projections::{strategies, trades};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{WebState, choices, current, render, unavailable};
use crate::auth::{Principal, Role};

/// One bot as the table shows it; statuses as the API spells them.
pub struct FleetRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub error: Option<String>,
    pub health: &'static str,
    pub mode: String,
    pub runtime: String,
    pub strategy: String,
    pub version: i32,
    pub open_trades: i64,
    pub closed_profit: f64,
    pub open_profit: f64,
    /// RFC 3339, or empty before the first health check.
    pub last_seen: String,
    /// Failed health checks in a row.
    pub failures: i32,
}

/// Sums across the fleet.
#[derive(Default)]
pub struct Totals {
    pub bots: usize,
    /// Bots by status, in the lifecycle's order.
    pub by_status: Vec<(String, usize)>,
    pub open_trades: i64,
    pub closed_profit: f64,
    pub open_profit: f64,
}

#[derive(Template)]
#[template(path = "web/fleet.html")]
pub struct FleetPage {
    pub rows: Vec<FleetRow>,
    pub totals: Totals,
    /// Admins get the lifecycle buttons and the form for a new bot.
    pub admin: bool,
    /// (id, name) of the exchanges and strategies a new bot may use, by name.
    pub exchanges: Vec<(String, String)>,
    pub strategies: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "web/fleet_row.html")]
struct FleetRowFragment {
    row: FleetRow,
    admin: bool,
}

/// `GET /ui/fleet`.
pub async fn page(State(state): State<WebState>, principal: Principal) -> Response {
    let principal = match current(&state, principal).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    let admin = principal.role == Role::Admin;
    let page = async {
        let rows = fleet(&state, None).await?;
        let (exchanges, strategies) = if admin {
            choices(&state).await?
        } else {
            Default::default()
        };
        Ok::<_, sqlx::Error>(FleetPage {
            totals: totals(&rows),
            rows,
            admin,
            exchanges,
            strategies,
        })
    };
    match page.await {
        Ok(page) => render(&page),
        Err(e) => unavailable(e),
    }
}

/// `GET /ui/fleet/bots/{id}`: one row, to replace after a bot's trades changed.
pub async fn row(
    State(state): State<WebState>,
    principal: Principal,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    let principal = match current(&state, principal).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    match fleet(&state, Some(BotId::from(id))).await {
        Ok(mut rows) => match rows.pop() {
            Some(row) => render(&FleetRowFragment {
                row,
                admin: principal.role == Role::Admin,
            }),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(e) => unavailable(e),
    }
}

/// The rows of every bot, or of `only` that one.
async fn fleet(state: &WebState, only: Option<BotId>) -> sqlx::Result<Vec<FleetRow>> {
    let bots: Vec<BotRow> = match only {
        Some(id) => bots::get(&state.pool, id).await?.into_iter().collect(),
        None => bots::all(&state.pool).await?,
    };
    rows(state, bots, only).await
}

/// The rows of `bots`, which are every bot or `only` that one.
pub(super) async fn rows(
    state: &WebState,
    bots: Vec<BotRow>,
    only: Option<BotId>,
) -> sqlx::Result<Vec<FleetRow>> {
    let ids: Vec<BotId> = bots.iter().map(|bot| bot.id).collect();
    let health = bot_health::by_bots(&state.pool, &ids).await?;
    let traded = trades::by_bot(&state.pool, only).await?;
    let mut strategy_ids: Vec<uuid::Uuid> = bots.iter().map(|bot| bot.strategy_id).collect();
    strategy_ids.sort_unstable();
    strategy_ids.dedup();
    let names = strategies::names_of(&state.pool, &strategy_ids).await?;
    let now = Utc::now();
    Ok(bots
        .into_iter()
        .map(|bot| {
            let seen = health.get(&bot.id);
            let judged = HealthStatus::judge(bot.status, seen, state.unhealthy_after, now);
            let sums = traded.get(&bot.id).copied().unwrap_or_default();
            FleetRow {
                id: bot.id.to_string(),
                error: bot.error_message.filter(|_| bot.status == BotStatus::Error),
                status: upper(bot.status.as_str()),
                health: health_label(judged),
                mode: upper(bot.mode.as_str()),
                runtime: upper(bot.runtime.unwrap_or(state.default_runtime).as_str()),
                strategy: names.get(&bot.strategy_id).cloned().unwrap_or_default(),
                version: bot.strategy_version,
                open_trades: sums.open_trades,
                closed_profit: sums.closed_profit,
                open_profit: sums.open_profit,
                last_seen: seen
                    .and_then(|h| h.last_seen_at)
                    .map(rfc3339)
                    .unwrap_or_default(),
                failures: seen.map_or(0, |h| h.consecutive_failures),
                name: bot.name,
            }
        })
        .collect())
}

fn totals(rows: &[FleetRow]) -> Totals {
    let mut by_status: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    let order: HashMap<String, usize> = BotStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, status)| (upper(status.as_str()), i))
        .collect();
    let mut totals = Totals {
        bots: rows.len(),
        ..Totals::default()
    };
    for row in rows {
        let rank = order.get(&row.status).copied().unwrap_or(usize::MAX);
        by_status
            .entry(rank)
            .or_insert_with(|| (row.status.clone(), 0))
            .1 += 1;
        totals.open_trades += row.open_trades;
        totals.closed_profit += row.closed_profit;
        totals.open_profit += row.open_profit;
    }
    totals.by_status = by_status.into_values().collect();
    totals
}

/// As the API's enums spell it (`dry_run` → `DRY_RUN`), so live updates match.
pub(super) fn upper(text: &str) -> String {
    text.to_ascii_uppercase()
}

pub(super) fn health_label(health: HealthStatus) -> &'static str {
    match health {
        HealthStatus::Healthy => "HEALTHY",
        HealthStatus::Unhealthy => "UNHEALTHY",
        HealthStatus::Unknown => "UNKNOWN",
    }
}

pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, status: &str, closed: f64) -> FleetRow {
        FleetRow {
            id: uuid::Uuid::nil().to_string(),
            name: name.to_owned(),
            status: status.to_owned(),
            error: Some("<b>freqtrade said</b> & more".to_owned()),
            health: "UNKNOWN",
            mode: "DRY_RUN".to_owned(),
            runtime: "LOCAL".to_owned(),
            strategy: "s\"><script>".to_owned(),
            version: 2,
            open_trades: 1,
            closed_profit: closed,
            open_profit: 0.5,
            last_seen: String::new(),
            failures: 0,
        }
    }

    #[test]
    fn the_page_escapes_what_it_shows_and_sums_the_fleet() {
        let rows = vec![
            row("<script>alert(1)</script>", "ERROR", 1.25),
            row("b", "RUNNING", 2.0),
            row("c", "RUNNING", -0.25),
        ];
        let totals = totals(&rows);
        assert_eq!(totals.bots, 3);
        assert_eq!(totals.open_trades, 3);
        assert_eq!(totals.closed_profit, 3.0);
        // In the lifecycle's order: RUNNING before ERROR.
        assert_eq!(
            totals.by_status,
            [("RUNNING".to_owned(), 2), ("ERROR".to_owned(), 1)]
        );
        let html = FleetPage {
            rows,
            totals,
            admin: false,
            exchanges: Vec::new(),
            strategies: Vec::new(),
        }
        .render()
        .expect("renders");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(!html.contains("data-action"), "viewers get no buttons");
        assert!(html.contains(">3.00<"), "{html}");
    }
}
