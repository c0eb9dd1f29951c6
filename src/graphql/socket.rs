//! One subscription WebSocket: async-graphql speaks the protocol; this adds what the
//! graphql-transport-ws protocol asks of a server and async-graphql 7.2 leaves out. A
//! client that does not send `connection_init` within [`INIT_TIMEOUT`] is closed with
//! 4408 (an outside probe kept 1,000 such sockets open for minutes), a refused
//! `connection_init` closes with 4403, and a `subscribe` before one with 4401.
//!
//! A socket lasts as long as its token is good: every [`RECHECK_AFTER`] the token's
//! expiry and its user are checked again, and a socket whose token has expired or whose
//! user is gone is closed with 4403 (an outside probe saw subscriptions stream on after
//! both). A database outage meanwhile closes nothing.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};

use crate::auth::current::RECHECK_AFTER;
use crate::auth::{
    AuthError, CheckError, CurrentUsers, Principal, TokenKeys, authenticate_connection_init,
};

use super::context;
use super::gate::Gate;

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the handshake stands.
const WAITING: u8 = 0;
const ACCEPTED: u8 = 1;
const REFUSED: u8 = 2;

pub(super) async fn serve(
    socket: WebSocket,
    gate: Gate,
    protocol: GraphQLProtocol,
    keys: TokenKeys,
    users: Arc<CurrentUsers>,
) {
    let _counted = crate::metrics::Subscriber::connected();
    let (mut to_client, from_client) = socket.split();
    // async-graphql writes into this channel; the loop below forwards to the client,
    // so it can also close the socket itself.
    let (replies, mut outgoing) = futures::channel::mpsc::channel::<Message>(16);
    let handshake = Arc::new(AtomicU8::new(WAITING));
    let init = handshake.clone();
    // Who the socket was accepted for, checked again as it runs.
    let holder: Arc<Mutex<Option<Principal>>> = Arc::default();
    let accepted = holder.clone();
    let checker = users.clone();
    let session = GraphQLWebSocket::new_with_pair(replies, from_client, gate, protocol)
        .on_connection_init(move |payload| async move {
            let principal = match authenticate_connection_init(&payload, &keys) {
                Ok(principal) => users.current(&principal).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match principal {
                Ok(principal) => {
                    if let Ok(mut holder) = accepted.lock() {
                        *holder = Some(principal.clone());
                    }
                    init.store(ACCEPTED, Ordering::SeqCst);
                    let mut data = Data::default();
                    data.insert::<context::Authentication>(Ok(principal));
                    Ok(data)
                }
                Err(reason) => {
                    init.store(REFUSED, Ordering::SeqCst);
                    Err(async_graphql::Error::new(reason))
                }
            }
        })
        .serve();
    let forward = async {
        let deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(deadline);
        let mut recheck = tokio::time::interval(RECHECK_AFTER);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let message = tokio::select! {
                message = outgoing.next() => match message {
                    Some(message) => message,
                    None => return,
                },
                _ = &mut deadline, if handshake.load(Ordering::SeqCst) == WAITING => {
                    close(&mut to_client, 4408, "Connection initialisation timeout").await;
                    return;
                }
                _ = recheck.tick(), if handshake.load(Ordering::SeqCst) == ACCEPTED => {
                    let principal = holder.lock().ok().and_then(|p| p.clone());
                    if let Some(reason) = revoked(principal, &checker).await {
                        close(&mut to_client, 4403, reason).await;
                        return;
                    }
                    continue;
                }
            };
            let message = match message {
                Message::Close(Some(frame)) => {
                    Message::Close(Some(closing(frame, handshake.load(Ordering::SeqCst))))
                }
                other => other,
            };
            if to_client.send(message).await.is_err() {
                return;
            }
        }
    };
    tokio::pin!(session, forward);
    tokio::select! {
        // The session has ended and dropped its end of the channel: what it said last
        // (a close frame, often) still goes out.
        _ = &mut session => forward.await,
        // Closed here (the handshake timed out) or by the client.
        _ = &mut forward => {}
    }
}

/// Why the socket's token no longer stands for anyone, if it does not.
async fn revoked(principal: Option<Principal>, users: &CurrentUsers) -> Option<&'static str> {
    let principal = principal?;
    if principal.has_expired() {
        return Some("the token has expired");
    }
    match users.current(&principal).await {
        Err(CheckError::Auth(AuthError::Revoked)) => Some("the token's user no longer exists"),
        Err(CheckError::Auth(_)) => Some("the token is no longer valid"),
        // The database is away: the next check decides.
        Err(CheckError::Database(_)) | Ok(_) => None,
    }
}

/// The close code the protocol asks for where async-graphql sends a generic one.
fn closing(frame: CloseFrame, handshake: u8) -> CloseFrame {
    let code = match (frame.code, handshake) {
        (1002, REFUSED) => 4403,
        (1011, WAITING) => 4401,
        (code, _) => code,
    };
    CloseFrame {
        code,
        reason: frame.reason,
    }
}

async fn close<S>(to_client: &mut S, code: u16, reason: &'static str)
where
    S: futures::Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = to_client.send(Message::Close(Some(frame))).await;
}
