//! One subscription WebSocket: async-graphql speaks the protocol; this adds what the
//! graphql-transport-ws protocol asks of a server and async-graphql 7.2 leaves out. A
//! client that does not send `connection_init` within [`INIT_TIMEOUT`] is closed with
//! 4408 (an outside probe kept 1,000 such sockets open for minutes), a refused
//! `connection_init` closes with 4403, and a `subscribe` before one with 4401.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};

use crate::auth::{CurrentUsers, TokenKeys, authenticate_connection_init};

use super::{AnyTradeSchema, context};

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the handshake stands.
const WAITING: u8 = 0;
const ACCEPTED: u8 = 1;
const REFUSED: u8 = 2;

pub(super) async fn serve(
    socket: WebSocket,
    schema: AnyTradeSchema,
    protocol: GraphQLProtocol,
    keys: TokenKeys,
    users: Arc<CurrentUsers>,
) {
    let (mut to_client, from_client) = socket.split();
    // async-graphql writes into this channel; the loop below forwards to the client,
    // so it can also close the socket itself.
    let (replies, mut outgoing) = futures::channel::mpsc::channel::<Message>(16);
    let handshake = Arc::new(AtomicU8::new(WAITING));
    let init = handshake.clone();
    let session = GraphQLWebSocket::new_with_pair(replies, from_client, schema, protocol)
        .on_connection_init(move |payload| async move {
            let principal = match authenticate_connection_init(&payload, &keys) {
                Ok(principal) => users.current(&principal).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match principal {
                Ok(principal) => {
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
