//! Serves the API with the limits `axum::serve` leaves out. An outside probe held 200
//! requests dripping their headers open for minutes, and about 20,000 idle sockets ran
//! the service out of file descriptors: here a new connection's first request head must
//! arrive within [`ConnectionLimits::header_timeout`], and at most
//! [`ConnectionLimits::max_connections`] connections are served at once (the rest wait
//! in the listen queue). A connection upgraded to a WebSocket keeps its slot for as long
//! as the socket lasts ([`ConnectionSlot`]).

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// What one client may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// A connection's place among the [`ConnectionLimits::max_connections`], in each of its
/// requests' extensions: a WebSocket upgrade takes it along, since the socket outlives
/// the HTTP connection that made it.
#[derive(Clone, Default)]
pub struct ConnectionSlot(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl ConnectionSlot {
    /// The slot, for whoever holds the connection on (once; `None` after).
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().ok()?.take()
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Dropping `stop` tells the connections to finish; `open` counts them.
    let (stop, stopping) = watch::channel(());
    let (open, all_closed) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let held = ConnectionSlot(Arc::new(Mutex::new(Some(slot))));
        let carried = held.clone();
        let service = router
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(carried.clone());
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service);
        let mut stopping = stopping.clone();
        let open = open.subscribe();
        tokio::spawn(async move {
            // Held until the connection ends (unless a WebSocket took the slot): its
            // slot, and its place in the count.
            let _held = (held, open);
            // hyper's head timeout starts with the first byte: a client that sends
            // nothing at all is closed here.
            let mut byte = [0u8; 1];
            let first_byte = tokio::time::timeout(limits.header_timeout, stream.peek(&mut byte));
            if !matches!(first_byte.await, Ok(Ok(1))) {
                return;
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    drop(stop);
    drop(stopping);
    // Every connection task holds a receiver of `open`'s channel.
    drop(all_closed);
    open.closed().await;
}
