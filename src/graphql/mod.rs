//! The GraphQL API at `/graphql` (queries and mutations over HTTP, subscriptions over
//! WebSocket at `/graphql/ws`, GraphiQL in a browser at `GET /graphql`).
//!
//! One module per entity (`exchanges.rs`, …) holds its types, queries and mutations;
//! the roots merge them. Mutations send commands, wait until the read models show the
//! result, and answer from the read models.

mod analytics;
mod audit;
mod bots;
mod context;
mod error_codes;
mod errors;
mod events;
mod exchanges;
mod gate;
mod guard;
mod jobs;
mod limits;
mod live;
mod loaders;
mod nul_input;
mod pagination;
mod request;
mod socket;
mod strategies;
mod trades;
mod users;

pub use jobs::BacktestSummary;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};
use async_graphql_axum::GraphQLProtocol;
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::auth::TokenKeys;

pub use context::ApiContext;
pub use request::{BODY_TIMEOUT, MAX_BODY};
pub use socket::INIT_TIMEOUT;

#[derive(MergedObject, Default)]
pub struct Query(
    analytics::AnalyticsQuery,
    audit::AuditQuery,
    bots::BotQuery,
    events::EventQuery,
    exchanges::ExchangeQuery,
    jobs::JobQuery,
    strategies::StrategyQuery,
    trades::TradeQuery,
    users::UserQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    bots::BotMutation,
    exchanges::ExchangeMutation,
    jobs::JobMutation,
    strategies::StrategyMutation,
    trades::TradeMutation,
    users::UserMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(events::EventSubscription, live::LiveSubscription);

pub type AnyTradeSchema = Schema<Query, Mutation, Subscription>;

/// Bytes read from a WebSocket at a time. Clients send only small control messages,
/// and tungstenite zero-fills this buffer on each read: its 128 KiB default cost 14 % of
/// the service's CPU with 1,000 subscribers (docs/benchmarks.md).
const WS_READ_BUFFER: usize = 4 * 1024;

/// The largest WebSocket message accepted: clients send control messages and
/// subscription requests, never bulk data.
const WS_MAX_MESSAGE: usize = 256 * 1024;

/// The schema, limited in depth and complexity (`limits`); with `api`, able to
/// answer (without, only to describe itself).
pub fn schema(api: Option<ApiContext>) -> AnyTradeSchema {
    let builder = builder()
        .limit_depth(limits::MAX_DEPTH)
        .limit_complexity(limits::MAX_COMPLEXITY);
    match api {
        Some(api) => builder
            .data(loader(strategies::VersionsLoader(api.pool.clone())))
            .data(loader(loaders::ExchangeLoader(api.pool.clone())))
            .data(loader(loaders::StrategyLoader(api.pool.clone())))
            .data(loader(loaders::BotsByStrategyLoader(api.pool.clone())))
            .data(loader(loaders::BotsByExchangeLoader(api.pool.clone())))
            .data(loader(loaders::BotHealthLoader(api.pool.clone())))
            .data(loader(loaders::TradeMarkLoader(api.pool.clone())))
            .data(loader(loaders::JobLogLoader(api.pool.clone())))
            .data(api)
            .finish(),
        None => builder.finish(),
    }
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

fn loader<T: Send + Sync + 'static>(load: T) -> DataLoader<T> {
    DataLoader::new(load, tokio::spawn)
}

#[derive(Clone)]
struct GraphqlState {
    gate: gate::Gate,
    keys: TokenKeys,
    availability: crate::db::Availability,
    users: Arc<crate::auth::CurrentUsers>,
}

/// Routes `/graphql`.
pub fn router(api: ApiContext, keys: TokenKeys) -> Router {
    let (availability, users) = (api.availability.clone(), api.users.clone());
    // Operations that only introspect need no data, and no depth limit (`limits`).
    let introspection = builder().finish();
    let state = GraphqlState {
        gate: gate::Gate::new(schema(Some(api)), introspection, users.clone()),
        availability,
        users,
        keys,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(request::execute))
        .route("/graphql/ws", get(subscribe))
        .with_state(state)
}

/// Subscriptions over `graphql-transport-ws` (and the legacy `graphql-ws`); the token
/// comes in `connection_init`, and a connection without a valid one is refused
/// (`socket`).
async fn subscribe(
    State(state): State<GraphqlState>,
    slot: Option<axum::Extension<crate::server::ConnectionSlot>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The socket counts against the connection limit for as long as it lasts.
    let slot = slot.and_then(|axum::Extension(slot)| slot.take());
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            socket::serve(socket, state.gate, protocol, state.keys, state.users).await;
            drop(slot);
        })
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}
