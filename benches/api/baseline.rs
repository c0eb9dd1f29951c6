//! The physical limit of subscription fan-out on this machine: a minimal axum WebSocket
//! server that sends the same pre-serialized frame to every connected client, with no
//! GraphQL, no database and no per-client work beyond the send. AnyTrade's deliveries
//! per second are reported as a share of what this server manages in the same run.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use serde_json::json;
use tokio::sync::broadcast;

/// Frames buffered per client before it counts as lagging (as the service's hub).
const CAPACITY: usize = 4096;

pub struct Baseline {
    pub address: SocketAddr,
    frames: broadcast::Sender<Utf8Bytes>,
}

impl Baseline {
    /// Serves `/ws` on a loopback port, on the calling runtime.
    pub async fn start() -> Self {
        let (frames, _) = broadcast::channel(CAPACITY);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the baseline");
        let address = listener.local_addr().expect("baseline address");
        let app = Router::new()
            .route("/ws", get(upgrade))
            .with_state(frames.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, frames }
    }

    pub fn clients(&self) -> usize {
        self.frames.receiver_count()
    }

    /// One frame, serialized once, shaped like the service's `next` message for the
    /// benchmark's `events` subscription and stamped with the time it is sent.
    pub fn publish(&self, position: i64) {
        let frame = json!({ "id": "1", "type": "next", "payload": { "data": { "events": {
            "position": position, "committedAt": Utc::now() } } } });
        let _ = self.frames.send(Utf8Bytes::from(frame.to_string()));
    }
}

async fn upgrade(
    State(frames): State<broadcast::Sender<Utf8Bytes>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The same small read buffer as the service's subscription socket.
    upgrade
        .read_buffer_size(4 * 1024)
        .on_upgrade(move |socket| send_all(socket, frames.subscribe()))
}

/// Sends every frame to one client; one that lags loses the frames it missed.
async fn send_all(mut socket: WebSocket, mut frames: broadcast::Receiver<Utf8Bytes>) {
    loop {
        match frames.recv().await {
            Ok(frame) => {
                if socket.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
